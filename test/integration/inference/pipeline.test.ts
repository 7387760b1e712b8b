// The analysis pipeline end to end, in-process: real crops, the real tiny ONNX model, a real SQLite file.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDatabase,
  createCase,
  getCase,
  listCells,
  listImages,
  listImportFailures,
  openDatabase,
  upsertPatient,
  partialAnalysisOf,
  type MarrowDatabase,
} from '../../../src/main/db';
import * as ort from 'onnxruntime-node';
import { predictionFromScores } from '../../../src/main/inference/classify';
import { preprocessInto, tensorLength } from '../../../src/main/inference/preprocess';
import { loadModelPackage, type LoadedModel } from '../../../src/main/inference/model-package';
import { analyseCaseFolder, type PipelineProgress } from '../../../src/main/inference/pipeline';
import { BROKEN_CROPS, GOOD_CROPS, GOOD_CROP_COUNT, TINY_MODEL, caseFolder, tempDir } from './helpers';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

let model: LoadedModel;
let temp: { path: string; remove: () => void };
let db: MarrowDatabase;
let caseCounter = 0;

beforeAll(async () => {
  model = await loadModelPackage(TINY_MODEL);
});
afterAll(async () => {
  await model.session.release();
});
afterEach(() => {
  if (db?.raw.open) closeDatabase(db);
  temp?.remove();
});

