// The service's guards ask the one lifecycle table (src/shared/case-lifecycle.ts) whether a case allows an action,
// and refuse with its sentence. A released case refuses as 'locked' (the renderer offers "amend"); any other
// refusal is a 'conflict' with the case's current status.
import { canDo, type CaseAction, type CaseState } from '../../shared/case-lifecycle';
import { CASE_STATUS_LABELS } from '../../shared/case-lifecycle';
import type { CaseRow } from '../db';
import type { Repositories } from '../db/contract';
import { ServiceError } from './errors';

export function caseStateOf(row: Pick<CaseRow, 'status' | 'accession'>, extra: Omit<Partial<CaseState>, 'status' | 'accession'> = {}): CaseState {
  return { status: row.status, accession: row.accession, ...extra };
}

/** Throws the lifecycle's refusal as a ServiceError naming `field`. */
export function requireAllowed(action: CaseAction, state: CaseState, field = 'caseId'): void {
  const permission = canDo(action, state);
  if (!permission.allowed) throw new ServiceError(state.status === 'signed' ? 'locked' : 'conflict', permission.why, { field });
}

const CHANGE_WORDS: Readonly<Record<string, string>> = {
  review_added: 'a cell decision',
  review_retracted: 'an undo',
  case_status_changed: 'a status change',
  case_model_set: 'another model',
  case_signed: 'a sign-off',
  case_amended: 'an amendment',
  predictions_added: 'an analysis',
  images_imported: 'an import',
  remaining_files_excluded: 'the remaining files excluded',
};

function shownTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * Submit, sign and amend act on the case the person saw (CaseSummary.version). A change since by someone else is
 * refused as 'stale', naming who, when and what; the person's own changes (their decisions still being saved from
 * the review screen) are theirs and do not count. Call inside the writing transaction.
 */
export async function requireCaseUnchanged(tx: Repositories, row: CaseRow, seenVersion: number | undefined, actor: string): Promise<void> {
  if (seenVersion === undefined) return;
  const change = await tx.cases.changeSince(row.id, seenVersion, actor);
  if (change === null) return;
  throw new ServiceError(
    'stale',
    `Case ${row.accession} was changed by ${change.actor} at ${shownTime(change.at)} (${CHANGE_WORDS[change.action] ?? change.action.replace(/_/g, ' ')}); ` +
      `it is now ${CASE_STATUS_LABELS[row.status].toLowerCase()} — look again.`,
    { field: 'caseVersion' },
  );
}
