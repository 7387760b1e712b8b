import type { FlagReason } from '../../shared/flag-reasons';
import type { CellQuery, ReviewProgress } from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import { countsFor, progressFor, requireCase } from './cases';
import { read, readSnapshot, sql, type MarrowDatabase } from './connection';
import { CELL_TOTAL_SQL, UNREVIEWED_COUNTS_SQL } from './effective';
import { DatabaseError } from './errors';
import { modelClasses } from './models';
import { predictionOf, type PredictionColumns } from './predictions';
import type { CaseRow, CellRow, ClassCounts } from './types';

/** The API's cell query, taken as it is. */
export type CellListQuery = CellQuery;

/** Effective label counts of the case (see effective.ts for which label counts). */
export function effectiveCountsByClass(db: MarrowDatabase, caseId: number): ClassCounts {
  return read(`Counting the cells of case ${caseId}`, () => countsFor(db, requireCase(db, caseId)));
}

/** Per predicted class, the cells with no decision in force: what counts on the model's word alone. */
export function unreviewedCountsByPredictedClass(db: MarrowDatabase, caseId: number): ClassCounts {
  return read(`Counting the unreviewed cells of case ${caseId}`, () => countsFor(db, requireCase(db, caseId), UNREVIEWED_COUNTS_SQL));
}

export function reviewProgress(db: MarrowDatabase, caseId: number): ReviewProgress {
  return read(`Reading the review progress of case ${caseId}`, () => progressFor(db, requireCase(db, caseId)));
}

/** A cell row (prediction, file, decision in force, version) as both engines return it. */
export interface CellDbRow extends PredictionColumns {
  relative_path: string;
  review_id: number | null;
  label: CellClassCode | null;
  reviewer: string | null;
  reviewed_at: string | null;
  note: string | null;
  version: number;
  reviewer_user_id: number | null;
}

// Paging runs on predictions and decisions only; the page's 'limit' rows are then joined to images and reviews.
const PAGE_FROM = `FROM predictions AS p LEFT JOIN current_decisions AS d ON d.image_id = p.image_id
WHERE p.case_id = @caseId AND p.model_id = @modelId`;

const CELL_SELECT = `SELECT p.image_id, p.case_id, i.relative_path, p.model_id, p.predicted_class, p.probabilities, p.confidence,
  p.flagged, p.flag_reasons, r.id AS review_id, r.label, r.reviewer, r.created_at AS reviewed_at, r.note, r.user_id AS reviewer_user_id,
  coalesce((SELECT max(v.id) FROM reviews AS v WHERE v.case_id = p.case_id AND v.image_id = p.image_id), 0) AS version
FROM predictions AS p
  JOIN images AS i ON i.id = p.image_id
  LEFT JOIN current_decisions AS d ON d.image_id = p.image_id
  LEFT JOIN reviews AS r ON r.id = d.review_id`;

/** One cell of the case's model. Parameters @caseId, @modelId, @imageId. */
export const CELL_SQL = `${CELL_SELECT} WHERE p.image_id = @imageId AND p.model_id = @modelId AND p.case_id = @caseId`;

export function toCell(r: CellDbRow, classes: CellClassCode[]): CellRow {
  return {
    ...predictionOf(r),
    relativePath: r.relative_path,
    classes,
    decision:
      r.review_id === null || r.label === null
        ? null
        : { reviewId: r.review_id, label: r.label, reviewer: r.reviewer ?? '', at: r.reviewed_at ?? '', note: r.note, userId: r.reviewer_user_id },
    effectiveLabel: r.label ?? r.predicted_class,
    version: r.version,
  };
}

/** One page of the review grid when the caller names no limit. */
const DEFAULT_LIMIT = 100;

/**
 * Where a file-name search is a substring test: SQLite's instr and PostgreSQL's strpos (the same arguments, the
 * position or 0); LIKE would read % and _ in a typed name as wildcards.
 */
export type SubstringFunction = 'instr' | 'strpos';

/** The two statements of a page of cells (its total and its rows) with their named parameters. */
export interface CellPageQuery {
  totalSql: string;
  pageSql: string;
  params: Record<string, unknown>;
}

/**
 * The SQL of listCells for a case that has a model: the filters of the query as conditions, its total (from the
 * derived counts, or by counting the rows of a file search), and its page, most uncertain (lowest confidence) first,
 * ties by image id so paging is stable. One builder for both engines.
 */
