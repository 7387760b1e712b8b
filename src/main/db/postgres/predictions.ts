// Predictions on PostgreSQL: the twin of ../predictions.ts (PredictionRepository of contract.ts). The row checks, the
// stored values, the refusals and the audit entries are ../predictions.ts's own functions. A batch is written with
// one INSERT … SELECT FROM unnest(arrays) per 5,000 rows (measured fastest, src/main/db/README.md); the schema's
// triggers check each row as on SQLite, and its unique (image, model) key refuses a second prediction of one cell,
// rolling the whole batch back, so two workers that classified the same image cannot both store it.
import { nowIso } from '../connection';
import type { PredictionRepository } from '../contract';
import {
  EMBEDDINGS_SQL,
  encodeFloat16,
  predictionExists,
  predictionValues,
  predictionsAddedAudits,
  toPredictionRow,
  toStoredEmbedding,
  validatePredictions,
  type EmbeddingDbRow,
  type NewPrediction,
  type PredictionDbRow,
} from '../predictions';
import { appendAuditPg } from './audit';
import { classifyPostgresError } from './errors';
import { PG_BATCH_ROWS } from './images';
import { pgModelOf } from './models';
import { named } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

/** The image of a unique-key violation on predictions (its DETAIL names the key's values), else null. */
function imageOfDuplicate(e: unknown): string | null {
  const detail = typeof e === 'object' && e !== null && 'detail' in e ? String((e as { detail: unknown }).detail) : '';
  return /\(image_id, model_id\)=\((\d+), /.exec(detail)?.[1] ?? null;
}

async function insertChunk(
  client: Queryable,
  modelRowId: number,
  modelName: string,
  chunk: readonly NewPrediction[],
  at: string,
): Promise<{ id: number; image_id: number; case_id: number }[]> {
  const values = chunk.map(predictionValues);
  try {
    // LEFT JOIN: an unknown image reaches the row trigger, which names it ([not_found]); ORDER BY keeps the batch's
    // order, so the first row the schema refuses is the one SQLite would have refused.
    return (
      await client.query<{ id: number; image_id: number; case_id: number }>(
        `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
         SELECT u.image_id, i.case_id, $1, u.predicted_class, u.probabilities, u.confidence, u.flagged, u.flag_reasons, $2
         FROM unnest($3::bigint[], $4::text[], $5::text[], $6::double precision[], $7::integer[], $8::text[]) WITH ORDINALITY
              AS u(image_id, predicted_class, probabilities, confidence, flagged, flag_reasons, n)
         LEFT JOIN images AS i ON i.id = u.image_id
         ORDER BY u.n
         RETURNING id, image_id, case_id`,
        [
          modelRowId,
          at,
          chunk.map((r) => r.imageId),
          chunk.map((r) => r.predicted),
          values.map((v) => v.probabilities),
          chunk.map((r) => r.confidence),
          values.map((v) => v.flagged),
          values.map((v) => v.flagReasons),
        ],
      )
    ).rows;
  } catch (e) {
    const classified = classifyPostgresError(e, `Storing predictions of model ${modelName}`);
    if (classified?.kind === 'duplicate') throw predictionExists(imageOfDuplicate(e) ?? '?', modelName, e);
    throw classified ?? e;
  }
}

export function pgPredictionRepository(scope: PgScope): PredictionRepository {
  return {
    insertPredictions: async (modelRowId, rows, actor = 'system') => {
      const model = await pgRead(scope, `Reading model ${modelRowId}`, (q) => pgModelOf(scope, q, modelRowId));
      const modelName = validatePredictions(model, rows);
      if (rows.length === 0) return { inserted: 0 };
      return pgUnit(scope, `Storing ${rows.length} predictions of model ${modelName}`, async (client) => {
        const at = nowIso();
        const perCase = new Map<number, number>();
        const predictionOfImage = new Map<number, number>();
        for (let start = 0; start < rows.length; start += PG_BATCH_ROWS) {
          for (const r of await insertChunk(client, modelRowId, modelName, rows.slice(start, start + PG_BATCH_ROWS), at)) {
            predictionOfImage.set(r.image_id, r.id);
            perCase.set(r.case_id, (perCase.get(r.case_id) ?? 0) + 1);
          }
        }
        const withEmbedding = rows.filter((r) => r.embedding !== undefined && r.embedding !== null);
        for (let start = 0; start < withEmbedding.length; start += PG_BATCH_ROWS) {
          const chunk = withEmbedding.slice(start, start + PG_BATCH_ROWS);
          await client.query(
            `INSERT INTO prediction_embeddings (prediction_id, dim, vector, open_set_score)
             SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bytea[], $4::double precision[])`,
            [
              chunk.map((r) => predictionOfImage.get(r.imageId)!),
              chunk.map((r) => r.embedding!.length),
              chunk.map((r) => encodeFloat16(r.embedding!)),
              chunk.map((r) => r.openSetScore ?? null),
            ],
          );
        }
        for (const entry of predictionsAddedAudits(perCase, modelRowId, actor)) await appendAuditPg(client, entry, at);
        return { inserted: rows.length };
      });
    },

    listEmbeddings: (caseId, modelRowId) =>
      pgRead(scope, `Reading the embeddings of case ${caseId}`, async (q) => {
        const { text, values } = named(EMBEDDINGS_SQL, { caseId, modelId: modelRowId });
        return (await q.query<EmbeddingDbRow>(text, values)).rows.map(toStoredEmbedding);
      }),

    listPredictions: (imageId) =>
      pgRead(scope, `Reading the predictions of image ${imageId}`, async (q) =>
        (await q.query<PredictionDbRow>('SELECT * FROM predictions WHERE image_id = $1 ORDER BY id', [imageId])).rows.map(toPredictionRow),
      ),
  };
}
