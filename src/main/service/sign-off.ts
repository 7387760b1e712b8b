// Sign-off and amendment. Signing is refused while flagged cells are unreviewed unless the reviewer gives a reason
// to override, because an unreviewed flagged cell is exactly where the model is most likely wrong. What was signed
// is stored with the sign-off (the differential at that moment), so a later amendment cannot rewrite it.
import type { AmendInput, CaseDetail, SignOffInput } from '../../shared/api';
import { plural } from '../../shared/format';
import { amendCase as reopenCase, getCase, reviewProgress, signCase, transaction } from '../db';
import { modelCache, type ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { ServiceError } from './errors';
import { queueSignedResult } from './lis';
import { caseDifferential } from './case-differential';
import { SIGN_OFF_SNAPSHOT_VERSION, type SignOffSnapshot } from './sign-off-snapshot';
import { caseDetail, modelInfoOf } from './views';

export function signOffMethods(ctx: ServiceContext) {
  const modelOf = modelCache(ctx);
  return {
    async signOff(input: SignOffInput): Promise<CaseDetail> {
      const row = getCase(ctx.db, input.caseId);
      if (row.status === 'signed') {
        throw new ServiceError('locked', `Case ${row.accession} is already signed. Amend it first to sign it again.`, { field: 'caseId' });
      }
      if (row.status !== 'in_review') {
        throw new ServiceError('conflict', `Case ${row.accession} cannot be signed before its analysis has finished (status: ${row.status}).`, {
          field: 'caseId',
        });
      }
      const review = reviewProgress(ctx.db, input.caseId);
      const unreviewed = review.flagged - review.flaggedReviewed;
      // A blank reason is no reason: the database would store it as none, leaving an override without a record.
      const overrideReason = input.overrideReason?.trim() || null;
      if (unreviewed > 0 && overrideReason === null) {
        throw new ServiceError(
          'unreviewed',
          `Sign-off refused: ${plural(unreviewed, 'flagged cell is', 'flagged cells are')} still unreviewed (of ${review.flagged} flagged). Review ${unreviewed === 1 ? 'it' : 'them'}, or sign with an override reason.`,
          { field: 'overrideReason' },
        );
      }
      const model = modelOf(row.modelRowId);
      const snapshot: SignOffSnapshot = {
        snapshotVersion: SIGN_OFF_SNAPSHOT_VERSION,
        model: model === null ? null : modelInfoOf(model, ctx.options.modelDir),
        differential: caseDifferential(ctx.db, row, model),
        review,
        unreviewedFlaggedAtSigning: unreviewed,
      };
      // The result is queued for the LIS in the sign-off's own transaction: a signed result cannot be lost between
      // signing and sending.
      transaction(ctx.db, () => {
        const { signOff } = signCase(ctx.db, {
          caseId: input.caseId,
          signedBy: input.reviewer,
          role: input.role,
          // An override given when nothing was left to review is not an override: do not record one.
          overrideReason: unreviewed > 0 ? overrideReason : null,
          summarySnapshot: JSON.stringify(snapshot),
        });
        queueSignedResult(ctx, input.caseId, signOff.id);
      });
      ctx.wakeLis();
      return caseDetail(ctx, input.caseId, modelOf);
    },

    async amendCase(input: AmendInput): Promise<CaseDetail> {
      const row = getCase(ctx.db, input.caseId);
      if (row.status !== 'signed') {
        throw new ServiceError('conflict', `Case ${row.accession} is not signed, so there is nothing to amend; its cells can be reviewed as they are.`, {
          field: 'caseId',
        });
      }
      reopenCase(ctx.db, input);
      return caseDetail(ctx, input.caseId, modelOf);
    },
  } satisfies ServiceArea;
}
