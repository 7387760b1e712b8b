// Re-running a case after its files changed on disk: real crops, the real tiny ONNX model, a real SQLite file.
// A technician who copies a good file over one that failed import expects the next run to analyse and count it,
// once; a file that was imported and classified must never move the counts when it changes or disappears.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseError,
  closeDatabase,
  createCase,
  effectiveCountsByClass,
  getCase,
  insertImages,
  listCells,
  listImages,
  listImportFailures,
  openDatabase,
  upsertPatient,
  type MarrowDatabase,
} from '../../../src/main/db';
import { loadModelPackage, type LoadedModel } from '../../../src/main/inference/model-package';
import { analyseCaseFolder } from '../../../src/main/inference/pipeline';
import { BROKEN_CROPS, GOOD_CROPS, TINY_MODEL, tempDir } from './helpers';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

let model: LoadedModel;
let temp: { path: string; remove: () => void };
let db: MarrowDatabase;

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

/** A case whose folder holds the named files, each copied from a fixture path. */
function newCase(files: Record<string, string>): { caseId: number; folder: string } {
  temp = tempDir('reimport');
  db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
  const folder = join(temp.path, 'case');
  mkdirSync(folder);
  for (const [name, source] of Object.entries(files)) copyFileSync(source, join(folder, name));
  const patient = upsertPatient(db, { labId: 'P-1', actor: 'test' });
  const caseId = createCase(db, { patientId: patient.id, accession: 'BM-1', specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
  return { caseId, folder };
}

const good = (name: string): string => join(GOOD_CROPS, name);
const broken = (name: string): string => join(BROKEN_CROPS, name);

/** The record an analysis stores for a good 250-px crop of the folder, as insertImages takes it. */
function storedRecord(folder: string, name: string) {
  const bytes = readFileSync(join(folder, name));
  return { relativePath: name, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, width: 250, height: 250, importError: null };
}

function cellFiles(caseId: number): string[] {
  return listCells(db, { caseId, scope: 'all', limit: 1000 })
    .rows.map((c) => c.relativePath)
    .sort();
}

function countedCells(caseId: number): number {
  return Object.values(effectiveCountsByClass(db, caseId)).reduce((sum, n) => sum + (n ?? 0), 0);
}

function imageRows(caseId: number): { relative_path: string; import_error: string | null; replaces: number | null }[] {
  return db.raw.prepare('SELECT relative_path, import_error, replaces FROM images WHERE case_id = ? ORDER BY id').all(caseId) as never;
}

describe('re-running a case after a failed file was fixed', () => {
  it('imports the fixed file, classifies and counts it once, and no longer lists it as a failure', async () => {
    const { caseId, folder } = newCase({
      'a.jpg': good('ART_00002.jpg'),
      'b.jpg': good('EOS_00001.jpg'),
      'c.jpg': good('LYT_00001.jpg'),
      'truncated.jpg': broken('truncated.jpg'),
      'empty.jpg': broken('empty.jpg'),
      'corrupt.jpg': broken('corrupt-data.jpg'),
    });
    const first = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(first.classified).toBe(3);
    expect(
      listImportFailures(db, caseId)
        .map((f) => f.file)
        .sort(),
    ).toEqual(['corrupt.jpg', 'empty.jpg', 'truncated.jpg']);
    expect(countedCells(caseId)).toBe(3);

    // The technician copies good versions over two of the three bad files and presses "analyse" again.
    copyFileSync(good('BLA_00001.jpg'), join(folder, 'truncated.jpg'));
    copyFileSync(good('MON_00002.jpg'), join(folder, 'empty.jpg'));
    const second = await analyseCaseFolder(sqliteStore(db), model, caseId);

    expect(second.classified).toBe(2);
    expect(second.reimported.sort()).toEqual(['empty.jpg', 'truncated.jpg']);
    expect(second.failures).toEqual([]);
    expect(listImportFailures(db, caseId).map((f) => f.file)).toEqual(['corrupt.jpg']);
    expect(cellFiles(caseId)).toEqual(['a.jpg', 'b.jpg', 'c.jpg', 'empty.jpg', 'truncated.jpg']);
    expect(countedCells(caseId)).toBe(5);
    expect(getCase(db, caseId).status).toBe('in_review');
    // The failed records stay as history, each replaced by exactly one new record.
    const rows = imageRows(caseId);
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.relative_path === 'truncated.jpg').map((r) => r.import_error === null)).toEqual([false, true]);
    expect(rows.filter((r) => r.replaces !== null)).toHaveLength(2);
    expect(
      listImages(db, caseId)
        .map((i) => i.relativePath)
        .sort(),
    ).toEqual(['a.jpg', 'b.jpg', 'c.jpg', 'corrupt.jpg', 'empty.jpg', 'truncated.jpg']);

    // A third run changes nothing: the fixed cells are not imported or counted again.
    const third = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(third).toMatchObject({ classified: 0, reimported: [], failures: [], changedAfterImport: [] });
    expect(countedCells(caseId)).toBe(5);
    expect(imageRows(caseId)).toHaveLength(8);
  });

  it('leaves a file that still has the same bad bytes alone: one record, still listed once', async () => {
    const { caseId } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'bad.jpg': broken('truncated.jpg') });
    await analyseCaseFolder(sqliteStore(db), model, caseId);
    const again = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(again).toMatchObject({ classified: 0, reimported: [] });
    expect(listImportFailures(db, caseId).map((f) => f.file)).toEqual(['bad.jpg']);
    expect(imageRows(caseId)).toHaveLength(2);
  });

  it('records a file that is still bad but different as a new failure in place of the old one', async () => {
    const { caseId, folder } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'bad.jpg': broken('empty.jpg') });
    await analyseCaseFolder(sqliteStore(db), model, caseId);
    copyFileSync(broken('truncated.jpg'), join(folder, 'bad.jpg'));
    const again = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(again.classified).toBe(0);
    const failures = listImportFailures(db, caseId);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.reason).toContain('truncated');
    expect(countedCells(caseId)).toBe(1);
  });

  it('stores a fixed file whose image is already in the case as a duplicate, counted once', async () => {
    const { caseId, folder } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'bad.jpg': broken('truncated.jpg') });
    await analyseCaseFolder(sqliteStore(db), model, caseId);
    copyFileSync(good('ART_00002.jpg'), join(folder, 'bad.jpg'));
    const again = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(again).toMatchObject({ classified: 0, duplicates: 1, reimported: ['bad.jpg'] });
    expect(listImportFailures(db, caseId)).toEqual([{ file: 'bad.jpg', reason: 'Same image as a.jpg; counted once.' }]);
    expect(countedCells(caseId)).toBe(1);
  });
});

