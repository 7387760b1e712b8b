import { actingUserId, currentStation } from './acting-user';
import { read, sql, type MarrowDatabase } from './connection';
import type { AuditAction, AuditRow } from './types';

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  caseId: number | null;
  detail: Record<string, unknown>;
  /** The account the change is recorded against; by default the current call's person (null outside a session). */
  userId?: number | null;
}

/**
 * The values of one audit row, in the column order (at, actor, action, case_id, detail, user_id) both engines insert:
 * on the lab server every row also says from which station (address) the person acted, and the user is the current
 * call's person unless the entry names one.
 */
export function auditInsertValues(entry: AuditEntry, at: string): [string, string, AuditAction, number | null, string, number | null] {
  const station = currentStation();
  const detail = station === undefined || 'station' in entry.detail ? entry.detail : { ...entry.detail, station };
  return [at, entry.actor, entry.action, entry.caseId, JSON.stringify(detail), entry.userId === undefined ? actingUserId() : entry.userId];
}

/** Call inside the transaction of the change it records, so the log and the change commit or fail together. */
export function appendAudit(db: MarrowDatabase, entry: AuditEntry, at: string): void {
  sql(db, 'INSERT INTO audit_log (at, actor, action, case_id, detail, user_id) VALUES (?, ?, ?, ?, ?, ?)').run(...auditInsertValues(entry, at));
}

/** An audit_log row as either engine returns it. */
export interface AuditDbRow {
  id: number;
  at: string;
  actor: string;
  action: AuditAction;
  case_id: number | null;
  detail: string;
  user_id: number | null;
}

export function auditRowOf(r: AuditDbRow): AuditRow {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, caseId: r.case_id, detail: JSON.parse(r.detail) as unknown, userId: r.user_id ?? null };
}

/** The page of the whole log a caller asks for, as whole, non-negative numbers (default: the newest 500). */
export function auditPage(options: { limit?: number; offset?: number }): { limit: number; offset: number } {
  return { limit: Math.max(0, Math.floor(options.limit ?? 500)), offset: Math.max(0, Math.floor(options.offset ?? 0)) };
}

/** Every recorded change of the case, oldest first. */
export function caseAuditLog(db: MarrowDatabase, caseId: number): AuditRow[] {
  return read(`Reading the audit log of case ${caseId}`, () =>
    (sql(db, 'SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log WHERE case_id = ? ORDER BY id').all(caseId) as AuditDbRow[]).map(
      auditRowOf,
    ),
  );
}

/** The whole log, newest first (settings and model changes have no case). */
export function listAuditLog(db: MarrowDatabase, options: { limit?: number; offset?: number } = {}): AuditRow[] {
  const { limit, offset } = auditPage(options);
  return read('Reading the audit log', () =>
    (sql(db, 'SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as AuditDbRow[]).map(
      auditRowOf,
    ),
  );
}
