// The analysis through the real worker thread (worker.ts, loaded through tsx from the sources), as the app and the
// CLI run it: the worker opens its own connection to the SQLite file, the test reads the results from another.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnalysisProgress } from '../../../src/shared/api';
import { closeDatabase, createCase, getCase, listCells, listImportFailures, openDatabase, upsertPatient } from '../../../src/main/db';
import { listCropFiles } from '../../../src/main/inference/case-folder';
import { ModelPackageError } from '../../../src/main/inference/errors';
import { AnalysisRunner } from '../../../src/main/service/analysis-runner';
import { BROKEN_CROPS, GOOD_CROPS, GOOD_CROP_COUNT, TINY_MODEL, WRONG_SHAPE_MODEL, caseFolder, tempDir } from './helpers';

const temps: { remove: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((t) => t.remove()));

/** Distinct crops (flipped and rotated copies of the good ones), so a run has many batches to cancel among. */
async function addVariants(folder: string): Promise<number> {
  const files = (await listCropFiles(GOOD_CROPS)).filter((f) => f.relativePath.endsWith('.jpg'));
  const variants: [string, (s: Sharp) => Sharp][] = [
    ['flip', (s) => s.flip()],
    ['flop', (s) => s.flop()],
    ['r90', (s) => s.rotate(90)],
    ['r180', (s) => s.rotate(180)],
    ['r270', (s) => s.rotate(270)],
  ];
  mkdirSync(join(folder, 'variants'));
  for (const file of files) {
    for (const [name, transform] of variants) {
      await transform(sharp(file.path))
        .jpeg({ quality: 90 })
        .toFile(join(folder, 'variants', `${name}-${file.relativePath.replace('/', '-')}`));
    }
  }
  return files.length * variants.length;
}

