import { describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import {
  beginAnalysis,
  effectiveCountsByClass,
  getImage,
  insertImages,
  insertPredictions,
  listImages,
  listImagesNeedingPrediction,
  listImportFailures,
  listPredictions,
  registerModel,
  setCaseStatus,
} from '../../../src/main/db';
import { expectDbError } from './errors-helper';
import { FOUR_CLASSES, addCase, addImages, addModel, openTemp, prediction, sha } from './helpers';

const file = (relativePath: string, hash: number, importError: string | null = null) => ({
  relativePath,
  sha256: importError === null ? sha(hash) : '',
  bytes: importError === null ? 1000 : 0,
  width: importError === null ? 250 : null,
  height: importError === null ? 250 : null,
  importError,
});

describe('images', () => {
  it('stores a duplicate (same content in the same case) once, reports it and never counts it', () => {
    const { db } = openTemp();
    const model = addModel(db);
    const row = addCase(db);
    const result = insertImages(db, row.id, [file('a.jpg', 1), file('b.jpg', 2), file('copy-of-a.jpg', 1)]);
    expect(result.duplicates).toEqual([{ relativePath: 'copy-of-a.jpg', duplicateOf: 'a.jpg' }]);
    expect(result.inserted).toHaveLength(3);
    expect(result.inserted[2]!.duplicateOf).toBe(result.inserted[0]!.id);
    const pending = listImagesNeedingPrediction(db, row.id, model.id);
    expect(pending.map((i) => i.relativePath)).toEqual(['a.jpg', 'b.jpg']);
    // Until a.jpg has a prediction, the copy's reason may not claim that the image is counted.
    expect(listImportFailures(db, row.id)[0]!.reason).toBe(
      'Same image as a.jpg, which is not classified yet; the image is counted once, as a.jpg, when an analysis classifies it.',
    );
    beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
    insertPredictions(
      db,
      model.id,
      pending.map((i) => prediction(i.id, 'BLA', 0.9)),
    );
    expect(effectiveCountsByClass(db, row.id)).toEqual({ BLA: 2 });
    expectDbError(() => insertPredictions(db, model.id, [prediction(result.inserted[2]!.id, 'BLA', 0.9)]), 'constraint');
    expect(listImportFailures(db, row.id)).toEqual([{ file: 'copy-of-a.jpg', reason: 'Same image as a.jpg; counted once.' }]);
  });

  it('treats the same content in another case as a separate image', () => {
    const { db } = openTemp();
    const one = addCase(db, 'BM-1');
    const two = addCase(db, 'BM-2');
    insertImages(db, one.id, [file('a.jpg', 1)]);
    expect(insertImages(db, two.id, [file('a.jpg', 1)]).duplicates).toEqual([]);
  });

  it('records import failures with their reason and never classifies them', () => {
    const { db } = openTemp();
    const model = addModel(db);
    const row = addCase(db);
    insertImages(db, row.id, [file('ok.jpg', 1), file('empty.jpg', 0, 'empty.jpg is 0 bytes; not a JPEG or PNG image')]);
    expect(listImportFailures(db, row.id)).toEqual([{ file: 'empty.jpg', reason: 'empty.jpg is 0 bytes; not a JPEG or PNG image' }]);
    expect(listImagesNeedingPrediction(db, row.id, model.id).map((i) => i.relativePath)).toEqual(['ok.jpg']);
  });

  it('skips files already imported with the same content, so an interrupted import can be repeated', () => {
    const { db } = openTemp();
    const row = addCase(db);
    insertImages(db, row.id, [file('a.jpg', 1), file('b.jpg', 2)]);
    const again = insertImages(db, row.id, [file('a.jpg', 1), file('b.jpg', 2), file('c.jpg', 3)]);
    expect(again.alreadyImported).toEqual(['a.jpg', 'b.jpg']);
    expect(again.inserted.map((i) => i.relativePath)).toEqual(['c.jpg']);
    expect(listImages(db, row.id)).toHaveLength(3);
  });

  it('refuses a file whose content changed since it was imported, storing nothing of that import', () => {
    const { db } = openTemp();
    const row = addCase(db);
    insertImages(db, row.id, [file('a.jpg', 1)]);
    const error = expectDbError(() => insertImages(db, row.id, [file('new.jpg', 5), file('a.jpg', 9)]), 'duplicate');
    expect(error.message).toContain('a.jpg');
    expect(listImages(db, row.id).map((i) => i.relativePath)).toEqual(['a.jpg']);
  });

  it('resolves an image only through the case that holds it', () => {
    const { db } = openTemp();
    const one = addCase(db, 'BM-1');
    const two = addCase(db, 'BM-2');
    const [id] = addImages(db, one.id, 1);
    expect(getImage(db, one.id, id!).relativePath).toBe('cell-0000.jpg');
    expectDbError(() => getImage(db, two.id, id!), 'not_found');
  });
});

describe('models', () => {
  it('registers a model once per file hash', () => {
    const { db } = openTemp();
    const first = addModel(db);
    expect(addModel(db).id).toBe(first.id);
    expect(first.classes).toEqual(FOUR_CLASSES);
  });

  it('refuses the same file registered with other classes, and unknown class codes', () => {
    const { db } = openTemp();
    addModel(db);
    expectDbError(() => addModel(db, 'a', ['BLA', 'LYT']), 'duplicate');
    const error = expectDbError(
      () => registerModel(db, { modelId: 'm', version: '1', sha256: 'c'.repeat(64), name: 'm', classes: ['BLA', 'ZZZ' as CellClassCode] }),
      'unknown_class',
    );
    expect(error.message).toContain('"ZZZ"');
  });
});

describe('predictions', () => {
  function analysing(cells = 10) {
    const { db } = openTemp();
    const model = addModel(db);
    const row = addCase(db);
    const imageIds = addImages(db, row.id, cells);
    beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
    return { db, model, caseId: row.id, imageIds };
  }

  it('stores the full probability vector, confidence and flag reasons of each cell', () => {
    const { db, model, imageIds } = analysing(1);
    insertPredictions(db, model.id, [
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
    expect(listPredictions(db, imageIds[0]!)).toMatchObject([
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

  it('rejects an unknown class code with the code in the message and stores none of the batch', () => {
    const { db, model, caseId, imageIds } = analysing(3);
    const batch = [prediction(imageIds[0]!, 'BLA', 0.9), { ...prediction(imageIds[1]!, 'BLA', 0.9), predicted: 'XQZ' as CellClassCode }];
    const error = expectDbError(() => insertPredictions(db, model.id, batch), 'unknown_class');
    expect(error.message).toContain('"XQZ"');
    expect(effectiveCountsByClass(db, caseId)).toEqual({});
  });

  it('rejects an unknown class code in SQL too, for writers that bypass the repository', () => {
    const { db, model, caseId, imageIds } = analysing(1);
    expect(() =>
      db.raw
        .prepare(
          `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
           VALUES (?, ?, ?, 'XQZ', '[0.25,0.25,0.25,0.25]', 0.25, 1, '[]', 't')`,
        )
        .run(imageIds[0], caseId, model.id),
    ).toThrow(/unknown cell class code "XQZ"/);
  });

  it('rolls the whole batch back when a row fails in the database half-way', () => {
    const { db, model, caseId, imageIds } = analysing(10);
    insertPredictions(db, model.id, [prediction(imageIds[7]!, 'NGS', 0.8)]);
    // Rows 0-6 are valid; row 7 already has this model's prediction, which only the database can know.
    const batch = imageIds.map((id) => prediction(id, 'BLA', 0.9));
    const error = expectDbError(() => insertPredictions(db, model.id, batch), 'duplicate');
    expect(error.message).toContain(`Image ${imageIds[7]}`);
    expect(effectiveCountsByClass(db, caseId)).toEqual({ NGS: 1 });
    expect(listImagesNeedingPrediction(db, caseId, model.id)).toHaveLength(9);
  });

  it('refuses a probability vector that does not match the model, and a class the model does not have', () => {
    const { db, model, imageIds } = analysing(1);
    expectDbError(() => insertPredictions(db, model.id, [{ ...prediction(imageIds[0]!, 'BLA', 0.9), probabilities: [1] }]), 'constraint');
    expectDbError(() => insertPredictions(db, model.id, [prediction(imageIds[0]!, 'PLM', 0.9)]), 'constraint');
  });

  it('lets a resumed analysis classify only what is missing', () => {
    const { db, model, caseId, imageIds } = analysing(5);
    insertPredictions(
      db,
      model.id,
      imageIds.slice(0, 2).map((id) => prediction(id, 'BLA', 0.9)),
    );
    expect(listImagesNeedingPrediction(db, caseId, model.id).map((i) => i.id)).toEqual(imageIds.slice(2));
    setCaseStatus(db, caseId, 'in_review', 'tech');
  });
});
