import type { ImportFailure, SharedCropsRecord } from '../../shared/api';
import { appendAudit, type AuditEntry } from './audit';
import { requireCase } from './cases';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { CaseRow, ImageRow } from './types';

/**
 * A file to store: an ImageRow before the database gives it an id, a case and a time. Its sha256 may be '' only with
 * an importError (e.g. an unreadable file); duplicateOf is decided on insert.
 */
export type ImageFile = Omit<ImageRow, 'id' | 'caseId' | 'duplicateOf' | 'createdAt'>;

export interface InsertImagesResult {
  /** New rows, duplicates included (stored with duplicateOf set; never classified or counted). */
  inserted: ImageRow[];
  /** Files whose content equals an image already in the case; duplicateOf is that image's relative path. */
  duplicates: { relativePath: string; duplicateOf: string }[];
  /** Files already imported in this case with the same content (a resumed import): skipped. */
  alreadyImported: string[];
  /**
   * Files whose current record is a failed import and whose content (or result) is different now, e.g. a good copy
   * put over a truncated one: stored as a new record that replaces the failed one, which stays as history.
   */
  reimported: string[];
}

/** An images row as either engine returns it. */
export interface ImageDbRow {
  id: number;
  case_id: number;
  relative_path: string;
  sha256: string;
  bytes: number;
  width: number | null;
  height: number | null;
  import_error: string | null;
  duplicate_of: number | null;
  created_at: string;
  replaces: number | null;
}

export const toImageRow = (r: ImageDbRow): ImageRow => ({
  id: r.id,
  caseId: r.case_id,
  relativePath: r.relative_path,
  sha256: r.sha256,
  bytes: r.bytes,
  width: r.width,
  height: r.height,
  importError: r.import_error,
  duplicateOf: r.duplicate_of,
  createdAt: r.created_at,
});

const SHA256 = /^[0-9a-f]{64}$/;

function validate(file: ImageFile): void {
  const where = file.relativePath || '(no file name)';
  if (file.relativePath.trim() === '') throw new DatabaseError('constraint', 'An image has an empty file path.');
  if (file.importError === null && !SHA256.test(file.sha256.toLowerCase())) {
    throw new DatabaseError('constraint', `${where}: "${file.sha256}" is not a SHA-256 hex digest.`);
  }
  if (file.importError !== null && file.importError.trim() === '') {
    throw new DatabaseError('constraint', `${where}: an import error must say what went wrong.`);
  }
  if (!Number.isInteger(file.bytes) || file.bytes < 0) throw new DatabaseError('constraint', `${where}: invalid byte size ${file.bytes}.`);
  for (const [name, value] of [
    ['width', file.width],
    ['height', file.height],
  ] as const) {
    if (value !== null && (!Number.isInteger(value) || value <= 0)) {
      throw new DatabaseError('constraint', `${where}: invalid ${name} ${value}.`);
    }
  }
}

/** A path's current record: the latest import of it, i.e. the one that no later import replaces. */
export const CURRENT = 'NOT EXISTS (SELECT 1 FROM images AS later WHERE later.replaces = i.id)';

/** The files of one import, checked before any database work (both engines): each valid, no path listed twice. */
export function importInput(files: readonly ImageFile[]): void {
  files.forEach(validate);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.relativePath)) throw new DatabaseError('duplicate', `${f.relativePath} is listed twice in the same import.`);
    seen.add(f.relativePath);
  }
}

/** A row to insert: its file as stored, and what it is a copy of or replaces. */
export type PlannedImage = Pick<ImageRow, 'relativePath' | 'sha256' | 'bytes' | 'width' | 'height' | 'importError'> & {
  /** The original: an image already stored (id), or an earlier row of this import (index into rows), or none. */
  duplicateOf: { id: number } | { index: number } | null;
  /** The failed record of the same path this row replaces. */
  replaces: number | null;
};

export interface ImportPlan {
  rows: PlannedImage[];
  duplicates: InsertImagesResult['duplicates'];
  alreadyImported: string[];
  reimported: string[];
}

/**
 * What an import does, decided from what the case already holds (both engines): `current` is the current record of
 * each listed path that has one, `originals` the stored original of each content (by SHA-256) the import brings.
 * Same content as an image already in the case, or as an earlier file of this import, is stored as its duplicate.
 * A path already in the case: same content and outcome is skipped (a resumed import); one whose record failed import
 * and whose content or outcome differs now is stored again, replacing the failed record; one that imported well is
 * never replaced (its cell may be counted and reviewed), so different content under it refuses the whole import.
 */
