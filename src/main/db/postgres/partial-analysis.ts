// A stopped analysis on PostgreSQL: the twin of ../partial-analysis.ts (PartialAnalysisRepository of contract.ts).
// The checks, the partial-result rule and the rows' values are ../partial-analysis.ts's own functions. The case row
// is locked first, so a stop and an exclusion from two stations are recorded one after the other.
import { nowIso } from '../connection';
import type { PartialAnalysisRepository } from '../contract';
import {
  CANCELLATION_COLUMNS,
  EXCLUSION_COLUMNS,
  LATEST_CANCELLATION_SQL,
  cancellationValues,
  exclusionInput,
  exclusionRecord,
  partialFrom,
  requireExcludable,
  stopStillCounts,
  toCancellation,
  type CancellationDbRow,
  type CancellationRow,
  type ExclusionDbRow,
} from '../partial-analysis';
import { appendAuditPg } from './audit';
import { pgChangeStatus, pgRequireCase } from './cases';
import { named } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

async function latestCancellation(q: Queryable, caseId: number): Promise<CancellationRow | null> {
  const { text, values } = named(LATEST_CANCELLATION_SQL, { caseId });
  const r = (await q.query<CancellationDbRow>(text, values)).rows[0];
  return r === undefined ? null : toCancellation(r);
}

export function pgPartialAnalysisRepository(scope: PgScope): PartialAnalysisRepository {
  return {
    recordCancellation: (input) =>
      pgUnit(scope, `Recording the cancelled analysis of case ${input.caseId}`, async (client) => {
        const row = await pgRequireCase(client, input.caseId, true);
        await client.query(`INSERT INTO analysis_cancellations ${CANCELLATION_COLUMNS} VALUES ($1, $2, $3, $4, $5)`, cancellationValues(input, nowIso()));
        return pgChangeStatus(client, row, 'cancelled', input.actor);
      }),

    excludeRemainingFiles: async (input) => {
      const { reason, by } = exclusionInput(input);
      return pgUnit(scope, `Excluding the remaining files of case ${input.caseId}`, async (client) => {
        const row = await pgRequireCase(client, input.caseId, true);
        const cancellation = requireExcludable(row, await latestCancellation(client, row.id));
        const at = nowIso();
        const record = exclusionRecord(row, cancellation, reason, by, at);
        await client.query(`INSERT INTO remaining_exclusions ${EXCLUSION_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6)`, record.values);
        await appendAuditPg(client, record.audit, at);
        return pgChangeStatus(client, await pgRequireCase(client, row.id), 'in_review', by);
      });
    },

    partialAnalysisOf: (row) =>
      pgRead(scope, `Reading the cancelled analysis of case ${row.id}`, async (q) => {
        const cancellation = await latestCancellation(q, row.id);
        if (cancellation === null || !stopStillCounts(row, cancellation)) return null;
        const exclusion = (await q.query<ExclusionDbRow>('SELECT * FROM remaining_exclusions WHERE cancellation_id = $1', [cancellation.id])).rows[0];
        return partialFrom(row, cancellation, exclusion);
      }),
  };
}
