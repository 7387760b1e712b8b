// Issue 21, "the same crops, another patient": a folder of crops filed under a second patient is almost always the
// wrong folder (or the wrong patient), and a result built on it would describe another person's marrow. So a case
// whose crops (by content, SHA-256 as the import hashes them) are already imported images of another patient's case
// is refused, naming that case and patient, unless the person confirms with a reason; the confirmation is recorded,
// per other case, with the session's person, in the case's own creation transaction. Same patient: no warning (a
// second case of the same marrow is a re-count, which the patient's history shows anyway).
//
// Who may confirm: whoever may create the case (createCase: technician). The confirmation is part of that one act,
// like the reason of a patient-name correction; it adds no second role.
import type { SharedCropsRecord } from '../../shared/api';
import type { SharedCropsMatch } from '../db';
import type { Repositories } from '../db/contract';
import { hashCropFiles } from '../inference/case-folder';
import { ServiceError, validationError } from './errors';

/** How many other cases a refusal names one by one; the rest are counted (the form has room for a few lines). */
const CASES_NAMED = 5;

/** The folder's crop contents, hashed before the creation transaction (file reads cannot run inside it). */
export async function folderContents(folder: string): Promise<string[]> {
  try {
    return await hashCropFiles(folder);
  } catch (e) {
    throw new ServiceError('io', (e as Error).message, { field: 'folder', cause: e });
  }
}

function patientText(m: Pick<SharedCropsMatch, 'patientLabId' | 'patientName'>): string {
  return `patient ${m.patientLabId}${m.patientName === null ? ' (no name on record)' : ` (${m.patientName})`}`;
}

function files(n: number): string {
  return n === 1 ? '1 file' : `${n.toLocaleString('en-GB')} files`;
}

/** The refusal's words: which case of which patient, how many files, and the two ways on. */
export function sharedCropsMessage(folder: string, total: number, matches: readonly SharedCropsMatch[]): string {
  const named = matches
    .slice(0, CASES_NAMED)
    .map((m) => `case ${m.accession} of ${patientText(m)} holds ${m.sharedFiles.toLocaleString('en-GB')} of the folder's ${files(total)}`);
  const more = matches.length > CASES_NAMED ? `; and ${matches.length - CASES_NAMED} more cases` : '';
  return (
    `The crops in ${folder} are already filed under another patient: ${named.join('; ')}${more}. ` +
    'Check the folder and the patient identifier. If these images really belong to this patient too, give the reason ' +
    'and create the case anyway: the confirmation is recorded with your name.'
  );
}

/**
 * Inside the case's creation transaction, once the patient and case rows exist: refuses (the transaction then rolls
 * the patient and case back) or records the confirmation. `by` is the session's person, never a request field.
 */
export async function refuseOrConfirmSharedCrops(
  tx: Pick<Repositories, 'images'>,
  input: { caseId: number; patientId: number; folder: string; contents: readonly string[]; confirmation: { reason: string } | undefined; by: string },
): Promise<void> {
  const matches = await tx.images.findCropsOfOtherPatients(input.patientId, input.contents);
  if (matches.length === 0) return;
  if (input.confirmation === undefined) {
    throw new ServiceError('shared_crops', sharedCropsMessage(input.folder, input.contents.length, matches), { field: 'confirmSharedCrops' });
  }
  // The boundary refuses a blank reason; an in-process caller (the CLI) gets the same field error here.
  const reason = typeof input.confirmation.reason === 'string' ? input.confirmation.reason.trim() : '';
  if (reason === '') throw validationError('confirmSharedCrops.reason', 'Give the reason why these crops belong to this patient too.');
  await tx.images.recordSharedCropsConfirmations({ caseId: input.caseId, matches, reason, by: input.by });
}

/** What the case's detail shows (and the audit trail holds): each recorded confirmation, who, when and why. */
export async function sharedCropsOf(store: Pick<Repositories, 'images'>, caseId: number): Promise<SharedCropsRecord[]> {
  return (await store.images.listSharedCropsConfirmations(caseId)).map((r) => ({
    otherCaseId: r.otherCaseId,
    otherAccession: r.otherAccession,
    otherPatientLabId: r.otherPatientLabId,
    otherPatientName: r.otherPatientName,
    sharedFiles: r.sharedFiles,
    reason: r.reason,
    confirmedBy: r.confirmedBy,
    confirmedAt: r.confirmedAt,
  }));
}