export function planImport(
  accession: string,
  files: readonly ImageFile[],
  current: ReadonlyMap<string, Pick<ImageDbRow, 'id' | 'sha256' | 'import_error'>>,
  originals: ReadonlyMap<string, { id: number; relative_path: string }>,
): ImportPlan {
  const plan: ImportPlan = { rows: [], duplicates: [], alreadyImported: [], reimported: [] };
  const firstInImport = new Map<string, { index: number; relativePath: string }>();
  for (const f of files) {
    const sha256 = f.sha256.toLowerCase();
    const importError = f.importError === null ? null : f.importError.trim();
    const existing = current.get(f.relativePath);
    if (existing !== undefined) {
      if (existing.sha256 === sha256 && (existing.import_error === null) === (importError === null)) {
        plan.alreadyImported.push(f.relativePath);
        continue;
      }
      if (existing.import_error === null) {
        throw new DatabaseError(
          'duplicate',
          `${f.relativePath} was already imported into case ${accession} with different content or result; ` +
            'the file changed on disk since. Restore the original file or create a new case.',
        );
      }
      plan.reimported.push(f.relativePath);
    }
    let duplicateOf: PlannedImage['duplicateOf'] = null;
    if (importError === null) {
      const stored = originals.get(sha256);
      const earlier = firstInImport.get(sha256);
      if (stored !== undefined) {
        duplicateOf = { id: stored.id };
        plan.duplicates.push({ relativePath: f.relativePath, duplicateOf: stored.relative_path });
      } else if (earlier !== undefined) {
        duplicateOf = { index: earlier.index };
        plan.duplicates.push({ relativePath: f.relativePath, duplicateOf: earlier.relativePath });
      } else {
        firstInImport.set(sha256, { index: plan.rows.length, relativePath: f.relativePath });
      }
    }
    plan.rows.push({
      relativePath: f.relativePath,
      sha256,
      bytes: f.bytes,
      width: f.width,
      height: f.height,
      importError,
      duplicateOf,
      replaces: existing?.id ?? null,
    });
  }
  return plan;
}

/** The id a planned row's duplicate_of holds, given the ids of the rows of its import stored so far. */
export function duplicateOfId(row: PlannedImage, ids: readonly number[]): number | null {
  if (row.duplicateOf === null) return null;
  return 'id' in row.duplicateOf ? row.duplicateOf.id : ids[row.duplicateOf.index]!;
}

/** The audit entry of an import that stored rows; none when it only skipped files. */
export function imagesImportedAudit(caseId: number, actor: string, result: InsertImagesResult): AuditEntry | null {
  if (result.inserted.length === 0) return null;
  return {
    actor,
    action: 'images_imported',
    caseId,
    detail: {
      inserted: result.inserted.length,
      importErrors: result.inserted.filter((r) => r.importError !== null).length,
      duplicates: result.duplicates.length,
      alreadyImported: result.alreadyImported.length,
      reimported: result.reimported.length,
    },
  };
}

export function requireImportable(row: CaseRow): void {
  if (row.status === 'signed') {
    throw new DatabaseError('signed_case', `Case ${row.accession} is signed; amend it (with a reason) before adding images.`);
  }
}

/**
 * Records a case's files in one transaction (see planImport for what is stored, skipped or refused). Same content as
 * an image already in the case (by SHA-256) is stored as a duplicate and reported, so it is explained to the user but
 * never classified or counted twice.
 */
