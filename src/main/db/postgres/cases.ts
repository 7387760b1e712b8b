// Cases on PostgreSQL: the twin of ../cases.ts (CaseRepository of contract.ts). The checks, the lifecycle decision,
// the list's query, the mappers and the audit entries are ../cases.ts's own functions; here only the SQL and the
// locking differ. Every change of a case reads it FOR UPDATE first: two stations moving one case (a status change,
// a model change, a sign-off, an amendment) take turns, and the second decides on what the first left, as SQLite's
// single writer gives for free. The schema's triggers hold the same rules for any other writer.
import type { CaseStatus, ReviewProgress } from '../../../shared/api';
import {
  CASE_SELECT,
  CASE_VERSION_SQL,
  CHANGE_SINCE_SQL,
  LATEST_SIGN_OFF_SQL,
  SIGN_OFF_COLUMNS,
  accessionTaken,
  amendedAudit,
  amendmentInput,
  caseCreatedAudit,
  caseListQuery,
  caseListRowOf,
  caseNotFound,
  caseVersionFrom,
  classCountsOf,
  modelSetAudit,
  newCaseInput,
  requireAmendable,
  requireNotSigned,
  requireSignable,
  signOffInput,
  signOffValues,
  signedAudit,
  statusChange,
  statusChangedAudit,
  toAmendment,
  toCaseRow,
  toSignOff,
  type AmendmentDbRow,
  type CaseDbRow,
  type SignOffDbRow,
} from '../cases';
import { actingUserId } from '../acting-user';
import { nowIso } from '../connection';
import type { CaseRepository } from '../contract';
import { EFFECTIVE_COUNTS_SQL, REVIEW_PROGRESS_SQL } from '../effective';
import { modelNotFound } from '../models';
import { patientNotFound } from '../patients';
import type { CaseRow, ClassCounts } from '../types';
import { appendAuditPg } from './audit';
import { named } from './named';
import { pgRead, pgSnapshot, pgUnit, raceLost, type PgScope, type Queryable } from './scope';

/** The case, or undefined; `lock` takes its row FOR UPDATE (the patient row is only read). */
export async function pgFindCase(q: Queryable, id: number, lock = false): Promise<CaseRow | undefined> {
  const row = (await q.query<CaseDbRow>(`${CASE_SELECT} WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`, [id])).rows[0];
  return row === undefined ? undefined : toCaseRow(row);
}

/** The case, or 'not_found'; `lock` as pgFindCase. */
export async function pgRequireCase(q: Queryable, id: number, lock = false): Promise<CaseRow> {
  const found = await pgFindCase(q, id, lock);
  if (found === undefined) throw caseNotFound(id);
  return found;
}

/** Effective counts of a case already read (see ../effective.ts), on the caller's connection. */
export async function pgCountsFor(q: Queryable, row: CaseRow, query: string = EFFECTIVE_COUNTS_SQL): Promise<ClassCounts> {
  const { text, values } = named(query, { caseId: row.id, modelId: row.modelRowId });
  return classCountsOf(row, (await q.query<{ label: string; n: number }>(text, values)).rows);
}

export async function pgProgressFor(q: Queryable, row: CaseRow): Promise<ReviewProgress> {
  const { text, values } = named(REVIEW_PROGRESS_SQL, { caseId: row.id, modelId: row.modelRowId });
  return (await q.query<ReviewProgress>(text, values)).rows[0]!;
}

/** Inside a unit, with the case row locked: the lifecycle move of ../cases.ts's changeStatus. */
export async function pgChangeStatus(client: Queryable, row: CaseRow, status: CaseStatus, actor: string): Promise<CaseRow> {
  const change = statusChange(row, status);
  if (change === false) return row;
  const at = nowIso();
  if (change.stampsAnalysedAt) {
    await client.query('UPDATE cases SET status = $1, analysed_at = $2 WHERE id = $3', [status, at, row.id]);
  } else {
    await client.query('UPDATE cases SET status = $1 WHERE id = $2', [status, row.id]);
  }
  await appendAuditPg(client, statusChangedAudit(row, status, actor), at);
  return pgRequireCase(client, row.id);
}

async function changeModel(client: Queryable, row: CaseRow, modelRowId: number, actor: string): Promise<CaseRow> {
  requireNotSigned(row, 'changing its model');
  if ((await client.query('SELECT 1 FROM models WHERE id = $1', [modelRowId])).rowCount === 0) throw modelNotFound(modelRowId);
  if (row.modelRowId === modelRowId) return row;
  const at = nowIso();
  await client.query('UPDATE cases SET model_id = $1 WHERE id = $2', [modelRowId, row.id]);
  await appendAuditPg(client, modelSetAudit(row, modelRowId, actor), at);
  return pgRequireCase(client, row.id);
}

