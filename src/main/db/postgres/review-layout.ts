// The lab's review layout on PostgreSQL: the twin of ../review-layout.ts (ReviewLayoutRepository of contract.ts):
// the same SQL text, mapper and change record.
import type { ReviewLayoutRepository } from '../contract';
import { nowIso } from '../connection';
import { reviewLayoutChange, reviewLayoutOf, SELECT_REVIEW_LAYOUT, UPSERT_REVIEW_LAYOUT, type LayoutDbRow } from '../review-layout';
import { appendAuditPg } from './audit';
import { named } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

async function readLayout(q: Queryable) {
  return reviewLayoutOf((await q.query<LayoutDbRow>(SELECT_REVIEW_LAYOUT)).rows[0]);
}

export function pgReviewLayoutRepository(scope: PgScope): ReviewLayoutRepository {
  return {
    getReviewLayout: () => pgRead(scope, 'Reading the review layout', readLayout),
    saveReviewLayout: (layout, actor) =>
      pgUnit(scope, 'Saving the review layout', async (client) => {
        // Two stations saving at once take turns, so each audit row's "from" is what the other one saved (the row may
        // not exist yet, so there is no row to lock).
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('marrowcount review layout'))`);
        const before = await readLayout(client);
        const at = nowIso();
        const change = reviewLayoutChange(before, layout, actor, at);
        if (change === null) return before;
        const { text, values } = named(UPSERT_REVIEW_LAYOUT, change.params);
        await client.query(text, values);
        await appendAuditPg(client, change.entry, at);
        return readLayout(client);
      }),
  };
}
