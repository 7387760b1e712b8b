// Images, models and predictions through the repository contract, on both engines.
import { describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import { ENGINES } from './engines';
import { FOUR_CLASSES, prediction, sha } from './helpers';
import { addCase, addImages, addModel, expectRejection, storesForEngines } from './store-for-engine';

const stores = storesForEngines();

const file = (relativePath: string, hash: number, importError: string | null = null) => ({
  relativePath,
  sha256: importError === null ? sha(hash) : '',
  bytes: importError === null ? 1000 : 0,
  width: importError === null ? 250 : null,
  height: importError === null ? 250 : null,
  importError,
});

describe.each(ENGINES)('on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    describe('images', () => {
      it('stores a duplicate (same content in the same case) once, reports it and never counts it', async () => {
        const s = await stores.openReposFor(engine);
        const model = await addModel(s);
        const row = await addCase(s);
        const result = await s.images.insertImages(row.id, [file('a.jpg', 1), file('b.jpg', 2), file('copy-of-a.jpg', 1)]);
        expect(result.duplicates).toEqual([{ relativePath: 'copy-of-a.jpg', duplicateOf: 'a.jpg' }]);
        expect(result.inserted).toHaveLength(3);
        expect(result.inserted[2]!.duplicateOf).toBe(result.inserted[0]!.id);
        const pending = await s.images.listImagesNeedingPrediction(row.id, model.id);
        expect(pending.map((i) => i.relativePath)).toEqual(['a.jpg', 'b.jpg']);
        // Until a.jpg has a prediction, the copy's reason may not claim that the image is counted.
        expect((await s.images.listImportFailures(row.id))[0]!.reason).toBe(
          'Same image as a.jpg, which is not classified yet; the image is counted once, as a.jpg, when an analysis classifies it.',
        );
        await s.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
        await s.predictions.insertPredictions(
          model.id,
          pending.map((i) => prediction(i.id, 'BLA', 0.9)),
        );
        expect(await s.cells.effectiveCountsByClass(row.id)).toEqual({ BLA: 2 });
        await expectRejection(s.predictions.insertPredictions(model.id, [prediction(result.inserted[2]!.id, 'BLA', 0.9)]), 'constraint');
        expect(await s.images.listImportFailures(row.id)).toEqual([{ file: 'copy-of-a.jpg', reason: 'Same image as a.jpg; counted once.' }]);
      });

      it('treats the same content in another case as a separate image', async () => {
        const s = await stores.openReposFor(engine);
        const one = await addCase(s, 'BM-1');
        const two = await addCase(s, 'BM-2');
        await s.images.insertImages(one.id, [file('a.jpg', 1)]);
        expect((await s.images.insertImages(two.id, [file('a.jpg', 1)])).duplicates).toEqual([]);
      });

      it('records import failures with their reason and never classifies them', async () => {
        const s = await stores.openReposFor(engine);
        const model = await addModel(s);
        const row = await addCase(s);
        await s.images.insertImages(row.id, [file('ok.jpg', 1), file('empty.jpg', 0, 'empty.jpg is 0 bytes; not a JPEG or PNG image')]);
        expect(await s.images.listImportFailures(row.id)).toEqual([{ file: 'empty.jpg', reason: 'empty.jpg is 0 bytes; not a JPEG or PNG image' }]);
        expect((await s.images.listImagesNeedingPrediction(row.id, model.id)).map((i) => i.relativePath)).toEqual(['ok.jpg']);
      });

      it('skips files already imported with the same content, so an interrupted import can be repeated', async () => {
        const s = await stores.openReposFor(engine);
        const row = await addCase(s);
        await s.images.insertImages(row.id, [file('a.jpg', 1), file('b.jpg', 2)]);
        const again = await s.images.insertImages(row.id, [file('a.jpg', 1), file('b.jpg', 2), file('c.jpg', 3)]);
        expect(again.alreadyImported).toEqual(['a.jpg', 'b.jpg']);
        expect(again.inserted.map((i) => i.relativePath)).toEqual(['c.jpg']);
        expect(await s.images.listImages(row.id)).toHaveLength(3);
      });

      it('refuses a file whose content changed since it was imported, storing nothing of that import', async () => {
        const s = await stores.openReposFor(engine);
        const row = await addCase(s);
        await s.images.insertImages(row.id, [file('a.jpg', 1)]);
        const error = await expectRejection(s.images.insertImages(row.id, [file('new.jpg', 5), file('a.jpg', 9)]), 'duplicate');
        expect(error.message).toContain('a.jpg');
        expect((await s.images.listImages(row.id)).map((i) => i.relativePath)).toEqual(['a.jpg']);
      });

      it('resolves an image only through the case that holds it', async () => {
        const s = await stores.openReposFor(engine);
        const one = await addCase(s, 'BM-1');
        const two = await addCase(s, 'BM-2');
        const [id] = await addImages(s, one.id, 1);
        expect((await s.images.getImage(one.id, id!)).relativePath).toBe('cell-0000.jpg');
        await expectRejection(s.images.getImage(two.id, id!), 'not_found');
      });
    });

    describe('models', () => {
      it('registers a model once per file hash', async () => {
        const s = await stores.openReposFor(engine);
        const first = await addModel(s);
        expect((await addModel(s)).id).toBe(first.id);
        expect(first.classes).toEqual(FOUR_CLASSES);
      });

      it('refuses the same file registered with other classes, and unknown class codes', async () => {
        const s = await stores.openReposFor(engine);
        await addModel(s);
        await expectRejection(addModel(s, 'a', ['BLA', 'LYT']), 'duplicate');
        const error = await expectRejection(
          s.models.registerModel({ modelId: 'm', version: '1', sha256: 'c'.repeat(64), name: 'm', classes: ['BLA', 'ZZZ' as CellClassCode] }),
          'unknown_class',
        );
        expect(error.message).toContain('"ZZZ"');
      });
    });

    describe('predictions', () => {
      async function analysing(cells = 10) {
        const s = await stores.openReposFor(engine);
        const model = await addModel(s);
        const row = await addCase(s);
        const imageIds = await addImages(s, row.id, cells);
        await s.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
        return { s, model, caseId: row.id, imageIds };
      }

      it('stores the full probability vector, confidence and flag reasons of each cell', async () => {
        const { s, model, imageIds } = await analysing(1);
        await s.predictions.insertPredictions(model.id, [
          {
            imageId: imageIds[0]!,
            predicted: 'LYT',
            probabilities: [0.1, 0.5, 0.3, 0.1],
            confidence: 0.5,
            flagged: true,
            flagReasons: [
              { kind: 'low_confidence', detail: '0.50 < 0.60' },
              { kind: 'margin', detail: '0.20 < 0.25' },
            ],
          },
        ]);
        expect(await s.predictions.listPredictions(imageIds[0]!)).toMatchObject([
          {
            modelRowId: model.id,
            predicted: 'LYT',
            probabilities: [0.1, 0.5, 0.3, 0.1],
            confidence: 0.5,
            flagged: true,
            flagReasons: [
              { kind: 'low_confidence', detail: '0.50 < 0.60' },
              { kind: 'margin', detail: '0.20 < 0.25' },
            ],
          },
        ]);
      });

      it('rejects an unknown class code with the code in the message and stores none of the batch', async () => {
        const { s, model, caseId, imageIds } = await analysing(3);
        const batch = [prediction(imageIds[0]!, 'BLA', 0.9), { ...prediction(imageIds[1]!, 'BLA', 0.9), predicted: 'XQZ' as CellClassCode }];
        const error = await expectRejection(s.predictions.insertPredictions(model.id, batch), 'unknown_class');
        expect(error.message).toContain('"XQZ"');
        expect(await s.cells.effectiveCountsByClass(caseId)).toEqual({});
        expect(await s.predictions.listPredictions(imageIds[0]!)).toEqual([]);
      });

      it('rejects an unknown class code in SQL too, for writers that bypass the repository', async () => {
        const { s, model, caseId, imageIds } = await analysing(1);
        await expect(
          s.sql(
            `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
             VALUES (?, ?, ?, 'XQZ', '[0.25,0.25,0.25,0.25]', 0.25, 1, '[]', 't')`,
            [imageIds[0], caseId, model.id],
          ),
        ).rejects.toThrow(/unknown cell class code "XQZ"/);
      });

      it('rolls the whole batch back when a row fails in the database half-way', async () => {
        const { s, model, caseId, imageIds } = await analysing(10);
        await s.predictions.insertPredictions(model.id, [prediction(imageIds[7]!, 'NGS', 0.8)]);
        // Rows 0-6 are valid; row 7 already has this model's prediction, which only the database can know.
        const batch = imageIds.map((id) => prediction(id, 'BLA', 0.9));
        const error = await expectRejection(s.predictions.insertPredictions(model.id, batch), 'duplicate');
        expect(error.message).toContain(`Image ${imageIds[7]}`);
        expect(await s.cells.effectiveCountsByClass(caseId)).toEqual({ NGS: 1 });
        expect(await s.images.listImagesNeedingPrediction(caseId, model.id)).toHaveLength(9);
      });

      it('refuses a probability vector that does not match the model, and a class the model does not have', async () => {
        const { s, model, imageIds } = await analysing(1);
        await expectRejection(s.predictions.insertPredictions(model.id, [{ ...prediction(imageIds[0]!, 'BLA', 0.9), probabilities: [1] }]), 'constraint');
        await expectRejection(s.predictions.insertPredictions(model.id, [prediction(imageIds[0]!, 'PLM', 0.9)]), 'constraint');
      });

      it('lets a resumed analysis classify only what is missing', async () => {
        const { s, model, caseId, imageIds } = await analysing(5);
        await s.predictions.insertPredictions(
          model.id,
          imageIds.slice(0, 2).map((id) => prediction(id, 'BLA', 0.9)),
        );
        expect((await s.images.listImagesNeedingPrediction(caseId, model.id)).map((i) => i.id)).toEqual(imageIds.slice(2));
        await s.cases.setCaseStatus(caseId, 'in_review', 'tech');
      });
    });
  });
});
