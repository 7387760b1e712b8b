// The audit log on PostgreSQL: the twin of ../audit.ts (AuditRepository of contract.ts), append-only by trigger.
import { auditInsertValues, auditPage, auditRowOf, type AuditDbRow, type AuditEntry } from '../audit';
import type { AuditRepository } from '../contract';
import { pgRead, type PgScope, type Queryable } from './scope';

/** Call inside the transaction of the change it records, so the log and the change commit or fail together. */
export async function appendAuditPg(q: Queryable, entry: AuditEntry, at: string): Promise<void> {
  await q.query('INSERT INTO audit_log (at, actor, action, case_id, detail, user_id) VALUES ($1, $2, $3, $4, $5, $6)', auditInsertValues(entry, at));
}

export function pgAuditRepository(scope: PgScope): AuditRepository {
  return {
    caseAuditLog: (caseId) =>
      pgRead(scope, `Reading the audit log of case ${caseId}`, async (q) =>
        (await q.query<AuditDbRow>('SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log WHERE case_id = $1 ORDER BY id', [caseId])).rows.map(
          auditRowOf,
        ),
      ),
    listAuditLog: (options = {}) => {
      const { limit, offset } = auditPage(options);
      return pgRead(scope, 'Reading the audit log', async (q) =>
        (
          await q.query<AuditDbRow>('SELECT id, at, actor, action, case_id, detail, user_id FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2', [
            limit,
            offset,
          ])
        ).rows.map(auditRowOf),
      );
    },
  };
}
