import type { ImportFailure } from '../../shared/api';
import { appendAudit } from './audit';
import { requireCase } from './cases';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { ImageRow } from './types';

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

interface ImageDbRow {
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

const toRow = (r: ImageDbRow): ImageRow => ({
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
const CURRENT = 'NOT EXISTS (SELECT 1 FROM images AS later WHERE later.replaces = i.id)';

/**
 * Records a case's files in one transaction. Same content as an image already in the case (by SHA-256) is stored
 * as a duplicate and reported, so it is explained to the user but never classified or counted twice.
 *
 * A path already in the case: same content and same outcome is skipped (a resumed import). A path whose current
 * record failed import and whose content differs now is imported again, as a new record replacing the failed one
 * (the technician fixed the file). A path that imported well is never replaced: its cell may already be counted
 * and reviewed, so different content under that path is refused.
 */
export function insertImages(db: MarrowDatabase, caseId: number, files: readonly ImageFile[], actor = 'system'): InsertImagesResult {
  files.forEach(validate);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.relativePath)) throw new DatabaseError('duplicate', `${f.relativePath} is listed twice in the same import.`);
    seen.add(f.relativePath);
  }
  return inTransaction(db, `Importing images into case ${caseId}`, () => {
    const row = requireCase(db, caseId);
    if (row.status === 'signed') {
      throw new DatabaseError('signed_case', `Case ${row.accession} is signed; amend it (with a reason) before adding images.`);
    }
    const byPath = sql(db, `SELECT * FROM images AS i WHERE i.case_id = ? AND i.relative_path = ? AND ${CURRENT}`);
    const original = sql(db, 'SELECT id, relative_path FROM images WHERE case_id = ? AND sha256 = ? AND duplicate_of IS NULL AND import_error IS NULL');
    const insert = sql(
      db,
      `INSERT INTO images (case_id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, created_at, replaces)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    const at = nowIso();
    const result: InsertImagesResult = { inserted: [], duplicates: [], alreadyImported: [], reimported: [] };
    for (const f of files) {
      const sha256 = f.sha256.toLowerCase();
      const importError = f.importError === null ? null : f.importError.trim();
      const existing = byPath.get(caseId, f.relativePath) as ImageDbRow | undefined;
      if (existing !== undefined) {
        if (existing.sha256 === sha256 && (existing.import_error === null) === (importError === null)) {
          result.alreadyImported.push(f.relativePath);
          continue;
        }
        if (existing.import_error === null) {
          throw new DatabaseError(
            'duplicate',
            `${f.relativePath} was already imported into case ${row.accession} with different content or result; ` +
              'the file changed on disk since. Restore the original file or create a new case.',
          );
        }
        result.reimported.push(f.relativePath);
      }
      const first = importError === null ? (original.get(caseId, sha256) as { id: number; relative_path: string } | undefined) : undefined;
      const created = insert.get(
        caseId,
        f.relativePath,
        sha256,
        f.bytes,
        f.width,
        f.height,
        importError,
        first?.id ?? null,
        at,
        existing?.id ?? null,
      ) as ImageDbRow;
      result.inserted.push(toRow(created));
      if (first !== undefined) result.duplicates.push({ relativePath: f.relativePath, duplicateOf: first.relative_path });
    }
    if (result.inserted.length > 0) {
      appendAudit(
        db,
        {
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
        },
        at,
      );
    }
    return result;
  });
}

/** The current record of each path of the case; a failed import replaced by a later import is history, not listed. */
export function listImages(db: MarrowDatabase, caseId: number): ImageRow[] {
  return read(`Listing the images of case ${caseId}`, () =>
    (sql(db, `SELECT * FROM images AS i WHERE i.case_id = ? AND ${CURRENT} ORDER BY i.id`).all(caseId) as ImageDbRow[]).map(toRow),
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
    ).map(toRow),
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

/** Only an image of a stored case resolves: 'not_found' otherwise (the image protocol relies on it). */
export function getImage(db: MarrowDatabase, caseId: number, imageId: number): ImageRow {
  const row = read(
    `Reading image ${imageId} of case ${caseId}`,
    () => sql(db, 'SELECT * FROM images WHERE id = ? AND case_id = ?').get(imageId, caseId) as ImageDbRow | undefined,
  );
  if (row === undefined) throw new DatabaseError('not_found', `Case ${caseId} has no image with id ${imageId}.`);
  return toRow(row);
}

/**
 * Files that are not counted: those whose current record failed import, and duplicates (the reason names the
 * original, and says so when the original has no prediction yet, e.g. after an interrupted analysis, since the copy
 * is then not counted at all). A failure that a later import of the fixed file replaced is no longer listed.
 */
export function listImportFailures(db: MarrowDatabase, caseId: number): ImportFailure[] {
  return read(`Listing the import failures of case ${caseId}`, () =>
    (
      sql(
        db,
        `SELECT i.relative_path, i.import_error, o.relative_path AS original,
                EXISTS (SELECT 1 FROM predictions AS p WHERE p.image_id = o.id) AS original_classified
         FROM images AS i LEFT JOIN images AS o ON o.id = i.duplicate_of
         WHERE i.case_id = ? AND (i.import_error IS NOT NULL OR i.duplicate_of IS NOT NULL) AND ${CURRENT}
         ORDER BY i.id`,
      ).all(caseId) as { relative_path: string; import_error: string | null; original: string | null; original_classified: 0 | 1 }[]
    ).map((r) => ({
      file: r.relative_path,
      reason:
        r.import_error ??
        (r.original_classified === 1
          ? `Same image as ${r.original ?? '?'}; counted once.`
          : `Same image as ${r.original ?? '?'}, which is not classified yet; the image is counted once, as ${r.original ?? '?'}, when an analysis classifies it.`),
    })),
  );
}
