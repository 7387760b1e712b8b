// The audit log on PostgreSQL: the twin of ../audit.ts (AuditRepository of contract.ts), append-only by trigger.
import { actingUserId } from '../acting-user';
import type { AuditEntry } from '../audit';
import type { AuditRepository } from '../contract';
import type { AuditAction, AuditRow } from '../types';
import { pgRead, type PgScope, type Queryable } from './scope';

/** Call inside the transaction of the change it records, so the log and the change commit or fail together. */
export async function appendAuditPg(q: Queryable, entry: AuditEntry, at: string): Promise<void> {
  await q.query('INSERT INTO audit_log (at, actor, action, case_id, detail, user_id) VALUES ($1, $2, $3, $4, $5, $6)', [
    at,
    entry.actor,
    entry.action,
    entry.caseId,
    JSON.stringify(entry.detail),
    entry.userId === undefined ? actingUserId() : entry.userId,
  ]);
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

const toRow = (r: AuditDbRow): AuditRow => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  action: r.action,
  caseId: r.case_id,
  detail: JSON.parse(r.detail) as unknown,
  userId: r.user_id ?? null,
});

export function pgAuditRepository(scope: PgScope): AuditRepository {
  return {
    caseAuditLog: (caseId) =>
      pgRead(scope, `Reading the audit log of case ${caseId}`, async (q) =>
        (await q.query<AuditDbRow>('SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log WHERE case_id = $1 ORDER BY id', [caseId])).rows.map(
          toRow,
        ),
      ),
    listAuditLog: (options = {}) => {
      const limit = Math.max(0, Math.floor(options.limit ?? 500));
      const offset = Math.max(0, Math.floor(options.offset ?? 0));
      return pgRead(scope, 'Reading the audit log', async (q) =>
        (
          await q.query<AuditDbRow>('SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2', [
            limit,
            offset,
          ])
        ).rows.map(toRow),
      );
    },
  };
}