describe('a stored image whose file changed or disappeared after import', () => {
  it('keeps its classified cell and the counts, and names the file in changedAfterImport', async () => {
    const { caseId, folder } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'b.jpg': good('EOS_00001.jpg'), 'c.jpg': good('LYT_00001.jpg') });
    await analyseCaseFolder(sqliteStore(db), model, caseId);
    const before = effectiveCountsByClass(db, caseId);
    const cellsBefore = listCells(db, { caseId, scope: 'all', limit: 100 }).rows.map((c) => [c.relativePath, c.predicted, c.probabilities]);

    copyFileSync(good('BLA_00001.jpg'), join(folder, 'a.jpg'));
    rmSync(join(folder, 'b.jpg'));
    const again = await analyseCaseFolder(sqliteStore(db), model, caseId);

    expect(again).toMatchObject({ classified: 0, newFiles: 0, reimported: [], failures: [] });
    expect(again.changedAfterImport.map((f) => f.file)).toEqual(['a.jpg', 'b.jpg']);
    expect(again.changedAfterImport[0]!.reason).toContain('different content');
    expect(again.changedAfterImport[1]!.reason).toContain('cannot be read');
    for (const change of again.changedAfterImport) expect(change.reason).toContain('keeps the cell as it was imported');
    expect(effectiveCountsByClass(db, caseId)).toEqual(before);
    expect(listCells(db, { caseId, scope: 'all', limit: 100 }).rows.map((c) => [c.relativePath, c.predicted, c.probabilities])).toEqual(cellsBefore);
    expect(listImportFailures(db, caseId)).toEqual([]);
  });

  it('does not classify a stored, not yet classified image whose bytes are no longer the imported ones', async () => {
    // As an interrupted run leaves it: the records are stored, the predictions are not.
    const { caseId, folder } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'b.jpg': good('EOS_00001.jpg') });
    const record = (name: string) => storedRecord(folder, name);
    insertImages(db, caseId, [record('a.jpg'), record('b.jpg')]);
    copyFileSync(good('BLA_00001.jpg'), join(folder, 'b.jpg'));

    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(outcome.classified).toBe(1);
    expect(outcome.failures.map((f) => f.file)).toEqual(['b.jpg']);
    expect(outcome.failures[0]!.reason).toContain('not classified or counted');
    expect(cellFiles(caseId)).toEqual(['a.jpg']);
    expect(countedCells(caseId)).toBe(1);
  });

  it('classifies such an image from an identical copy stored as its duplicate, once, and names it', async () => {
    // An interrupted run stored a.jpg and its copy a-copy.jpg (as a.jpg's duplicate); then a.jpg was overwritten.
    const { caseId, folder } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'a-copy.jpg': good('ART_00002.jpg'), 'b.jpg': good('EOS_00001.jpg') });
    const record = (name: string) => storedRecord(folder, name);
    const stored = insertImages(db, caseId, [record('a.jpg'), record('a-copy.jpg'), record('b.jpg')]);
    expect(stored.duplicates).toEqual([{ relativePath: 'a-copy.jpg', duplicateOf: 'a.jpg' }]);
    expect(listImportFailures(db, caseId)[0]!.reason).toMatch(/^Same image as a\.jpg, which is not classified yet/);
    copyFileSync(good('BLA_00001.jpg'), join(folder, 'a.jpg'));

    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(outcome).toMatchObject({ classified: 2, failures: [], duplicates: 0 });
    expect(outcome.changedAfterImport.map((f) => f.file)).toEqual(['a.jpg']);
    expect(outcome.changedAfterImport[0]!.reason).toContain('before it was classified');
    expect(outcome.changedAfterImport[0]!.reason).toContain('It is classified from a-copy.jpg, an identical copy');
    expect(outcome.changedAfterImport[0]!.reason).toContain('keeps the cell as it was imported');
    expect(cellFiles(caseId)).toEqual(['a.jpg', 'b.jpg']);
    expect(countedCells(caseId)).toBe(2);
    expect(listImportFailures(db, caseId)).toEqual([{ file: 'a-copy.jpg', reason: 'Same image as a.jpg; counted once.' }]);

    // Classified from the copy's bytes, which are a.jpg's imported ones: the same result as a clean case of them.
    const clean = await classifiedAlone(good('ART_00002.jpg'));
    const cell = listCells(db, { caseId, scope: 'all', limit: 10 }).rows.find((c) => c.relativePath === 'a.jpg')!;
    expect(cell.predicted).toBe(clean.predicted);
    cell.probabilities.forEach((p, i) => expect(p).toBeCloseTo(clean.probabilities[i]!, 6));

    // The next run names a.jpg as any classified cell whose file changed, and classifies nothing again.
    const again = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(again).toMatchObject({ classified: 0, failures: [] });
    expect(again.changedAfterImport.map((f) => f.file)).toEqual(['a.jpg']);
    expect(again.changedAfterImport[0]!.reason).toContain('changed on disk after it was analysed');
  });

  it('does not classify it when the copy changed too, and says so for both files', async () => {
    const { caseId, folder } = newCase({ 'a.jpg': good('ART_00002.jpg'), 'a-copy.jpg': good('ART_00002.jpg') });
    const record = (name: string) => storedRecord(folder, name);
    insertImages(db, caseId, [record('a.jpg'), record('a-copy.jpg')]);
    copyFileSync(good('BLA_00001.jpg'), join(folder, 'a.jpg'));
    rmSync(join(folder, 'a-copy.jpg'));

    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(outcome).toMatchObject({ classified: 0, changedAfterImport: [] });
    expect(outcome.failures.map((f) => f.file)).toEqual(['a.jpg']);
    expect(outcome.failures[0]!.reason).toContain('not classified or counted');
    expect(countedCells(caseId)).toBe(0);
    expect(listImportFailures(db, caseId)).toEqual([
      { file: 'a-copy.jpg', reason: 'Same image as a.jpg, which is not classified yet; the image is counted once, as a.jpg, when an analysis classifies it.' },
    ]);
  });
});

