// The service's guards ask the one lifecycle table (src/shared/case-lifecycle.ts) whether a case allows an action,
// and refuse with its sentence. A released case refuses as 'locked' (the renderer offers "amend"); any other
// refusal is a 'conflict' with the case's current status.
import { canDo, type CaseAction, type CaseState } from '../../shared/case-lifecycle';
import type { CaseRow } from '../db';
import { ServiceError } from './errors';

export function caseStateOf(row: Pick<CaseRow, 'status' | 'accession'>, extra: Omit<Partial<CaseState>, 'status' | 'accession'> = {}): CaseState {
  return { status: row.status, accession: row.accession, ...extra };
}

/** Throws the lifecycle's refusal as a ServiceError naming `field`. */
export function requireAllowed(action: CaseAction, state: CaseState, field = 'caseId'): void {
  const permission = canDo(action, state);
  if (!permission.allowed) throw new ServiceError(state.status === 'signed' ? 'locked' : 'conflict', permission.why, { field });
}
