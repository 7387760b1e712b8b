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

/** Call inside the transaction of the change it records, so the log and the change commit or fail together. */
export function appendAudit(db: MarrowDatabase, entry: AuditEntry, at: string): void {
  // On the lab server every row also says from which station (address) the person acted.
  const station = currentStation();
  const detail = station === undefined || 'station' in entry.detail ? entry.detail : { ...entry.detail, station };
  sql(db, 'INSERT INTO audit_log (at, actor, action, case_id, detail, user_id) VALUES (?, ?, ?, ?, ?, ?)').run(
    at,
    entry.actor,
    entry.action,
    entry.caseId,
    JSON.stringify(detail),
    entry.userId === undefined ? actingUserId() : entry.userId,
  );
}

interface AuditDbRow {
  id: number;
  at: string;
  actor: string;
  action: AuditAction;
  case_id: number | null;
  detail: string;
  user_id: number | null;
}

/** Every recorded change of the case, oldest first. */
export function caseAuditLog(db: MarrowDatabase, caseId: number): AuditRow[] {
  return read(`Reading the audit log of case ${caseId}`, () =>
    (sql(db, 'SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log WHERE case_id = ? ORDER BY id').all(caseId) as AuditDbRow[]).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      caseId: r.case_id,
      detail: JSON.parse(r.detail) as unknown,
      userId: r.user_id,
    })),
  );
}

/** The whole log, newest first (settings and model changes have no case). */
export function listAuditLog(db: MarrowDatabase, options: { limit?: number; offset?: number } = {}): AuditRow[] {
  const limit = Math.max(0, Math.floor(options.limit ?? 500));
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  return read('Reading the audit log', () =>
    (sql(db, 'SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as AuditDbRow[]).map(
      (r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, caseId: r.case_id, detail: JSON.parse(r.detail) as unknown, userId: r.user_id }),
    ),
  );
}