function newCase(...sources: string[]): number {
  temp = tempDir('pipeline');
  db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
  const patient = upsertPatient(db, { labId: 'P-1', actor: 'test' });
  const folder = caseFolder(temp.path, `case-${++caseCounter}`, ...sources);
  return createCase(db, { patientId: patient.id, accession: `BM-${caseCounter}`, specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
}

function storedCells(caseId: number) {
  return listCells(db, { caseId, scope: 'all', limit: 10_000 }).rows;
}

describe('analysis pipeline', () => {
  it('classifies every crop of the folder and stores calibrated probabilities in the model class order', async () => {
    const caseId = newCase(GOOD_CROPS);
    const progress: PipelineProgress[] = [];
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId, { onProgress: (p) => progress.push(p) }, { batchSize: 4 });

    expect(outcome).toMatchObject({ cancelled: false, classified: GOOD_CROP_COUNT, newFiles: GOOD_CROP_COUNT, failures: [] });
    const cells = storedCells(caseId);
    expect(cells).toHaveLength(GOOD_CROP_COUNT);
    for (const cell of cells) {
      expect(cell.classes).toEqual(model.manifest.classes);
      expect(cell.probabilities).toHaveLength(8);
      expect(cell.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(cell.confidence).toBe(Math.max(...cell.probabilities));
      expect(cell.predicted).toBe(model.manifest.classes[cell.probabilities.indexOf(cell.confidence)]);
      expect(cell.flagged).toBe(cell.flagReasons.length > 0);
    }
    expect(getCase(db, caseId).status).toBe('in_review');
    expect(progress.at(-1)).toMatchObject({ phase: 'done', done: GOOD_CROP_COUNT, total: GOOD_CROP_COUNT });
    const classifying = progress.filter((p) => p.phase === 'classifying').map((p) => p.done);
    expect(classifying).toEqual([...classifying].sort((a, b) => a - b));
  });

  it('records a per-file error for broken files among good ones and classifies the rest', async () => {
    const caseId = newCase(GOOD_CROPS);
    cpSync(BROKEN_CROPS, join(getCase(db, caseId).folder, 'broken'), { recursive: true });
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId, {}, { batchSize: 5 });

    const failures = listImportFailures(db, caseId);
    expect(failures.map((f) => f.file).sort()).toEqual([
      'broken/corrupt-data.jpg',
      'broken/empty.jpg',
      'broken/not-an-image.jpg',
      'broken/truncated.jpg',
      'broken/wrong-size-40px.jpg',
    ]);
    for (const failure of failures) expect(failure.reason).toContain(failure.file);
    expect(outcome.failures).toHaveLength(5);
    expect(outcome.classified).toBe(GOOD_CROP_COUNT);
    expect(storedCells(caseId)).toHaveLength(GOOD_CROP_COUNT);
    expect(getCase(db, caseId).status).toBe('in_review');
  });

  it('stores each cell the prediction of its own image, also in batches with failed files between good ones', async () => {
    const caseId = newCase(GOOD_CROPS);
    const folder = getCase(db, caseId).folder;
    cpSync(BROKEN_CROPS, join(folder, 'broken'), { recursive: true });
    await analyseCaseFolder(sqliteStore(db), model, caseId, {}, { batchSize: 7 });
    const spec = model.manifest.input;
    for (const cell of storedCells(caseId)) {
      // The same cell classified alone, outside the pipeline: one image, one run.
      const tensor = new Float32Array(tensorLength(spec));
      await preprocessInto(join(folder, cell.relativePath), spec, tensor, 0, cell.relativePath);
      const out = await model.session.run({ [spec.name]: new ort.Tensor('float32', tensor, [1, 3, spec.height, spec.width]) });
      const alone = predictionFromScores(out['logits']!.data as Float32Array, model.manifest, model.manifest.flagging);
      expect(cell.predicted, cell.relativePath).toBe(alone.predicted);
      cell.probabilities.forEach((p, i) => expect(Math.abs(p - alone.probabilities[i]!)).toBeLessThan(1e-5));
    }
  });

  it('classifies a copy of a crop once and lists the copy as not counted', async () => {
    const caseId = newCase(GOOD_CROPS);
    cpSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(getCase(db, caseId).folder, 'copy-of-blast.jpg'));
    let last: PipelineProgress | undefined;
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId, { onProgress: (p) => (last = p) }, { batchSize: 4 });
    expect(outcome.duplicates).toBe(1);
    // The progress tells classified cells apart from copies and failures, and they add up to the files done.
    expect(last).toMatchObject({ phase: 'done', classified: GOOD_CROP_COUNT, duplicates: 1, failed: 0, done: GOOD_CROP_COUNT + 1 });
    expect(storedCells(caseId)).toHaveLength(GOOD_CROP_COUNT);
    const [copy] = listImportFailures(db, caseId);
    expect(copy?.file).toBe('copy-of-blast.jpg');
  });

  it('stops after a whole batch when cancelled, and a re-run classifies only the cells left', async () => {
    const caseId = newCase(GOOD_CROPS);
    const batchSize = 3;
    let stop = false;
    const first = await analyseCaseFolder(
      sqliteStore(db),
      model,
      caseId,
      { onProgress: (p) => (stop ||= p.phase === 'classifying' && p.done > 0), isCancelled: () => stop },
      { batchSize },
    );
    expect(first.cancelled).toBe(true);
    const afterCancel = storedCells(caseId);
    expect(afterCancel.length).toBe(first.classified);
    expect(afterCancel.length % batchSize).toBe(0);
    expect(afterCancel.length).toBeLessThan(GOOD_CROP_COUNT);
    // The case says it is partial, and how far the run got.
    const stopped = getCase(db, caseId);
    expect(stopped.status).toBe('cancelled');
    expect(partialAnalysisOf(db, stopped)?.cancellation).toMatchObject({ filesAnalysed: first.classified, filesTotal: GOOD_CROP_COUNT });

    const resumed = await analyseCaseFolder(sqliteStore(db), model, caseId, {}, { batchSize });
    expect(resumed.cancelled).toBe(false);
    expect(resumed.classified).toBe(GOOD_CROP_COUNT - afterCancel.length);
    const cells = storedCells(caseId);
    expect(cells).toHaveLength(GOOD_CROP_COUNT);
    // The cells classified before the cancel kept their predictions.
    for (const before of afterCancel) expect(cells.find((c) => c.imageId === before.imageId)?.probabilities).toEqual(before.probabilities);
    expect(getCase(db, caseId).status).toBe('in_review');
    // A complete run ends the partial result.
    expect(partialAnalysisOf(db, getCase(db, caseId))).toBeNull();
  });

  it('classifies nothing again when a finished case is re-run', async () => {
    const caseId = newCase(GOOD_CROPS);
    await analyseCaseFolder(sqliteStore(db), model, caseId);
    const imagesBefore = listImages(db, caseId).length;
    const again = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(again).toMatchObject({ classified: 0, newFiles: 0, cancelled: false });
    expect(listImages(db, caseId)).toHaveLength(imagesBefore);
    expect(storedCells(caseId)).toHaveLength(GOOD_CROP_COUNT);
  });

  it('applies a lab flagging policy that overrides the model defaults', async () => {
    const caseId = newCase(GOOD_CROPS);
    await analyseCaseFolder(sqliteStore(db), model, caseId, {}, { flagging: { minConfidence: 0, minMargin: 0, alwaysReview: [] } });
    expect(storedCells(caseId).filter((c) => c.flagged)).toEqual([]);
  });
});