export function pgCaseRepository(scope: PgScope): CaseRepository {
  return {
    createCase: async (input) => {
      const { accession, folder, actor } = newCaseInput(input);
      return pgUnit(scope, `Creating case ${accession}`, async (client) => {
        if ((await client.query('SELECT 1 FROM patients WHERE id = $1', [input.patientId])).rowCount === 0) throw patientNotFound(input.patientId);
        const clashOf = async () =>
          (await client.query<{ id: number; accession: string }>('SELECT id, accession FROM cases WHERE lower(accession) = lower($1)', [accession])).rows[0];
        const clash = await clashOf();
        if (clash !== undefined) throw accessionTaken(accession, clash);
        // Two stations creating one accession at once: the unique index on lower(accession) decides (ON CONFLICT DO
        // NOTHING waits for the other's commit); the one that loses re-reads the winner's case to name it.
        const at = nowIso();
        const inserted = (
          await client.query<{ id: number }>(
            `INSERT INTO cases (patient_id, accession, specimen, folder, status, created_at) VALUES ($1, $2, $3, $4, 'importing', $5)
             ON CONFLICT ((lower(accession))) DO NOTHING RETURNING id`,
            [input.patientId, accession, input.specimen, folder, at],
          )
        ).rows[0];
        if (inserted === undefined) {
          const winner = await clashOf();
          throw winner === undefined ? raceLost(`Creating case ${accession}`) : accessionTaken(accession, winner);
        }
        await appendAuditPg(client, caseCreatedAudit(input, accession, folder, actor, inserted.id), at);
        return pgRequireCase(client, inserted.id);
      });
    },

    getCase: (id) => pgRead(scope, `Reading case ${id}`, (q) => pgRequireCase(q, id)),

    listCases: async (filter) => {
      const query = caseListQuery(filter, 'ILIKE');
      const { text, values } = named(query.text, query.params);
      return pgSnapshot(scope, 'Listing cases', async (q) => {
        const rows = (await q.query<CaseDbRow>(text, values)).rows.map(toCaseRow);
        const list = [];
        for (const row of rows) {
          const latest = named(LATEST_SIGN_OFF_SQL, { caseId: row.id });
          const signOff = (await q.query<{ signed_by: string; signed_at: string }>(latest.text, latest.values)).rows[0];
          list.push(caseListRowOf(row, await pgCountsFor(q, row), await pgProgressFor(q, row), signOff));
        }
        return list;
      });
    },

    setCaseStatus: (caseId, status, actor) =>
      pgUnit(scope, `Changing the status of case ${caseId}`, async (client) =>
        pgChangeStatus(client, await pgRequireCase(client, caseId, true), status, actor),
      ),

    setCaseModel: (input) =>
      pgUnit(scope, `Setting the model of case ${input.caseId}`, async (client) =>
        changeModel(client, await pgRequireCase(client, input.caseId, true), input.modelRowId, input.actor),
      ),

    beginAnalysis: (input) =>
      pgUnit(scope, `Starting analysis of case ${input.caseId}`, async (client) => {
        const row = await changeModel(client, await pgRequireCase(client, input.caseId, true), input.modelRowId, input.actor);
        return pgChangeStatus(client, row, 'analysing', input.actor);
      }),

    signCase: async (input) => {
      const checked = signOffInput(input);
      return pgUnit(scope, `Signing case ${input.caseId}`, async (client) => {
        const row = await pgRequireCase(client, input.caseId, true);
        requireSignable(row);
        const at = nowIso();
        const signOff = (
          await client.query<SignOffDbRow>(
            `INSERT INTO sign_offs ${SIGN_OFF_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
            signOffValues(row, input, checked, at),
          )
        ).rows[0]!;
        await client.query(`UPDATE cases SET status = 'signed' WHERE id = $1`, [row.id]);
        await appendAuditPg(client, signedAudit(row, signOff), at);
        return { case: await pgRequireCase(client, row.id), signOff: toSignOff(signOff) };
      });
    },

    amendCase: async (input) => {
      const { by, reason } = amendmentInput(input);
      return pgUnit(scope, `Amending case ${input.caseId}`, async (client) => {
        const row = await pgRequireCase(client, input.caseId, true);
        requireAmendable(row);
        const latest = (await client.query<{ id: number }>('SELECT max(id) AS id FROM sign_offs WHERE case_id = $1', [row.id])).rows[0]!;
        const at = nowIso();
        const amendment = (
          await client.query<AmendmentDbRow>(
            'INSERT INTO amendments (case_id, sign_off_id, amended_by, reason, amended_at, user_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
            [row.id, latest.id, by, reason, at, actingUserId()],
          )
        ).rows[0]!;
        await client.query(`UPDATE cases SET status = 'in_review' WHERE id = $1`, [row.id]);
        await appendAuditPg(client, amendedAudit(row, amendment), at);
        return { case: await pgRequireCase(client, row.id), amendment: toAmendment(amendment) };
      });
    },

    listSignOffs: (caseId) =>
      pgRead(scope, `Reading the sign-offs of case ${caseId}`, async (q) =>
        (await q.query<SignOffDbRow>('SELECT * FROM sign_offs WHERE case_id = $1 ORDER BY id', [caseId])).rows.map(toSignOff),
      ),

    listAmendments: (caseId) =>
      pgRead(scope, `Reading the amendments of case ${caseId}`, async (q) =>
        (await q.query<AmendmentDbRow>('SELECT * FROM amendments WHERE case_id = $1 ORDER BY id', [caseId])).rows.map(toAmendment),
      ),

    caseVersionOf: (caseId) =>
      pgRead(scope, `Reading the version of case ${caseId}`, async (q) => {
        const { text, values } = named(CASE_VERSION_SQL, { caseId });
        return caseVersionFrom((await q.query<{ id: number; actor: string; at: string; action: string }>(text, values)).rows[0]);
      }),

    changeSince: (caseId, version, actor) =>
      pgRead(scope, `Reading the changes of case ${caseId}`, async (q) => {
        const { text, values } = named(CHANGE_SINCE_SQL, { caseId, version, actor: actor.trim() });
        return (await q.query<{ actor: string; at: string; action: string }>(text, values)).rows[0] ?? null;
      }),

    isAmended: (caseId) =>
      pgRead(
        scope,
        `Reading the amendments of case ${caseId}`,
        async (q) => ((await q.query('SELECT 1 FROM amendments WHERE case_id = $1 LIMIT 1', [caseId])).rowCount ?? 0) > 0,
      ),
  };
}