function setUp(): { root: string; databasePath: string; caseId: number } {
  const t = tempDir('worker');
  temps.push(t);
  const databasePath = join(t.path, 'marrowcount.sqlite');
  const folder = caseFolder(t.path, 'case', GOOD_CROPS);
  cpSync(BROKEN_CROPS, join(folder, 'broken'), { recursive: true });
  const db = openDatabase(databasePath);
  try {
    const patient = upsertPatient(db, { labId: 'P-2', actor: 'test' });
    const caseId = createCase(db, { patientId: patient.id, accession: 'BM-W', specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
    return { root: t.path, databasePath, caseId };
  } finally {
    closeDatabase(db);
  }
}

function readBack(databasePath: string, caseId: number) {
  const db = openDatabase(databasePath, { readonly: true });
  try {
    return {
      status: getCase(db, caseId).status,
      folder: getCase(db, caseId).folder,
      cells: listCells(db, { caseId, scope: 'all', limit: 10_000 }).rows,
      failures: listImportFailures(db, caseId),
    };
  } finally {
    closeDatabase(db);
  }
}

describe('analysis in a worker thread', () => {
  it('classifies the case in the worker, reporting progress until done', async () => {
    const { databasePath, caseId } = setUp();
    const runner = new AnalysisRunner({ databaseLocation: databasePath, modelDir: TINY_MODEL, batchSize: 4, intraOpThreads: 1 });
    const seen: AnalysisProgress[] = [];
    runner.onProgress((p) => seen.push(p));

    const first = runner.start(caseId);
    expect(first).toMatchObject({ caseId, phase: 'importing', done: 0 });
    expect(() => runner.start(caseId)).toThrow(/already being analysed/);
    const result = await runner.whenFinished(caseId);

    expect(result.error).toBeNull();
    expect(result.progress).toMatchObject({ phase: 'done', done: GOOD_CROP_COUNT + 5, total: GOOD_CROP_COUNT + 5 });
    expect(result.progress.failures).toHaveLength(5);
    expect(result.outcome?.classified).toBe(GOOD_CROP_COUNT);
    expect(runner.getProgress(caseId)?.phase).toBe('done');
    const classifying = seen.filter((p) => p.phase === 'classifying');
    expect(classifying.length).toBeGreaterThan(1);
    expect(classifying.at(-1)!.cellsPerSecond).toBeGreaterThan(0);

    const stored = readBack(databasePath, caseId);
    expect(stored.status).toBe('in_review');
    expect(stored.cells).toHaveLength(GOOD_CROP_COUNT);
    expect(stored.failures).toHaveLength(5);
  });

  it('cancels after a whole batch; starting again resumes with the cells left', async () => {
    const { databasePath, caseId } = setUp();
    const folder = readBack(databasePath, caseId).folder;
    const total = GOOD_CROP_COUNT + (await addVariants(folder));
    const batchSize = 2;
    const runner = new AnalysisRunner({ databaseLocation: databasePath, modelDir: TINY_MODEL, batchSize, intraOpThreads: 1 });
    let asked = false;
    runner.onProgress((p) => {
      if (!asked && p.phase === 'classifying' && p.done > 0) {
        asked = true;
        runner.cancel(caseId);
      }
    });
    runner.start(caseId);
    const cancelled = await runner.whenFinished(caseId);
    expect(cancelled.progress.phase).toBe('cancelled');
    const partial = readBack(databasePath, caseId);
    expect(partial.status).toBe('cancelled');
    expect(partial.cells.length).toBe(cancelled.outcome!.classified);
    expect(partial.cells.length).toBeGreaterThan(0);
    expect(partial.cells.length).toBeLessThan(total);

    runner.start(caseId);
    const resumed = await runner.whenFinished(caseId);
    expect(resumed.progress.phase).toBe('done');
    expect(resumed.outcome!.classified).toBe(total - partial.cells.length);
    expect(readBack(databasePath, caseId).cells).toHaveLength(total);
  });

  it('close() stops a running analysis and waits until its worker has let go of the database', async () => {
    const { databasePath, caseId } = setUp();
    await addVariants(readBack(databasePath, caseId).folder);
    const runner = new AnalysisRunner({ databaseLocation: databasePath, modelDir: TINY_MODEL, batchSize: 2, intraOpThreads: 1 });
    const started = new Promise<void>((resolve) => runner.onProgress((p) => p.phase === 'classifying' && p.done > 0 && resolve()));
    runner.start(caseId);
    await started;
    await runner.close();
    expect(runner.getProgress(caseId)?.phase).toBe('cancelled');
    // close() resolved after the worker closed its connection: opening needs no wait for a lock.
    const db = openDatabase(databasePath, { busyTimeoutMs: 0 });
    try {
      expect(getCase(db, caseId).status).toBe('cancelled');
    } finally {
      closeDatabase(db);
    }
  });

  it('fails with a clear message when model.onnx does not match its SHA-256, storing nothing', async () => {
    const { root, databasePath, caseId } = setUp();
    const modelDir = join(root, 'tampered-model');
    cpSync(TINY_MODEL, modelDir, { recursive: true });
    const jsonPath = join(modelDir, 'model.json');
    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { sha256: string };
    json.sha256 = '0'.repeat(64);
    writeFileSync(jsonPath, JSON.stringify(json));

    const runner = new AnalysisRunner({ databaseLocation: databasePath, modelDir });
    runner.start(caseId);
    const result = await runner.whenFinished(caseId);
    expect(result.progress.phase).toBe('failed');
    expect(result.progress.message).toContain(join(modelDir, 'model.onnx'));
    expect(result.progress.message).toContain('0'.repeat(64));
    expect(result.error).toBeInstanceOf(ModelPackageError);
    expect((result.error as ModelPackageError).field).toBe('sha256');
    expect(readBack(databasePath, caseId).cells).toHaveLength(0);
  });

  it('fails with a clear message for a model whose graph does not take the declared input size', async () => {
    const { databasePath, caseId } = setUp();
    const runner = new AnalysisRunner({ databaseLocation: databasePath, modelDir: WRONG_SHAPE_MODEL });
    runner.start(caseId);
    const result = await runner.whenFinished(caseId);
    expect(result.progress.phase).toBe('failed');
    expect(result.progress.message).toMatch(/\[batch, 3, 32, 32\].*\[N, 3, 64, 64\]/);
    expect(readBack(databasePath, caseId).status).toBe('importing');
  });
});
