// The import's half of issue 21's shared-crops rule. Creating a case checks the folder against the images other
// patients' cases hold then; files that arrive later (added to the folder after the case was made, or a second case
// made from the same folder before the first one was analysed) are checked here, when they are imported: a file whose
// content is a counted image of another patient's case, for which this case has no recorded confirmation, is stored
// as a failed import naming that case and patient. It is never classified or counted, and it is listed with the other
// failed files on every screen and report, so a crop can never count for two patients without a named person's reason.
import type { Repositories } from '../db/contract';

export interface SharedCropsGuard {
  /** For each content hash given, the reason it may not be imported into this case; absent: it may. */
  refusals(sha256s: readonly string[]): Promise<Map<string, string>>;
}

export async function sharedCropsGuard(store: Pick<Repositories, 'images'>, caseRow: { id: number; patientId: number }): Promise<SharedCropsGuard> {
  // Confirmations are made with the case and never change afterwards: read once per run.
  const confirmed = new Set((await store.images.listSharedCropsConfirmations(caseRow.id)).map((c) => c.otherCaseId));
  return {
    async refusals(sha256s) {
      const reasons = new Map<string, string>();
      if (sha256s.length === 0) return reasons;
      for (const match of await store.images.findCropsOfOtherPatients(caseRow.patientId, sha256s)) {
        if (confirmed.has(match.caseId)) continue;
        const patient = `${match.patientLabId}${match.patientName === null ? '' : ` (${match.patientName})`}`;
        const reason =
          `The same image is in case ${match.accession} of another patient, ${patient}, and this case has no confirmation ` +
          'that the crops belong to both; it is not classified or counted. Remove it from the folder, or make a new case ' +
          'of the folder with the confirmation and its reason.';
        for (const sha of match.sha256s) if (!reasons.has(sha)) reasons.set(sha, reason);
      }
      return reasons;
    },
  };
}