/** The model's result for one file in a case of its own (a second database). */
async function classifiedAlone(source: string): Promise<{ predicted: string; probabilities: number[] }> {
  const own = tempDir('reimport-alone');
  const other = openDatabase(join(own.path, 'alone.sqlite'));
  try {
    const folder = join(own.path, 'case');
    mkdirSync(folder);
    copyFileSync(source, join(folder, 'x.jpg'));
    const patient = upsertPatient(other, { labId: 'P-2', actor: 'test' });
    const caseId = createCase(other, { patientId: patient.id, accession: 'BM-2', specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
    await analyseCaseFolder(sqliteStore(other), model, caseId);
    const cell = listCells(other, { caseId, scope: 'all', limit: 1 }).rows[0]!;
    return { predicted: cell.predicted, probabilities: cell.probabilities };
  } finally {
    closeDatabase(other);
    own.remove();
  }
}

describe('image records in SQL', () => {
  it('refuses different content under a path that imported well, and a second replacement of one failure', async () => {
    const { caseId } = newCase({});
    const sha = (c: string) => c.repeat(64);
    const file = (relativePath: string, sha256: string, importError: string | null = null) => ({
      relativePath,
      sha256,
      bytes: 10,
      width: importError === null ? 250 : null,
      height: importError === null ? 250 : null,
      importError,
    });
    insertImages(db, caseId, [file('good.jpg', sha('a')), file('bad.jpg', '', 'bad.jpg is empty (0 bytes); it is not an image.')]);
    expect(() => insertImages(db, caseId, [file('good.jpg', sha('b'))])).toThrow(DatabaseError);
    const fixed = insertImages(db, caseId, [file('bad.jpg', sha('c'))]);
    expect(fixed.reimported).toEqual(['bad.jpg']);

    const failedId = (db.raw.prepare(`SELECT id FROM images WHERE relative_path = 'bad.jpg' AND import_error IS NOT NULL`).get() as { id: number }).id;
    const insert = db.raw.prepare(
      `INSERT INTO images (case_id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, created_at, replaces)
       VALUES (?, ?, ?, 10, 250, 250, NULL, NULL, 'now', ?)`,
    );
    expect(() => insert.run(caseId, 'bad.jpg', sha('d'), failedId)).toThrow(/replace the current failed import/);
    const goodId = (db.raw.prepare(`SELECT id FROM images WHERE relative_path = 'good.jpg'`).get() as { id: number }).id;
    expect(() => insert.run(caseId, 'good.jpg', sha('e'), goodId)).toThrow(/replace the current failed import/);
    expect(() => insert.run(caseId, 'good.jpg', sha('f'), null)).toThrow(/already in the case/);
  });
});
