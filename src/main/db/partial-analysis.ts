// A stopped analysis, told truthfully (issue 21, migration 0010): what the run had done when it stopped, and, when
// a person releases the analysed part without the rest, the recorded reason. Both are append-only records; the
// case's status moves in the same transaction, and SQL refuses a stopped case in review without the exclusion.
import { appendAudit } from './audit';
import { requireCase, setCaseStatus } from './cases';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { CaseRow } from './types';

export interface CancellationRow {
  id: number;
  caseId: number;
  filesAnalysed: number;
  filesTotal: number;
  by: string;
  at: string;
}

export interface ExclusionRow {
  id: number;
  caseId: number;
  cancellationId: number;
  filesExcluded: number;
  reason: string;
  by: string;
  at: string;
}

/** The case's partial result, when its latest run stopped and no complete run has followed. */
export interface PartialAnalysis {
  cancellation: CancellationRow;
  /** Set once the remaining files were excluded with a reason (the case then went to review). */
  exclusion: ExclusionRow | null;
}

interface CancellationDbRow {
  id: number;
  case_id: number;
  files_analysed: number;
  files_total: number;
  cancelled_by: string;
  cancelled_at: string;
}

interface ExclusionDbRow {
  id: number;
  case_id: number;
  cancellation_id: number;
  files_excluded: number;
  reason: string;
  excluded_by: string;
  excluded_at: string;
}

const toCancellation = (r: CancellationDbRow): CancellationRow => ({
  id: r.id,
  caseId: r.case_id,
  filesAnalysed: r.files_analysed,
  filesTotal: r.files_total,
  by: r.cancelled_by,
  at: r.cancelled_at,
});

const toExclusion = (r: ExclusionDbRow): ExclusionRow => ({
  id: r.id,
  caseId: r.case_id,
  cancellationId: r.cancellation_id,
  filesExcluded: r.files_excluded,
  reason: r.reason,
  by: r.excluded_by,
  at: r.excluded_at,
});

/** Records where a stopped run was and moves the case to 'cancelled', together or not at all. */
export function recordCancellation(db: MarrowDatabase, input: { caseId: number; filesAnalysed: number; filesTotal: number; actor: string }): CaseRow {
  return inTransaction(db, `Recording the cancelled analysis of case ${input.caseId}`, () => {
    const at = nowIso();
    const total = Math.max(input.filesTotal, input.filesAnalysed);
    sql(db, 'INSERT INTO analysis_cancellations (case_id, files_analysed, files_total, cancelled_by, cancelled_at) VALUES (?, ?, ?, ?, ?)').run(
      input.caseId,
      input.filesAnalysed,
      total,
      input.actor,
      at,
    );
    return setCaseStatus(db, input.caseId, 'cancelled', input.actor);
  });
}

/**
 * Releases the analysed part of a stopped case for review: the remaining files are excluded with a recorded
 * reason and the case goes to review (SQL refuses the move without this record).
 */
export function excludeRemainingFiles(db: MarrowDatabase, input: { caseId: number; reason: string; by: string }): CaseRow {
  const reason = input.reason.trim();
  const by = input.by.trim();
  if (reason === '') throw new DatabaseError('constraint', 'The reason for excluding the remaining files is empty.');
  if (by === '') throw new DatabaseError('constraint', 'The name of the person excluding the remaining files is empty.');
  return inTransaction(db, `Excluding the remaining files of case ${input.caseId}`, () => {
    const row = requireCase(db, input.caseId);
    const cancellation = latestCancellation(db, row.id);
    if (row.status !== 'cancelled' || cancellation === null) {
      throw new DatabaseError('constraint', `Case ${row.accession} has no stopped analysis whose remaining files could be excluded.`);
    }
    const at = nowIso();
    const excluded = cancellation.filesTotal - cancellation.filesAnalysed;
    sql(
      db,
      `INSERT INTO remaining_exclusions (case_id, cancellation_id, files_excluded, reason, excluded_by, excluded_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(row.id, cancellation.id, excluded, reason, by, at);
    appendAudit(
      db,
      { actor: by, action: 'remaining_files_excluded', caseId: row.id, detail: { cancellationId: cancellation.id, files: excluded, reason } },
      at,
    );
    return setCaseStatus(db, row.id, 'in_review', by);
  });
}

function latestCancellation(db: MarrowDatabase, caseId: number): CancellationRow | null {
  const r = sql(db, 'SELECT * FROM analysis_cancellations WHERE case_id = ? ORDER BY id DESC LIMIT 1').get(caseId) as CancellationDbRow | undefined;
  return r === undefined ? null : toCancellation(r);
}

/**
 * The case's partial result, or null when its result is complete: a stop counts until a later run reaches review
 * (analysed_at after the stop). A stopped case whose remaining files were excluded stays partial, with the reason.
 */
export function partialAnalysisOf(db: MarrowDatabase, row: Pick<CaseRow, 'id' | 'status' | 'analysedAt'>): PartialAnalysis | null {
  return read(`Reading the cancelled analysis of case ${row.id}`, () => {
    const cancellation = latestCancellation(db, row.id);
    if (cancellation === null) return null;
    if (row.status === 'analysing' || row.status === 'importing') return null;
    if (row.status !== 'cancelled' && row.analysedAt !== null && row.analysedAt > cancellation.at) return null;
    const exclusion = sql(db, 'SELECT * FROM remaining_exclusions WHERE cancellation_id = ?').get(cancellation.id) as ExclusionDbRow | undefined;
    if (row.status !== 'cancelled' && exclusion === undefined) return null;
    return { cancellation, exclusion: exclusion === undefined ? null : toExclusion(exclusion) };
  });
}