export function cellPageQuery(row: CaseRow & { modelRowId: number }, query: CellListQuery, substring: SubstringFunction): CellPageQuery {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {
    caseId: row.id,
    modelId: row.modelRowId,
    predictedClass: query.predictedClass ?? null,
    effectiveClass: query.effectiveClass ?? null,
    flaggedOnly: query.scope === 'all' ? 0 : 1,
    includeDecided: query.scope === 'unreviewed' ? 0 : 1,
    limit: Math.max(0, Math.floor(query.limit ?? DEFAULT_LIMIT)),
    offset: Math.max(0, Math.floor(query.offset ?? 0)),
  };
  if (query.scope !== 'all') conditions.push('p.flagged = 1');
  if (query.scope === 'unreviewed') conditions.push('d.image_id IS NULL');
  if (query.predictedClass !== undefined) conditions.push('p.predicted_class = @predictedClass');
  if (query.effectiveClass !== undefined) conditions.push('coalesce(d.label, p.predicted_class) = @effectiveClass');
  const file = query.file?.trim() ?? '';
  if (file !== '') {
    params['file'] = file.toLowerCase();
    conditions.push(`p.image_id IN (SELECT id FROM images WHERE case_id = @caseId AND ${substring}(lower(relative_path), @file) > 0)`);
  }
  const filter = conditions.map((c) => ` AND ${c}`).join('');
  return {
    // The derived counts cannot filter by file name; a search by file counts the matching rows themselves (a search
    // is typed by a person and matches few cells).
    totalSql: file === '' ? CELL_TOTAL_SQL : `SELECT count(*) AS n ${PAGE_FROM}${filter}`,
    pageSql: `WITH page AS (SELECT p.id ${PAGE_FROM}${filter} ORDER BY p.confidence, p.image_id LIMIT @limit OFFSET @offset)
         ${CELL_SELECT} WHERE p.id IN (SELECT id FROM page) ORDER BY p.confidence, p.image_id`,
    params,
  };
}

/**
 * A page of the case's classified cells (those with a prediction of the case's current model), most uncertain
 * (lowest confidence) first, ties by image id so paging is stable.
 */
export function listCells(db: MarrowDatabase, query: CellListQuery): { rows: CellRow[]; total: number } {
  return readSnapshot(db, `Listing the cells of case ${query.caseId}`, () => {
    const row = requireCase(db, query.caseId);
    if (row.modelRowId === null) return { rows: [], total: 0 };
    const q = cellPageQuery({ ...row, modelRowId: row.modelRowId }, query, 'instr');
    const total = sql(db, q.totalSql).get(q.params) as { n: number };
    const classes = modelClasses(db, row.modelRowId);
    const rows = (sql(db, q.pageSql).all(q.params) as CellDbRow[]).map((r) => toCell(r, classes));
    return { rows, total: total.n };
  });
}

export function noClassifiedCell(row: CaseRow, imageId: number): DatabaseError {
  return new DatabaseError('not_found', `Case ${row.accession} has no classified cell with image id ${imageId}.`);
}

/** One cell as listCells shows it; 'not_found' when the image has no prediction of the case's model. */
export function getCell(db: MarrowDatabase, caseId: number, imageId: number): CellRow {
  return read(`Reading cell ${imageId} of case ${caseId}`, () => {
    const row = requireCase(db, caseId);
    const found = row.modelRowId === null ? undefined : (sql(db, CELL_SQL).get({ imageId, modelId: row.modelRowId, caseId }) as CellDbRow | undefined);
    if (found === undefined || row.modelRowId === null) throw noClassifiedCell(row, imageId);
    return toCell(found, modelClasses(db, row.modelRowId));
  });
}

/** The n most probable classes of a cell, most probable first (CellView.top). */
export function topClasses(cell: Pick<CellRow, 'classes' | 'probabilities'>, n = 2): { code: CellClassCode; probability: number }[] {
  return cell.classes
    .map((code, i) => ({ code, probability: cell.probabilities[i] ?? 0 }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, n);
}

/** Every flagged cell of the case's model: its stored reasons, and whether a decision covers it (0/1 on both engines). */
export const FLAGGED_REASONS_SQL = `SELECT p.flag_reasons AS reasons, CASE WHEN d.image_id IS NULL THEN 0 ELSE 1 END AS reviewed
         FROM predictions AS p LEFT JOIN current_decisions AS d ON d.image_id = p.image_id
         WHERE p.case_id = @caseId AND p.model_id = @modelId AND p.flagged = 1`;

export function flagReasonsOf(rows: readonly { reasons: string; reviewed: number }[]): { reasons: FlagReason[]; reviewed: boolean }[] {
  return rows.map((r) => ({ reasons: JSON.parse(r.reasons) as FlagReason[], reviewed: r.reviewed === 1 }));
}

/** The stored flag reasons of every flagged cell of the case's model, and whether a decision covers the cell. */
export function flaggedCellReasons(db: MarrowDatabase, caseId: number): { reasons: FlagReason[]; reviewed: boolean }[] {
  return read(`Reading the flag reasons of case ${caseId}`, () => {
    const row = requireCase(db, caseId);
    return flagReasonsOf(sql(db, FLAGGED_REASONS_SQL).all({ caseId, modelId: row.modelRowId }) as { reasons: string; reviewed: number }[]);
  });
}
