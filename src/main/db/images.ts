import type { ImportFailure } from '../../shared/api';
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
