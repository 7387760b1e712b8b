// Registered models on PostgreSQL: the twin of ../models.ts (ModelRepository of contract.ts). The registration checks,
// the same-file comparison and the audit entry are ../models.ts's own functions.
import type { CellClassCode } from '../../../shared/cell-classes';
import { nowIso } from '../connection';
import type { ModelRepository } from '../contract';
import {
  MODEL_INSERT_COLUMNS,
  cacheOf,
  modelInsertValues,
  modelNotFound,
  modelRegisteredAudit,
  modelRegistrationInput,
  sameRegistration,
  toModelRow,
  type ModelDbRow,
} from '../models';
import type { ModelRow } from '../types';
import type { PostgresDatabase } from './connection';
import { appendAuditPg } from './audit';
import { pgRead, pgUnit, raceLost, type PgScope, type Queryable } from './scope';

export async function pgModelById(q: Queryable, modelRowId: number): Promise<ModelRow> {
  const row = (await q.query<ModelDbRow>('SELECT * FROM models WHERE id = $1', [modelRowId])).rows[0];
  if (row === undefined) throw modelNotFound(modelRowId);
  return toModelRow(row);
}

/** Model rows are immutable, so a model's row (its class order above all) is cached per database and row id. */
const modelCache = new WeakMap<PostgresDatabase, Map<number, ModelRow>>();

export async function pgModelOf(scope: PgScope, q: Queryable, modelRowId: number): Promise<ModelRow> {
  const cache = cacheOf(modelCache, scope.db);
  let model = cache.get(modelRowId);
  if (model === undefined) {
    model = await pgModelById(q, modelRowId);
    cache.set(modelRowId, model);
  }
  return model;
}

export async function pgModelClasses(scope: PgScope, q: Queryable, modelRowId: number): Promise<CellClassCode[]> {
  return (await pgModelOf(scope, q, modelRowId)).classes;
}

export function pgModelRepository(scope: PgScope): ModelRepository {
  return {
    registerModel: async (input, actor = 'system') => {
      const { sha256, provisional } = modelRegistrationInput(input);
      return pgUnit(scope, `Registering model ${input.modelId} ${input.version}`, async (client) => {
        const bySha = async () => (await client.query<ModelDbRow>('SELECT * FROM models WHERE sha256 = $1', [sha256])).rows[0];
        const existing = await bySha();
        if (existing !== undefined) return sameRegistration(existing, input, provisional);
        // Two stations registering the same new file at once: ON CONFLICT DO NOTHING lets the unique sha256 decide,
        // and the one that loses re-reads the winner's row and compares it, as it would compare any registered model.
        const at = nowIso();
        const created = (
          await client.query<ModelDbRow>(
            `INSERT INTO models ${MODEL_INSERT_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sha256) DO NOTHING RETURNING *`,
            modelInsertValues(input, sha256, provisional, at),
          )
        ).rows[0];
        if (created === undefined) {
          const winner = await bySha();
          if (winner === undefined) throw raceLost(`Registering model ${input.modelId}`);
          return sameRegistration(winner, input, provisional);
        }
        await appendAuditPg(client, modelRegisteredAudit(actor, created), at);
        return toModelRow(created);
      });
    },
    getModel: (modelRowId) => pgRead(scope, `Reading model ${modelRowId}`, (q) => pgModelById(q, modelRowId)),
    findModelBySha256: (sha256) =>
      pgRead(scope, 'Looking up a model by its SHA-256', async (q) => {
        const row = (await q.query<ModelDbRow>('SELECT * FROM models WHERE sha256 = $1', [sha256.toLowerCase()])).rows[0];
        return row === undefined ? null : toModelRow(row);
      }),
  };
}
