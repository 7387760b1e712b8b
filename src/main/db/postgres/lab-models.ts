// Lab models on PostgreSQL: the twin of ../lab-models.ts (LabModelRepository of contract.ts). The statements, the
// approval/retirement rules, the audit entries and the row mapping are ../lab-models.ts's; the models row of a lab
// model is registered by ./models.ts, as ../models.ts does on SQLite, in the same transaction.
//
// Two stations approving at once: the approval takes the lab model's row lock and a per-base-model advisory lock,
// so the second waits, then reads the first's approval and is refused with the same message as on SQLite (the unique
// index on the approved model per base stays the last word).
import { nowIso } from '../connection';
import type { LabModelRepository } from '../contract';
import {
  IN_FORCE_SELECT,
  LAB_MODEL_APPROVE,
  LAB_MODEL_INSERT,
  LAB_MODEL_RETIRE,
  REVIEWED_CELLS_SELECT,
  SIGNED_CASES_COUNT,
  UNSIGNED_REVIEWS_COUNT,
  checkApprovable,
  checkRetirable,
  labModelActor,
  labModelAlreadyStored,
  labModelApprovedAudit,
  labModelInsertValues,
  labModelNotFound,
  labModelRegistration,
  labModelRetiredAudit,
  labModelRowOf,
  labModelStoredAudit,
  reviewedCellOf,
  type LabModelDbRow,
  type LabModelRow,
  type ReviewedCellDbRow,
} from '../lab-models';
import { actingUserId } from '../acting-user';
import { appendAuditPg } from './audit';
import { pgModelOf, pgModelRepository } from './models';
import { positional } from './named';
import { pgRead, pgSnapshot, pgUnit, type PgScope, type Queryable } from './scope';

export function pgLabModelRepository(scope: PgScope): LabModelRepository {
  const rowOf = async (q: Queryable, r: LabModelDbRow): Promise<LabModelRow> =>
    labModelRowOf(r, await pgModelOf(scope, q, r.model_row_id), await pgModelOf(scope, q, r.base_model_row_id));

  const byId = async (q: Queryable, labModelId: number, lock = false): Promise<LabModelRow> => {
    const { rows } = await q.query<LabModelDbRow>(`SELECT * FROM lab_models WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [labModelId]);
    if (rows[0] === undefined) throw labModelNotFound(labModelId);
    return rowOf(q, rows[0]);
  };

  return {
    storeLabModel: (input) =>
      pgUnit(scope, `Storing lab model ${input.registration.version}`, async (client) => {
        const actor = labModelActor(input);
        const existing = await client.query('SELECT 1 FROM models WHERE sha256 = $1', [input.registration.sha256.toLowerCase()]);
        if ((existing.rowCount ?? 0) > 0) throw labModelAlreadyStored(input);
        // On this transaction's connection: the models row and the lab model commit or fail together.
        const model = await pgModelRepository({ db: scope.db, client }).registerModel(labModelRegistration(input), actor);
        const at = nowIso();
        const { rows } = await client.query<LabModelDbRow>(`${positional(LAB_MODEL_INSERT)} RETURNING *`, labModelInsertValues(input, model.id, at));
        await appendAuditPg(client, labModelStoredAudit(input, rows[0]!.id, model), at);
        return rowOf(client, rows[0]!);
      }),

    getLabModel: (labModelId) => pgRead(scope, `Reading lab model ${labModelId}`, (q) => byId(q, labModelId)),

    labModelOfModelRow: (modelRowId) =>
      pgRead(scope, `Reading the lab model of model ${modelRowId}`, async (q) => {
        const { rows } = await q.query<LabModelDbRow>('SELECT * FROM lab_models WHERE model_row_id = $1', [modelRowId]);
        return rows[0] === undefined ? null : rowOf(q, rows[0]);
      }),

    listLabModels: () =>
      pgRead(scope, 'Reading the lab models', async (q) => {
        const { rows } = await q.query<LabModelDbRow>('SELECT * FROM lab_models ORDER BY id DESC');
        const models: LabModelRow[] = [];
        for (const row of rows) models.push(await rowOf(q, row));
        return models;
      }),

    countLabModels: () =>
      pgRead(scope, 'Counting the lab models', async (q) => (await q.query<{ n: number }>('SELECT count(*) AS n FROM lab_models')).rows[0]!.n),

    approveLabModel: (input) =>
      pgUnit(scope, `Approving lab model ${input.labModelId}`, async (client) => {
        const current = await byId(client, input.labModelId, true);
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('marrowcount lab model approval'), $1::int)`, [current.baseModel.id]);
        const inForce = await client.query<{ version: string }>(positional(IN_FORCE_SELECT), [current.baseModel.id]);
        checkApprovable(current, inForce.rows[0]?.version ?? null);
        const at = nowIso();
        await client.query(positional(LAB_MODEL_APPROVE), [input.by, input.role, input.reason, at, actingUserId(), input.labModelId]);
        await appendAuditPg(client, labModelApprovedAudit(input), at);
        return byId(client, input.labModelId);
      }),

    retireLabModel: (input) =>
      pgUnit(scope, `Retiring lab model ${input.labModelId}`, async (client) => {
        checkRetirable(await byId(client, input.labModelId, true));
        const at = nowIso();
        await client.query(positional(LAB_MODEL_RETIRE), [input.by, input.reason, at, actingUserId(), input.labModelId]);
        await appendAuditPg(client, labModelRetiredAudit(input), at);
        return byId(client, input.labModelId);
      }),

    // The three reads from one snapshot, so the counts and the cells agree while stations sign and review.
    reviewedCellsOfSignedCases: (baseModelRowId) =>
      pgSnapshot(scope, 'Reading the reviewed cells of signed cases', async (q) => {
        const cells = (await q.query<ReviewedCellDbRow>(positional(REVIEWED_CELLS_SELECT), [baseModelRowId])).rows.map(reviewedCellOf);
        const signedCases = (await q.query<{ n: number }>(SIGNED_CASES_COUNT)).rows[0]!.n;
        const unsigned = (await q.query<{ n: number }>(UNSIGNED_REVIEWS_COUNT)).rows[0]!.n;
        return { signedCases, reviewedInUnsignedCases: unsigned, cells };
      }),
  };
}
