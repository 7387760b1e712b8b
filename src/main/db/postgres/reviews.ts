// Review decisions on PostgreSQL: the twin of ../reviews.ts (ReviewRepository of contract.ts), with the same checks,
// refusals, SQL text and audit rows (its exported pure functions).
//
// What one server with several stations adds: a decision carries the version of the cell its reviewer saw (its
// latest review row id, migration 0010), and under READ COMMITTED two stations deciding on one cell at once would
// both read the same version, both pass the check (and the reviews_not_stale trigger, which reads the same
// snapshot), and both be stored: the second silently overwriting a decision its reviewer never saw. So each unit
// locks the cells it decides on (their images rows) before it reads their versions, and holds the locks until it
// commits: the second station waits, then reads the first one's committed decision and is refused 'stale', naming
// who changed the cell. Locking rows, rather than SERIALIZABLE with a retry, because a wait is what the second
// station needs (it is then told precisely what changed), the lock covers exactly the cells decided on, and nothing
// has to be re-run. FOR NO KEY UPDATE, not FOR UPDATE: it conflicts only with itself and stronger locks, not with
// the FOR KEY SHARE that every foreign-key check on the image takes (a prediction or crop stored meanwhile does not
// wait). A batch locks its cells in one statement, in image id order, so two batches on overlapping cells queue
// behind each other instead of deadlocking. The case row is read FOR SHARE, so its status cannot change (signed,
// submitted) between the check here and the commit; the triggers take the same share lock.
import type pg from 'pg';
import { CASE_SELECT, caseNotFound, toCaseRow, type CaseDbRow } from '../cases';
import type { ReviewRepository } from '../contract';
import { nowIso } from '../connection';
import {
  casesOf,
  checkedReview,
  decisionParams,
  DECISION_IN_FORCE_SQL,
  INSERT_DECISION_SQL,
  INSERT_RETRACTION_SQL,
  LATEST_DECISION_BY_SQL,
  LATEST_REVIEW_SQL,
  requireOpenForReview,
  retraction,
  reviewAddedEntry,
  reviewHistorySql,
  staleRefusal,
  toReview,
  undoReviewer,
  type LatestReviewDbRow,
  type NewReview,
  type ReviewDbRow,
} from '../reviews';
import type { CaseRow, ReviewRow } from '../types';
import { appendAuditPg } from './audit';
import { named } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

async function one<T extends object>(q: Queryable, sql: string, params: Record<string, unknown>): Promise<T | undefined> {
  const { text, values } = named(sql, params);
  return (await q.query<T>(text, values)).rows[0];
}

/** The case, share-locked until the unit ends (its status holds while the decisions are written). */
async function caseForReview(client: pg.PoolClient, caseId: number): Promise<CaseRow> {
  const row = (await client.query<CaseDbRow>(`${CASE_SELECT} WHERE c.id = $1 FOR SHARE OF c`, [caseId])).rows[0];
  if (row === undefined) throw caseNotFound(caseId);
  const found = toCaseRow(row);
  requireOpenForReview(found);
  return found;
}

/** Locks the cells about to be decided on, in image id order (see the top of the file). */
async function lockCells(client: pg.PoolClient, imageIds: readonly number[]): Promise<void> {
  await client.query('SELECT id FROM images WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE', [[...new Set(imageIds)]]);
}

async function requireSeenVersion(client: pg.PoolClient, caseId: number, imageId: number, seenVersion: number | undefined): Promise<void> {
  if (seenVersion === undefined) return;
  const refusal = staleRefusal(await one<LatestReviewDbRow>(client, LATEST_REVIEW_SQL, { caseId, imageId }), imageId, seenVersion);
  if (refusal !== null) throw refusal;
}

async function insertDecisions(client: pg.PoolClient, inputs: readonly NewReview[]): Promise<ReviewRow[]> {
  const checked = inputs.map(checkedReview);
  for (const caseId of casesOf(inputs)) await caseForReview(client, caseId);
  await lockCells(
    client,
    inputs.map((i) => i.imageId),
  );
  const at = nowIso();
  const created: ReviewRow[] = [];
  for (const c of checked) {
    await requireSeenVersion(client, c.input.caseId, c.input.imageId, c.input.seenVersion);
    const review = toReview((await one<ReviewDbRow>(client, INSERT_DECISION_SQL, decisionParams(c, at)))!);
    await appendAuditPg(client, reviewAddedEntry(c, review), at);
    created.push(review);
  }
  return created;
}

export function pgReviewRepository(scope: PgScope): ReviewRepository {
  return {
    addReview: (input) => pgUnit(scope, `Recording the review of image ${input.imageId}`, async (client) => (await insertDecisions(client, [input]))[0]!),

    addReviews: async (inputs) => {
      if (inputs.length === 0) return [];
      return pgUnit(scope, `Recording ${inputs.length} reviews`, (client) => insertDecisions(client, inputs));
    },

    retractLatestReview: async (input) => {
      const reviewer = undoReviewer(input);
      return pgUnit(scope, `Undoing the review of image ${input.imageId}`, async (client) => {
        const row = await caseForReview(client, input.caseId);
        // Locked like a decision: two undos at once must not both withdraw the same decision in force.
        await lockCells(client, [input.imageId]);
        await requireSeenVersion(client, input.caseId, input.imageId, input.seenVersion);
        const latest = await one<ReviewDbRow>(client, DECISION_IN_FORCE_SQL, { caseId: input.caseId, imageId: input.imageId });
        const undo = retraction(row, input, reviewer, latest, nowIso());
        const created = toReview((await one<ReviewDbRow>(client, INSERT_RETRACTION_SQL, undo.params))!);
        await appendAuditPg(client, undo.entry(created), undo.at);
        return created;
      });
    },

    latestDecisionInForceBy: (caseId, reviewer) =>
      pgRead(scope, `Finding the latest decision of ${reviewer} in case ${caseId}`, async (q) => {
        const row = await one<{ image_id: number }>(q, LATEST_DECISION_BY_SQL, { caseId, reviewer: reviewer.trim() });
        return row?.image_id ?? null;
      }),

    listReviews: (caseId, imageId) =>
      pgRead(scope, `Reading the reviews of case ${caseId}`, async (q) => {
        const { text, values } = named(reviewHistorySql(imageId), imageId === undefined ? { caseId } : { caseId, imageId });
        return (await q.query<ReviewDbRow>(text, values)).rows.map(toReview);
      }),
  };
}
