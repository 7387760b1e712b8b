// Embeddings are stored beside their prediction, in the same transaction, as float16; provisional classes are part
// of a model's registration, and the unreviewed cells of such classes are counted for the differential.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseError, getModel, openDatabase } from '../../../src/main/db';
import { migrate } from '../../../src/main/db/migrate';
import { decodeFloat16, encodeFloat16 } from '../../../src/main/db/predictions';
import { ENGINES, type EngineName } from './engines';
import { FOUR_CLASSES, prediction, sha, tempDir, track } from './helpers';
import { addCase, addImages, storesForEngines } from './store-for-engine';

const stores = storesForEngines();

async function setUp(engine: EngineName, provisionalClasses = ['EBO' as const]) {
  const s = await stores.openReposFor(engine);
  const model = await s.models.registerModel({ modelId: 'm', version: '1', sha256: sha(77), name: 'm', classes: FOUR_CLASSES, provisionalClasses });
  const row = await addCase(s);
  const imageIds = await addImages(s, row.id, 4);
  await s.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
  return { s, model, caseId: row.id, imageIds };
}

describe('float16 encoding', () => {
  it('round-trips typical embedding values within half precision and keeps 0, sign and the extremes', () => {
    const values = Float32Array.from([0, -0, 1, -1, 0.3333, 2.5e-5, 6.1e-5, 12.75, 65504, -65504, 1e6, 2e-8]);
    const back = decodeFloat16(encodeFloat16(values));
    expect(encodeFloat16(values).length).toBe(2 * values.length);
    for (let i = 0; i < 10; i++) {
      const v = values[i]!;
      // half precision: 11 significant bits, subnormals below 6.1e-5 have an absolute step of 6e-8
      expect(Math.abs(back[i]! - v), `value ${v}`).toBeLessThanOrEqual(Math.max(Math.abs(v) * 2 ** -11, 6e-8));
    }
    expect(back[10]).toBe(Infinity);
    expect(back[11]).toBe(0);
    expect(Object.is(back[1], -0)).toBe(true);
  });
});

describe.each(ENGINES)('on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    describe('prediction embeddings', () => {
      it('stores the embedding and open-set score with the prediction and reads them back', async () => {
        const { s, model, caseId, imageIds } = await setUp(engine);
        const z = Float32Array.from({ length: 160 }, (_, i) => Math.sin(i) * 3);
        await s.predictions.insertPredictions(model.id, [
          { ...prediction(imageIds[0]!, 'BLA', 0.9), embedding: z, openSetScore: 12.5 },
          prediction(imageIds[1]!, 'LYT', 0.9),
        ]);
        const stored = await s.predictions.listEmbeddings(caseId, model.id);
        expect(stored).toHaveLength(1);
        expect(stored[0]!.imageId).toBe(imageIds[0]);
        expect(stored[0]!.openSetScore).toBe(12.5);
        expect(stored[0]!.embedding).toHaveLength(160);
        stored[0]!.embedding.forEach((v, i) => expect(Math.abs(v - z[i]!)).toBeLessThanOrEqual(Math.abs(z[i]!) * 2 ** -11 + 1e-7));
      });

      it('stores nothing of a batch when one embedding is invalid', async () => {
        const { s, model, caseId, imageIds } = await setUp(engine);
        const bad = Float32Array.from([1, Number.NaN]);
        await expect(
          s.predictions.insertPredictions(model.id, [
            { ...prediction(imageIds[0]!, 'BLA', 0.9), embedding: Float32Array.from([1, 2]) },
            { ...prediction(imageIds[1]!, 'LYT', 0.9), embedding: bad },
          ]),
        ).rejects.toThrow(/image \d+: the embedding .* not a finite number/);
        expect(await s.predictions.listPredictions(imageIds[0]!)).toEqual([]);
        expect(await s.predictions.listEmbeddings(caseId, model.id)).toEqual([]);
      });

      it('never changes or deletes a stored embedding', async () => {
        const { s, model, imageIds } = await setUp(engine);
        await s.predictions.insertPredictions(model.id, [{ ...prediction(imageIds[0]!, 'BLA', 0.9), embedding: Float32Array.from([1, 2]), openSetScore: 1 }]);
        await expect(s.sql('UPDATE prediction_embeddings SET open_set_score = 0')).rejects.toThrow(/immutable/);
        await expect(s.sql('DELETE FROM prediction_embeddings')).rejects.toThrow(/immutable/);
      });
    });

    describe('provisional classes', () => {
      it('are registered with the model, and the same file with another list is refused', async () => {
        const { s, model } = await setUp(engine, ['EBO']);
        expect((await s.models.getModel(model.id)).provisionalClasses).toEqual(['EBO']);
        await expect(
          s.models.registerModel({ modelId: 'm', version: '1', sha256: sha(77), name: 'm', classes: FOUR_CLASSES, provisionalClasses: [] }),
        ).rejects.toThrow(DatabaseError);
        await expect(
          s.models.registerModel({ modelId: 'x', version: '1', sha256: sha(78), name: 'x', classes: FOUR_CLASSES, provisionalClasses: ['PMO'] }),
        ).rejects.toThrow(/provisional classes PMO are not among its classes/);
      });

      it('counts, per predicted class, the cells no decision covers', async () => {
        const { s, model, caseId, imageIds } = await setUp(engine, ['EBO']);
        await s.predictions.insertPredictions(model.id, [
          prediction(imageIds[0]!, 'EBO', 0.9),
          prediction(imageIds[1]!, 'EBO', 0.9),
          prediction(imageIds[2]!, 'EBO', 0.9),
          prediction(imageIds[3]!, 'LYT', 0.9),
        ]);
        await s.cases.setCaseStatus(caseId, 'in_review', 'tech');
        expect(await s.cells.unreviewedCountsByPredictedClass(caseId)).toEqual({ EBO: 3, LYT: 1 });
        await s.reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'EBO', reviewer: 'tech' }); // confirmed
        await s.reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' }); // reclassified
        expect(await s.cells.unreviewedCountsByPredictedClass(caseId)).toEqual({ EBO: 1, LYT: 1 });
      });
    });
  });
});

describe('provisional classes of models registered before migration 4 (SQLite files of that age)', () => {
  it('are given to the reference models registered before migration 4, which learned the same classes from blood only', () => {
    const path = join(tempDir(), 'v3.sqlite');
    const raw = new Database(path);
    migrate(raw, path, { upTo: 3 });
    const classes = '["ART","BLA","EOS","LYT","MON","NGS","NIF","PMO","BAS","EBO","MMZ","MYB","NGB"]';
    raw.exec(`
      INSERT INTO models (id, model_id, version, sha256, name, classes, class_count, registered_at) VALUES
        (1, 'marrowcount-ref', '1.2.0', '${'a'.repeat(64)}', 'ref', '${classes}', 13, 't'),
        (2, 'other-model', '1.2.0', '${'b'.repeat(64)}', 'other', '${classes}', 13, 't');
    `);
    raw.close();
    const db = track(openDatabase(path));
    expect(getModel(db, 1).provisionalClasses).toEqual(['BAS', 'EBO', 'MMZ', 'MYB', 'NGB']);
    expect(getModel(db, 2).provisionalClasses).toEqual([]);
    expect(() => db.raw.prepare("UPDATE models SET name = 'x' WHERE id = 1").run()).toThrow(/immutable/);
  });
});