export function insertImages(db: MarrowDatabase, caseId: number, files: readonly ImageFile[], actor = 'system'): InsertImagesResult {
  importInput(files);
  return inTransaction(db, `Importing images into case ${caseId}`, () => {
    const row = requireCase(db, caseId);
    requireImportable(row);
    const byPath = sql(db, `SELECT * FROM images AS i WHERE i.case_id = ? AND i.relative_path = ? AND ${CURRENT}`);
    const original = sql(db, 'SELECT id, relative_path FROM images WHERE case_id = ? AND sha256 = ? AND duplicate_of IS NULL AND import_error IS NULL');
    const current = new Map<string, ImageDbRow>();
    const originals = new Map<string, { id: number; relative_path: string }>();
    for (const f of files) {
      const existing = byPath.get(caseId, f.relativePath) as ImageDbRow | undefined;
      if (existing !== undefined) current.set(f.relativePath, existing);
      const sha256 = f.sha256.toLowerCase();
      const first = f.importError === null ? (original.get(caseId, sha256) as { id: number; relative_path: string } | undefined) : undefined;
      if (first !== undefined) originals.set(sha256, first);
    }
    const plan = planImport(row.accession, files, current, originals);
    const insert = sql(
      db,
      `INSERT INTO images (case_id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, created_at, replaces)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    const at = nowIso();
    const result: InsertImagesResult = { inserted: [], duplicates: plan.duplicates, alreadyImported: plan.alreadyImported, reimported: plan.reimported };
    const ids: number[] = [];
    for (const p of plan.rows) {
      const created = insert.get(
        caseId,
        p.relativePath,
        p.sha256,
        p.bytes,
        p.width,
        p.height,
        p.importError,
        duplicateOfId(p, ids),
        at,
        p.replaces,
      ) as ImageDbRow;
      ids.push(created.id);
      result.inserted.push(toImageRow(created));
    }
    const audit = imagesImportedAudit(caseId, actor, result);
    if (audit !== null) appendAudit(db, audit, at);
    return result;
  });
}

/** The current record of each path of the case; a failed import replaced by a later import is history, not listed. */
export function listImages(db: MarrowDatabase, caseId: number): ImageRow[] {
  return read(`Listing the images of case ${caseId}`, () =>
    (sql(db, `SELECT * FROM images AS i WHERE i.case_id = ? AND ${CURRENT} ORDER BY i.id`).all(caseId) as ImageDbRow[]).map(toImageRow),
  );
}

/** Importable, non-duplicate images without a prediction from this model: what a (resumed) analysis must classify. */
export function listImagesNeedingPrediction(db: MarrowDatabase, caseId: number, modelRowId: number): ImageRow[] {
  return read(`Listing the unclassified images of case ${caseId}`, () =>
    (
      sql(
        db,
        `SELECT i.* FROM images AS i
         WHERE i.case_id = ? AND i.import_error IS NULL AND i.duplicate_of IS NULL
           AND NOT EXISTS (SELECT 1 FROM predictions AS p WHERE p.image_id = i.id AND p.model_id = ?)
         ORDER BY i.id`,
      ).all(caseId, modelRowId) as ImageDbRow[]
    ).map(toImageRow),
  );
}

/** The paths of the image's identical copies, stored as its duplicates, in import order. */
export function listCopiesOf(db: MarrowDatabase, caseId: number, imageId: number): string[] {
  return read(`Listing the copies of image ${imageId} of case ${caseId}`, () =>
    (sql(db, 'SELECT relative_path FROM images WHERE case_id = ? AND duplicate_of = ? ORDER BY id').all(caseId, imageId) as { relative_path: string }[]).map(
      (r) => r.relative_path,
    ),
  );
}

export function imageNotFound(caseId: number, imageId: number): DatabaseError {
  return new DatabaseError('not_found', `Case ${caseId} has no image with id ${imageId}.`);
}

/** Only an image of a stored case resolves: 'not_found' otherwise (the image protocol relies on it). */
export function getImage(db: MarrowDatabase, caseId: number, imageId: number): ImageRow {
  const row = read(
    `Reading image ${imageId} of case ${caseId}`,
    () => sql(db, 'SELECT * FROM images WHERE id = ? AND case_id = ?').get(imageId, caseId) as ImageDbRow | undefined,
  );
  if (row === undefined) throw imageNotFound(caseId, imageId);
  return toImageRow(row);
}

/**
 * Files that are not counted: those whose current record failed import, and duplicates (the reason names the
 * original, and says so when the original has no prediction yet, e.g. after an interrupted analysis, since the copy
 * is then not counted at all). A failure that a later import of the fixed file replaced is no longer listed.
 */
export function listImportFailures(db: MarrowDatabase, caseId: number): ImportFailure[] {
  return read(`Listing the import failures of case ${caseId}`, () =>
    (sql(db, IMPORT_FAILURES_SQL).all({ caseId }) as ImportFailureDbRow[]).map(importFailureOf),
  );
}

/** A case of another patient holding stored images with the same content as some of a folder's files. */
export interface SharedCropsMatch {
  caseId: number;
  accession: string;
  patientId: number;
  patientLabId: string;
  patientName: string | null;
  /** The given contents (SHA-256, distinct, sorted) that the other case holds as imported, counted images. */
  sha256s: string[];
  /** sha256s.length: how many of the files' contents the two cases share. */
  sharedFiles: number;
}

/**
 * The shared-crops statements, with `?` placeholders, written to run on both engines (PostgreSQL: `?` → `$n`, as
 * test/integration/db/shared-crops.test.ts runs them): no aggregate, no dialect function, a plain IN list.
 * `find(n)` takes the n hashes and then the patient id.
 */
export const SHARED_CROPS_SQL = {
  find: (hashes: number): string =>
    `SELECT DISTINCT i.sha256, c.id AS case_id, c.accession, p.id AS patient_id, p.lab_id, p.name
     FROM images AS i
     JOIN cases AS c ON c.id = i.case_id
     JOIN patients AS p ON p.id = c.patient_id
     WHERE i.sha256 IN (${Array.from({ length: hashes }, () => '?').join(', ')})
       AND i.import_error IS NULL AND i.duplicate_of IS NULL
       AND c.patient_id <> ?`,
  insert: `INSERT INTO shared_crops_confirmations (case_id, other_case_id, shared_files, reason, confirmed_by, confirmed_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  list: `SELECT s.id, s.case_id, s.other_case_id, c.accession, p.lab_id, p.name, s.shared_files, s.reason, s.confirmed_by, s.confirmed_at
     FROM shared_crops_confirmations AS s
     JOIN cases AS c ON c.id = s.other_case_id
     JOIN patients AS p ON p.id = c.patient_id
     WHERE s.case_id = ?
     ORDER BY s.id`,
} as const;

/** A row of SHARED_CROPS_SQL.find, as either engine returns it. */
export interface SharedCropsDbRow {
  sha256: string;
  case_id: number;
  accession: string;
  patient_id: number;
  lab_id: string;
  name: string | null;
}

/** SQLite's default limit on bound parameters is 32,766; PostgreSQL's 65,535. 500 a statement stays far below both. */
const HASHES_PER_STATEMENT = 500;

/** The hashes to look up, lower-case, distinct, well formed, in batches of one statement each (both engines). */
export function sharedCropsBatches(sha256s: readonly string[]): string[][] {
  const hashes = [...new Set(sha256s.map((h) => h.toLowerCase()))].filter((h) => SHA256.test(h));
  const batches: string[][] = [];
  for (let start = 0; start < hashes.length; start += HASHES_PER_STATEMENT) batches.push(hashes.slice(start, start + HASHES_PER_STATEMENT));
  return batches;
}

/** The rows of all batches grouped by case (a hash falls in one batch only, so nothing is counted twice). */
export function groupSharedCrops(rows: readonly SharedCropsDbRow[]): SharedCropsMatch[] {
  const byCase = new Map<number, Omit<SharedCropsMatch, 'sha256s' | 'sharedFiles'> & { hashes: Set<string> }>();
  for (const r of rows) {
    let found = byCase.get(Number(r.case_id));
    if (found === undefined) {
      found = {
        caseId: Number(r.case_id),
        accession: r.accession,
        patientId: Number(r.patient_id),
        patientLabId: r.lab_id,
        patientName: r.name,
        hashes: new Set(),
      };
      byCase.set(found.caseId, found);
    }
    found.hashes.add(r.sha256);
  }
  return [...byCase.values()]
    .sort((a, b) => a.caseId - b.caseId)
    .map(({ hashes: found, ...match }) => ({ ...match, sha256s: [...found].sort(), sharedFiles: found.size }));
}

/**
 * Cases of patients other than `patientId` that hold an imported, non-duplicate image whose SHA-256 is among `sha256s`
 * (issue 21: the same folder of crops filed under two patients), by case id. A patient id that no case has yet (a
 * new patient) matches every other patient's cases. Uses the partial index images_content (its WHERE is repeated
 * here so that the planner may use it). The SQL is plain enough for both engines: with `$n` placeholders it runs
 * unchanged on PostgreSQL (no aggregate: the rows are grouped here, so no group_concat/string_agg dialect).
 */
export function findCropsOfOtherPatients(db: MarrowDatabase, patientId: number, sha256s: readonly string[]): SharedCropsMatch[] {
  return read(`Looking for the folder's crops in other patients' cases`, () =>
    groupSharedCrops(
      sharedCropsBatches(sha256s).flatMap((batch) => sql(db, SHARED_CROPS_SQL.find(batch.length)).all(...batch, patientId) as SharedCropsDbRow[]),
    ),
  );
}

/** A recorded confirmation that a case's crops may also be another patient's case's (append-only): the API's record
 * with the row's own ids. */
export interface SharedCropsConfirmationRow extends SharedCropsRecord {
  id: number;
  caseId: number;
}

export interface SharedCropsConfirmationInput {
  caseId: number;
  matches: readonly Pick<SharedCropsMatch, 'caseId' | 'sharedFiles'>[];
  reason: string;
  by: string;
}

/** The checked reason and name of a confirmation (both engines), and its audit row. */
export function sharedCropsConfirmation(input: SharedCropsConfirmationInput): { reason: string; by: string; audit: AuditEntry } {
  const reason = input.reason.trim();
  const by = input.by.trim();
  if (reason === '') throw new DatabaseError('constraint', 'The reason for filing crops that another patient’s case holds is empty.');
  if (by === '') throw new DatabaseError('constraint', 'The name of the person confirming shared crops is empty.');
  const otherCases = input.matches.map((m) => ({ caseId: m.caseId, sharedFiles: m.sharedFiles }));
  return { reason, by, audit: { actor: by, action: 'shared_crops_confirmed', caseId: input.caseId, detail: { reason, otherCases } } };
}

/**
 * Records, in the caller's transaction (the case's creation), one confirmation per other case and one audit row,
 * all under the session's person (`by`, and the audit row's user id from acting-user).
 */
export function recordSharedCropsConfirmations(db: MarrowDatabase, input: SharedCropsConfirmationInput): void {
  const { reason, by, audit } = sharedCropsConfirmation(input);
  if (input.matches.length === 0) return;
  inTransaction(db, `Recording the shared crops of case ${input.caseId}`, () => {
    const at = nowIso();
    const insert = sql(db, SHARED_CROPS_SQL.insert);
    for (const m of input.matches) insert.run(input.caseId, m.caseId, m.sharedFiles, reason, by, at);
    appendAudit(db, audit, at);
  });
}

/** A row of SHARED_CROPS_SQL.list, as either engine returns it. */
export interface SharedCropsConfirmationDbRow {
  id: number;
  case_id: number;
  other_case_id: number;
  accession: string;
  lab_id: string;
  name: string | null;
  shared_files: number;
  reason: string;
  confirmed_by: string;
  confirmed_at: string;
}

export const toSharedCropsConfirmation = (r: SharedCropsConfirmationDbRow): SharedCropsConfirmationRow => ({
  id: Number(r.id),
  caseId: Number(r.case_id),
  otherCaseId: Number(r.other_case_id),
  otherAccession: r.accession,
  otherPatientLabId: r.lab_id,
  otherPatientName: r.name,
  sharedFiles: Number(r.shared_files),
  reason: r.reason,
  confirmedBy: r.confirmed_by,
  confirmedAt: r.confirmed_at,
});

/** The case's recorded shared-crops confirmations with the other case and its patient, oldest first. */
export function listSharedCropsConfirmations(db: MarrowDatabase, caseId: number): SharedCropsConfirmationRow[] {
  return read(`Reading the shared-crops confirmations of case ${caseId}`, () =>
    (sql(db, SHARED_CROPS_SQL.list).all(caseId) as SharedCropsConfirmationDbRow[]).map(toSharedCropsConfirmation),
  );
}

export const IMPORT_FAILURES_SQL = `SELECT i.relative_path, i.import_error, o.relative_path AS original,
    EXISTS (SELECT 1 FROM predictions AS p WHERE p.image_id = o.id) AS original_classified
  FROM images AS i LEFT JOIN images AS o ON o.id = i.duplicate_of
  WHERE i.case_id = @caseId AND (i.import_error IS NOT NULL OR i.duplicate_of IS NOT NULL) AND ${CURRENT}
  ORDER BY i.id`;

/** original_classified is 0/1 on SQLite and a boolean on PostgreSQL. */
export interface ImportFailureDbRow {
  relative_path: string;
  import_error: string | null;
  original: string | null;
  original_classified: 0 | 1 | boolean;
}

export function importFailureOf(r: ImportFailureDbRow): ImportFailure {
  const classified = r.original_classified === 1 || r.original_classified === true;
  return {
    file: r.relative_path,
    reason:
      r.import_error ??
      (classified
        ? `Same image as ${r.original ?? '?'}; counted once.`
        : `Same image as ${r.original ?? '?'}, which is not classified yet; the image is counted once, as ${r.original ?? '?'}, when an analysis classifies it.`),
  };
}
