// A stopped analysis, told truthfully (issue 21, migration 0010): what the run had done when it stopped, and, when
// a person releases the analysed part without the rest, the recorded reason. Both are append-only records; the
// case's status moves in the same transaction, and SQL refuses a stopped case in review without the exclusion.
import { appendAudit, type AuditEntry } from './audit';
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

export interface CancellationDbRow {
  id: number;
  case_id: number;
  files_analysed: number;
  files_total: number;
  cancelled_by: string;
  cancelled_at: string;
}

export interface ExclusionDbRow {
  id: number;
  case_id: number;
  cancellation_id: number;
  files_excluded: number;
  reason: string;
  excluded_by: string;
  excluded_at: string;
}

export const toCancellation = (r: CancellationDbRow): CancellationRow => ({
  id: r.id,
  caseId: r.case_id,
  filesAnalysed: r.files_analysed,
  filesTotal: r.files_total,
  by: r.cancelled_by,
  at: r.cancelled_at,
});

export const toExclusion = (r: ExclusionDbRow): ExclusionRow => ({
  id: r.id,
  caseId: r.case_id,
  cancellationId: r.cancellation_id,
  filesExcluded: r.files_excluded,
  reason: r.reason,
  by: r.excluded_by,
  at: r.excluded_at,
});

/** The values of an analysis_cancellations row, in CANCELLATION_COLUMNS order (a run cannot analyse more than all). */
export function cancellationValues(input: { caseId: number; filesAnalysed: number; filesTotal: number; actor: string }, at: string): unknown[] {
  return [input.caseId, input.filesAnalysed, Math.max(input.filesTotal, input.filesAnalysed), input.actor, at];
}

export const CANCELLATION_COLUMNS = '(case_id, files_analysed, files_total, cancelled_by, cancelled_at)';

/** Records where a stopped run was and moves the case to 'cancelled', together or not at all. */
export function recordCancellation(db: MarrowDatabase, input: { caseId: number; filesAnalysed: number; filesTotal: number; actor: string }): CaseRow {
  return inTransaction(db, `Recording the cancelled analysis of case ${input.caseId}`, () => {
    sql(db, `INSERT INTO analysis_cancellations ${CANCELLATION_COLUMNS} VALUES (?, ?, ?, ?, ?)`).run(...cancellationValues(input, nowIso()));
    return setCaseStatus(db, input.caseId, 'cancelled', input.actor);
  });
}

/** An exclusion's reason and person as stored, checked before any database work (both engines). */
export function exclusionInput(input: { reason: string; by: string }): { reason: string; by: string } {
  const reason = input.reason.trim();
  const by = input.by.trim();
  if (reason === '') throw new DatabaseError('constraint', 'The reason for excluding the remaining files is empty.');
  if (by === '') throw new DatabaseError('constraint', 'The name of the person excluding the remaining files is empty.');
  return { reason, by };
}

/** The stopped run whose remaining files may be excluded, or the refusal. */
export function requireExcludable(row: CaseRow, cancellation: CancellationRow | null): CancellationRow {
  if (row.status !== 'cancelled' || cancellation === null) {
    throw new DatabaseError('constraint', `Case ${row.accession} has no stopped analysis whose remaining files could be excluded.`);
  }
  return cancellation;
}

export const EXCLUSION_COLUMNS = '(case_id, cancellation_id, files_excluded, reason, excluded_by, excluded_at)';

/** The exclusion row's values (EXCLUSION_COLUMNS order) and its audit entry. */
export function exclusionRecord(row: CaseRow, cancellation: CancellationRow, reason: string, by: string, at: string): { values: unknown[]; audit: AuditEntry } {
  const excluded = cancellation.filesTotal - cancellation.filesAnalysed;
  return {
    values: [row.id, cancellation.id, excluded, reason, by, at],
    audit: { actor: by, action: 'remaining_files_excluded', caseId: row.id, detail: { cancellationId: cancellation.id, files: excluded, reason } },
  };
}

/**
 * Releases the analysed part of a stopped case for review: the remaining files are excluded with a recorded
 * reason and the case goes to review (SQL refuses the move without this record).
 */
export function excludeRemainingFiles(db: MarrowDatabase, input: { caseId: number; reason: string; by: string }): CaseRow {
  const { reason, by } = exclusionInput(input);
  return inTransaction(db, `Excluding the remaining files of case ${input.caseId}`, () => {
    const row = requireCase(db, input.caseId);
    const cancellation = requireExcludable(row, latestCancellation(db, row.id));
    const at = nowIso();
    const record = exclusionRecord(row, cancellation, reason, by, at);
    sql(db, `INSERT INTO remaining_exclusions ${EXCLUSION_COLUMNS} VALUES (?, ?, ?, ?, ?, ?)`).run(...record.values);
    appendAudit(db, record.audit, at);
    return setCaseStatus(db, row.id, 'in_review', by);
  });
}

export const LATEST_CANCELLATION_SQL = 'SELECT * FROM analysis_cancellations WHERE case_id = @caseId ORDER BY id DESC LIMIT 1';

function latestCancellation(db: MarrowDatabase, caseId: number): CancellationRow | null {
  const r = sql(db, LATEST_CANCELLATION_SQL).get({ caseId }) as CancellationDbRow | undefined;
  return r === undefined ? null : toCancellation(r);
}

/**
 * Whether the case's latest stop can still make its result partial: not while a run is under way, and not once a
 * later run reached review (analysed_at after the stop). partialFrom then decides with the exclusion.
 */
export function stopStillCounts(row: Pick<CaseRow, 'status' | 'analysedAt'>, cancellation: CancellationRow): boolean {
  if (row.status === 'analysing' || row.status === 'importing') return false;
  return !(row.status !== 'cancelled' && row.analysedAt !== null && row.analysedAt > cancellation.at);
}

/** A stopped case whose remaining files were excluded stays partial, with the reason; one in review without, not. */
export function partialFrom(row: Pick<CaseRow, 'status'>, cancellation: CancellationRow, exclusion: ExclusionDbRow | undefined): PartialAnalysis | null {
  if (row.status !== 'cancelled' && exclusion === undefined) return null;
  return { cancellation, exclusion: exclusion === undefined ? null : toExclusion(exclusion) };
}

/**
 * The case's partial result, or null when its result is complete: a stop counts until a later run reaches review
 * (analysed_at after the stop). A stopped case whose remaining files were excluded stays partial, with the reason.
 */
export function partialAnalysisOf(db: MarrowDatabase, row: Pick<CaseRow, 'id' | 'status' | 'analysedAt'>): PartialAnalysis | null {
  return read(`Reading the cancelled analysis of case ${row.id}`, () => {
    const cancellation = latestCancellation(db, row.id);
    if (cancellation === null || !stopStillCounts(row, cancellation)) return null;
    return partialFrom(
      row,
      cancellation,
      sql(db, 'SELECT * FROM remaining_exclusions WHERE cancellation_id = ?').get(cancellation.id) as ExclusionDbRow | undefined,
    );
  });
}
