import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { AuditRow } from './types';

export function caseAuditLog(db: MarrowDatabase, caseId: number): AuditRow[] {
  return pending('caseAuditLog', db, caseId);
}
