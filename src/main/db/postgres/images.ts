// A case's images on PostgreSQL: the twin of ../images.ts (ImageRepository of contract.ts). What an import stores,
// skips or refuses is ../images.ts's planImport, given the case's current records of the listed paths and the stored
// originals of the contents it brings (two queries, not two per file); the rows are then written with one
// INSERT … SELECT FROM unnest(arrays) per chunk (the fastest write measured, src/main/db/README.md).
import { nowIso } from '../connection';
import type { ImageRepository } from '../contract';
import {
  CURRENT,
  IMPORT_FAILURES_SQL,
  duplicateOfId,
  groupSharedCrops,
  imageNotFound,
  importFailureOf,
  importInput,
  imagesImportedAudit,
  planImport,
  requireImportable,
  SHARED_CROPS_SQL,
  sharedCropsBatches,
  sharedCropsConfirmation,
  toImageRow,
  toSharedCropsConfirmation,
  type ImageDbRow,
  type ImportFailureDbRow,
  type InsertImagesResult,
  type PlannedImage,
  type SharedCropsConfirmationDbRow,
  type SharedCropsDbRow,
} from '../images';
import { appendAuditPg } from './audit';
import { pgRequireCase } from './cases';
import { named, positional } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

/** Rows per INSERT statement: each column travels as one array parameter. */
export const PG_BATCH_ROWS = 5000;

async function insertPlanned(client: Queryable, caseId: number, rows: readonly PlannedImage[], at: string): Promise<ImageDbRow[]> {
  // Ids are taken from the identity's sequence first, in import order, so that a copy can name an original of the
  // same import (duplicate_of) in the same statement, and ids keep the import order as on SQLite.
  const ids = (
    await client.query<{ id: number }>(`SELECT nextval(pg_get_serial_sequence('images', 'id')) AS id FROM generate_series(1, $1)`, [rows.length])
  ).rows
    .map((r) => r.id)
    .sort((a, b) => a - b);
  const stored: ImageDbRow[] = [];
  for (let start = 0; start < rows.length; start += PG_BATCH_ROWS) {
    const chunk = rows.slice(start, start + PG_BATCH_ROWS);
    const chunkIds = ids.slice(start, start + chunk.length);
    const { rows: inserted } = await client.query<ImageDbRow>(
      `INSERT INTO images (id, case_id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, created_at, replaces)
       SELECT u.id, $1, u.relative_path, u.sha256, u.bytes, u.width, u.height, u.import_error, u.duplicate_of, $2, u.replaces
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::integer[], $8::integer[], $9::text[], $10::bigint[], $11::bigint[])
            AS u(id, relative_path, sha256, bytes, width, height, import_error, duplicate_of, replaces)
       ORDER BY u.id
       RETURNING *`,
      [
        caseId,
        at,
        chunkIds,
        chunk.map((r) => r.relativePath),
        chunk.map((r) => r.sha256),
        chunk.map((r) => r.bytes),
        chunk.map((r) => r.width),
        chunk.map((r) => r.height),
        chunk.map((r) => r.importError),
        chunk.map((r) => duplicateOfId(r, ids)),
        chunk.map((r) => r.replaces),
      ],
    );
    const byId = new Map(inserted.map((r) => [r.id, r]));
    for (const id of chunkIds) stored.push(byId.get(id)!);
  }
  return stored;
}

