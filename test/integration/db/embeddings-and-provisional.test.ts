// Embeddings are stored beside their prediction, in the same transaction, as float16; provisional classes are part
// of a model's registration, and the unreviewed cells of such classes are counted for the differential.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DatabaseError,
  addReview,
  beginAnalysis,
  getModel,
  insertPredictions,
  listEmbeddings,
  listPredictions,
  openDatabase,
  registerModel,
  setCaseStatus,
  unreviewedCountsByPredictedClass,
} from '../../../src/main/db';
import { migrate } from '../../../src/main/db/migrate';
import { decodeFloat16, encodeFloat16 } from '../../../src/main/db/predictions';
import { FOUR_CLASSES, addCase, addImages, openTemp, prediction, sha, tempDir, track } from './helpers';

function setUp(provisionalClasses = ['EBO' as const]) {
  const { db } = openTemp();
  const model = registerModel(db, { modelId: 'm', version: '1', sha256: sha(77), name: 'm', classes: FOUR_CLASSES, provisionalClasses });
  const row = addCase(db);
  const imageIds = addImages(db, row.id, 4);
  beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
  return { db, model, caseId: row.id, imageIds };
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

describe('prediction embeddings', () => {
  it('stores the embedding and open-set score with the prediction and reads them back', () => {
    const { db, model, caseId, imageIds } = setUp();
    const z = Float32Array.from({ length: 160 }, (_, i) => Math.sin(i) * 3);
    insertPredictions(db, model.id, [{ ...prediction(imageIds[0]!, 'BLA', 0.9), embedding: z, openSetScore: 12.5 }, prediction(imageIds[1]!, 'LYT', 0.9)]);
    const stored = listEmbeddings(db, caseId, model.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.imageId).toBe(imageIds[0]);
    expect(stored[0]!.openSetScore).toBe(12.5);
    expect(stored[0]!.embedding).toHaveLength(160);
    stored[0]!.embedding.forEach((v, i) => expect(Math.abs(v - z[i]!)).toBeLessThanOrEqual(Math.abs(z[i]!) * 2 ** -11 + 1e-7));
  });

  it('stores nothing of a batch when one embedding is invalid', () => {
    const { db, model, caseId, imageIds } = setUp();
    const bad = Float32Array.from([1, Number.NaN]);
    expect(() =>
      insertPredictions(db, model.id, [
        { ...prediction(imageIds[0]!, 'BLA', 0.9), embedding: Float32Array.from([1, 2]) },
        { ...prediction(imageIds[1]!, 'LYT', 0.9), embedding: bad },
      ]),
    ).toThrow(/image \d+: the embedding .* not a finite number/);
    expect(listPredictions(db, imageIds[0]!)).toEqual([]);
    expect(listEmbeddings(db, caseId, model.id)).toEqual([]);
  });

  it('never changes or deletes a stored embedding', () => {
    const { db, model, imageIds } = setUp();
    insertPredictions(db, model.id, [{ ...prediction(imageIds[0]!, 'BLA', 0.9), embedding: Float32Array.from([1, 2]), openSetScore: 1 }]);
    expect(() => db.raw.prepare('UPDATE prediction_embeddings SET open_set_score = 0').run()).toThrow(/immutable/);
    expect(() => db.raw.prepare('DELETE FROM prediction_embeddings').run()).toThrow(/immutable/);
  });
});

describe('provisional classes', () => {
  it('are registered with the model, and the same file with another list is refused', () => {
    const { db, model } = setUp(['EBO']);
    expect(getModel(db, model.id).provisionalClasses).toEqual(['EBO']);
    expect(() => registerModel(db, { modelId: 'm', version: '1', sha256: sha(77), name: 'm', classes: FOUR_CLASSES, provisionalClasses: [] })).toThrow(
      DatabaseError,
    );
    expect(() => registerModel(db, { modelId: 'x', version: '1', sha256: sha(78), name: 'x', classes: FOUR_CLASSES, provisionalClasses: ['PMO'] })).toThrow(
      /provisional classes PMO are not among its classes/,
    );
  });

  it('counts, per predicted class, the cells no decision covers', () => {
    const { db, model, caseId, imageIds } = setUp(['EBO']);
    insertPredictions(db, model.id, [
      prediction(imageIds[0]!, 'EBO', 0.9),
      prediction(imageIds[1]!, 'EBO', 0.9),
      prediction(imageIds[2]!, 'EBO', 0.9),
      prediction(imageIds[3]!, 'LYT', 0.9),
    ]);
    setCaseStatus(db, caseId, 'in_review', 'tech');
    expect(unreviewedCountsByPredictedClass(db, caseId)).toEqual({ EBO: 3, LYT: 1 });
    addReview(db, { caseId, imageId: imageIds[0]!, label: 'EBO', reviewer: 'tech' }); // confirmed
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' }); // reclassified
    expect(unreviewedCountsByPredictedClass(db, caseId)).toEqual({ EBO: 1, LYT: 1 });
  });

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
