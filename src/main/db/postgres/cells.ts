// The review grid's cells and the case's counts on PostgreSQL: the twin of ../cells.ts (CellRepository of
// contract.ts). The arithmetic of the differential is ../effective.ts's SQL, one text for both engines; the page's
// query is built by ../cells.ts's cellPageQuery; rows are mapped by its toCell. What differs is only how a file name
// is searched (strpos, PostgreSQL's instr) and that a page and its total are read from one snapshot (pgSnapshot,
// REPEATABLE READ READ ONLY, the twin of SQLite's readSnapshot), so they agree while other stations decide.
import { CELL_SQL, cellPageQuery, FLAGGED_REASONS_SQL, flagReasonsOf, noClassifiedCell, toCell, type CellDbRow } from '../cells';
import type { CellRepository } from '../contract';
import { UNREVIEWED_COUNTS_SQL } from '../effective';
import { pgCountsFor, pgProgressFor, pgRequireCase } from './cases';
import { pgModelClasses } from './models';
import { named } from './named';
import { pgRead, pgSnapshot, type PgScope, type Queryable } from './scope';

async function rows<T extends object>(q: Queryable, sql: string, params: Record<string, unknown>): Promise<T[]> {
  const { text, values } = named(sql, params);
  return (await q.query<T>(text, values)).rows;
}

export function pgCellRepository(scope: PgScope): CellRepository {
  return {
    effectiveCountsByClass: (caseId) => pgRead(scope, `Counting the cells of case ${caseId}`, async (q) => pgCountsFor(q, await pgRequireCase(q, caseId))),

    unreviewedCountsByPredictedClass: (caseId) =>
      pgRead(scope, `Counting the unreviewed cells of case ${caseId}`, async (q) => pgCountsFor(q, await pgRequireCase(q, caseId), UNREVIEWED_COUNTS_SQL)),

    reviewProgress: (caseId) => pgRead(scope, `Reading the review progress of case ${caseId}`, async (q) => pgProgressFor(q, await pgRequireCase(q, caseId))),

    listCells: (query) =>
      pgSnapshot(scope, `Listing the cells of case ${query.caseId}`, async (q) => {
        const row = await pgRequireCase(q, query.caseId);
        if (row.modelRowId === null) return { rows: [], total: 0 };
        const page = cellPageQuery({ ...row, modelRowId: row.modelRowId }, query, 'strpos');
        const [total] = await rows<{ n: number }>(q, page.totalSql, page.params);
        const classes = await pgModelClasses(scope, q, row.modelRowId);
        return { rows: (await rows<CellDbRow>(q, page.pageSql, page.params)).map((r) => toCell(r, classes)), total: total!.n };
      }),

    getCell: (caseId, imageId) =>
      pgRead(scope, `Reading cell ${imageId} of case ${caseId}`, async (q) => {
        const row = await pgRequireCase(q, caseId);
        const [found] = row.modelRowId === null ? [] : await rows<CellDbRow>(q, CELL_SQL, { imageId, modelId: row.modelRowId, caseId });
        if (found === undefined || row.modelRowId === null) throw noClassifiedCell(row, imageId);
        return toCell(found, await pgModelClasses(scope, q, row.modelRowId));
      }),

    flaggedCellReasons: (caseId) =>
      pgRead(scope, `Reading the flag reasons of case ${caseId}`, async (q) => {
        const row = await pgRequireCase(q, caseId);
        return flagReasonsOf(await rows<{ reasons: string; reviewed: number }>(q, FLAGGED_REASONS_SQL, { caseId, modelId: row.modelRowId }));
      }),
  };
}