export function pgImageRepository(scope: PgScope): ImageRepository {
  const list = <R>(context: string, text: string, params: Record<string, unknown>, map: (r: ImageDbRow) => R) =>
    pgRead(scope, context, async (q) => {
      const query = named(text, params);
      return (await q.query<ImageDbRow>(query.text, query.values)).rows.map(map);
    });
  return {
    insertImages: async (caseId, files, actor = 'system') => {
      importInput(files);
      return pgUnit(scope, `Importing images into case ${caseId}`, async (client) => {
        // The case row is locked for the import: two stations importing into one case take turns, so that each sees
        // the other's files when it decides what is a copy, a re-import or a resumed import (the schema's unique
        // index on a case's original contents would otherwise refuse the second original of one content).
        const row = await pgRequireCase(client, caseId, true);
        requireImportable(row);
        const paths = files.map((f) => f.relativePath);
        const contents = files.filter((f) => f.importError === null).map((f) => f.sha256.toLowerCase());
        const current = await client.query<ImageDbRow>(`SELECT * FROM images AS i WHERE i.case_id = $1 AND i.relative_path = ANY($2::text[]) AND ${CURRENT}`, [
          caseId,
          paths,
        ]);
        const originals = await client.query<{ id: number; relative_path: string; sha256: string }>(
          'SELECT id, relative_path, sha256 FROM images WHERE case_id = $1 AND sha256 = ANY($2::text[]) AND duplicate_of IS NULL AND import_error IS NULL',
          [caseId, contents],
        );
        const plan = planImport(
          row.accession,
          files,
          new Map(current.rows.map((r) => [r.relative_path, r])),
          new Map(originals.rows.map((r) => [r.sha256, r])),
        );
        const at = nowIso();
        const inserted = plan.rows.length === 0 ? [] : await insertPlanned(client, caseId, plan.rows, at);
        const result: InsertImagesResult = {
          inserted: inserted.map(toImageRow),
          duplicates: plan.duplicates,
          alreadyImported: plan.alreadyImported,
          reimported: plan.reimported,
        };
        const audit = imagesImportedAudit(caseId, actor, result);
        if (audit !== null) await appendAuditPg(client, audit, at);
        return result;
      });
    },

    listImages: (caseId) =>
      list(`Listing the images of case ${caseId}`, `SELECT * FROM images AS i WHERE i.case_id = @caseId AND ${CURRENT} ORDER BY i.id`, { caseId }, toImageRow),

    // A read, as on SQLite: two workers that both classify an image are settled by the schema's unique (image, model)
    // key, which refuses the second batch whole ('duplicate'), never a second prediction.
    listImagesNeedingPrediction: (caseId, modelRowId) =>
      list(
        `Listing the unclassified images of case ${caseId}`,
        `SELECT i.* FROM images AS i
         WHERE i.case_id = @caseId AND i.import_error IS NULL AND i.duplicate_of IS NULL
           AND NOT EXISTS (SELECT 1 FROM predictions AS p WHERE p.image_id = i.id AND p.model_id = @modelId)
         ORDER BY i.id`,
        { caseId, modelId: modelRowId },
        toImageRow,
      ),

    getImage: async (caseId, imageId) => {
      const [row] = await list(
        `Reading image ${imageId} of case ${caseId}`,
        'SELECT * FROM images WHERE id = @imageId AND case_id = @caseId',
        { imageId, caseId },
        toImageRow,
      );
      if (row === undefined) throw imageNotFound(caseId, imageId);
      return row;
    },

    listCopiesOf: (caseId, imageId) =>
      list(
        `Listing the copies of image ${imageId} of case ${caseId}`,
        'SELECT relative_path FROM images WHERE case_id = @caseId AND duplicate_of = @imageId ORDER BY id',
        { caseId, imageId },
        (r) => r.relative_path,
      ),

    listImportFailures: (caseId) =>
      pgRead(scope, `Listing the import failures of case ${caseId}`, async (q) => {
        const { text, values } = named(IMPORT_FAILURES_SQL, { caseId });
        return (await q.query<ImportFailureDbRow>(text, values)).rows.map(importFailureOf);
      }),

    // Issue 21: the same statements as SQLite's (SHARED_CROPS_SQL), with $n placeholders.
    findCropsOfOtherPatients: (patientId, sha256s) =>
      pgRead(scope, "Looking for the folder's crops in other patients' cases", async (q) => {
        const rows: SharedCropsDbRow[] = [];
        for (const batch of sharedCropsBatches(sha256s)) {
          rows.push(...(await q.query<SharedCropsDbRow>(positional(SHARED_CROPS_SQL.find(batch.length)), [...batch, patientId])).rows);
        }
        return groupSharedCrops(rows);
      }),

    recordSharedCropsConfirmations: async (input) => {
      const { reason, by, audit } = sharedCropsConfirmation(input);
      if (input.matches.length === 0) return;
      await pgUnit(scope, `Recording the shared crops of case ${input.caseId}`, async (client) => {
        const at = nowIso();
        const insert = positional(SHARED_CROPS_SQL.insert);
        for (const m of input.matches) await client.query(insert, [input.caseId, m.caseId, m.sharedFiles, reason, by, at]);
        await appendAuditPg(client, audit, at);
      });
    },

    listSharedCropsConfirmations: (caseId) =>
      pgRead(scope, `Reading the shared-crops confirmations of case ${caseId}`, async (q) =>
        (await q.query<SharedCropsConfirmationDbRow>(positional(SHARED_CROPS_SQL.list), [caseId])).rows.map(toSharedCropsConfirmation),
      ),
  };
}
