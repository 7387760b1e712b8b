// Release in two electronic signatures (issue 20), and amendment. A technician submits the counted case (technical
// validation); a pathologist authorises it (medical authorisation), and only that releases the result: the sign-off
// is made, the report becomes final and the result is queued for the LIS, in one transaction. Each signature needs
// the signer's password at that moment (21 CFR 11.200), records the person, role, meaning, time and a hash of what
// was signed. A lab setting lets a pathologist authorise a case in review alone, her one signature carrying both
// meanings. Signing is refused while flagged cells are unreviewed unless the signer gives a reason to override,
// because an unreviewed flagged cell is exactly where the model is most likely wrong.
import { createHash } from 'node:crypto';
import type { AmendInput, AuthoriseInput, CaseDetail, ExcludeRemainingInput, SubmitInput } from '../../shared/api';
import { plural } from '../../shared/format';
import { ROLE_LABELS } from '../../shared/roles';
import { actingUser, type CaseRow, type UserRow } from '../db';
import { verifyPassword } from '../security/password';
import { LOCKOUT_MINUTES, MAX_FAILED_LOGINS } from './accounts';
import { currentActor, modelCache, type ServiceContext } from './context';
import { ServiceError } from './errors';
import { queueSignedResult } from './lis';
import { caseDifferential } from './case-differential';
import { caseStateOf, requireAllowed, requireCaseUnchanged } from './lifecycle';
import { partialResultOf } from './partial';
import type { ServiceArea } from './combine';
import { SIGN_OFF_SNAPSHOT_VERSION, type SignOffSnapshot } from './sign-off-snapshot';
import { caseDetail, modelInfoOf } from './views';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function signOffMethods(ctx: ServiceContext) {
  const modelOf = modelCache(ctx);

  /** The signer, with the password given again; a wrong one is refused, counted toward the lockout and audited. */
  const signer = async (password: string, row: CaseRow, meaning: string): Promise<UserRow> => {
    const person = actingUser();
    if (person === undefined) throw new ServiceError('unauthenticated', 'Log in first: a signature is a person’s.');
    const user = await ctx.store.users.getUser(person.id);
    if (await verifyPassword(password, user.passwordHash)) return user;
    const after = await ctx.store.users.recordFailedLogin(user.id, {
      maxFailures: MAX_FAILED_LOGINS,
      lockUntil: new Date(ctx.now().getTime() + LOCKOUT_MINUTES * 60_000).toISOString(),
      action: 'signature_refused',
      caseId: row.id,
      detail: { meaning },
    });
    const lockedOut = after.lockedOutUntil !== null;
    throw new ServiceError(
      lockedOut ? 'unauthenticated' : 'validation',
      lockedOut
        ? `Wrong password: the signature was refused, and after ${MAX_FAILED_LOGINS} wrong passwords the account is locked for ${LOCKOUT_MINUTES} minutes.`
        : `Wrong password: the ${meaning} of case ${row.accession} was refused and the attempt recorded. Give your own password to sign.`,
      { field: 'password' },
    );
  };

  /** What is signed: the differential and review state now, with its hash for the signature row. */
  const snapshotOf = async (row: CaseRow, unreviewed: number) => {
    const model = await modelOf(row.modelRowId);
    const snapshot: SignOffSnapshot = {
      snapshotVersion: SIGN_OFF_SNAPSHOT_VERSION,
      model: model === null ? null : modelInfoOf(model, ctx.options.modelDir),
      differential: await caseDifferential(ctx.store, row, model),
      review: await ctx.store.cells.reviewProgress(row.id),
      unreviewedFlaggedAtSigning: unreviewed,
    };
    const json = JSON.stringify(snapshot);
    return { json, hash: sha256(json) };
  };

  /** Refuses while flagged cells are unreviewed without a reason; returns the count and the reason in force. */
  const unreviewedCheck = async (row: CaseRow, overrideReasonInput: string | undefined, doing: string) => {
    const review = await ctx.store.cells.reviewProgress(row.id);
    const unreviewed = review.flagged - review.flaggedReviewed;
    // A blank reason is no reason: the database would store it as none, leaving an override without a record.
    const overrideReason = overrideReasonInput?.trim() || null;
    if (unreviewed > 0 && overrideReason === null) {
      throw new ServiceError(
        'unreviewed',
        `${doing} refused: ${plural(unreviewed, 'flagged cell is', 'flagged cells are')} still unreviewed (of ${review.flagged} flagged). Review ${unreviewed === 1 ? 'it' : 'them'}, or sign with an override reason.`,
        { field: 'overrideReason' },
      );
    }
    // An override given when nothing was left to review is not an override: do not record one.
    return { unreviewed, overrideReason: unreviewed > 0 ? overrideReason : null };
  };

  // A cancelled case is released only once its remaining files are excluded with a reason (the lifecycle's rule).
  const allowed = async (row: CaseRow, action: 'submit' | 'authorise'): Promise<void> => {
    requireAllowed(action, caseStateOf(row, { partial: await partialResultOf(ctx.store, row) }));
  };

  return {
    async submitCase(input: SubmitInput): Promise<CaseDetail> {
      const row = await ctx.store.cases.getCase(input.caseId);
      await allowed(row, 'submit');
      const { unreviewed, overrideReason } = await unreviewedCheck(row, input.overrideReason, 'Submission');
      await signer(input.password, row, 'technical validation');
      const { hash } = await snapshotOf(row, unreviewed);
      await ctx.store.transaction(async (tx) => {
        await requireCaseUnchanged(tx, await tx.cases.getCase(input.caseId), input.caseVersion, currentActor(ctx));
        // The signature's audit row carries the override reason; the status change records the submission.
        await tx.signatures.insertSignature({
          caseId: row.id,
          role: 'technician',
          meaning: 'technical_validation',
          contentSha256: hash,
          detail: { overrideReason },
        });
        await tx.cases.setCaseStatus(row.id, 'submitted', currentActor(ctx));
      });
      return caseDetail(ctx, row.id, modelOf);
    },

    async authoriseCase(input: AuthoriseInput): Promise<CaseDetail> {
      const row = await ctx.store.cases.getCase(input.caseId);
      await allowed(row, 'authorise');
      const settings = await ctx.store.users.getSecuritySettings();
      const person = actingUser()!;
      // The technical validation this release rests on: the submission's, or (lab setting) the pathologist's own.
      const validation =
        row.status === 'submitted' ? (await ctx.store.signatures.listSignatures(row.id)).filter((s) => s.meaning === 'technical_validation').pop() : undefined;
      if (row.status === 'in_review' && !settings.pathologistMaySignAlone) {
        throw new ServiceError(
          'conflict',
          `Case ${row.accession} has not been submitted: a technician validates it first (Submit), then a pathologist authorises it. This laboratory does not allow one person to do both.`,
          { field: 'caseId' },
        );
      }
      if (validation !== undefined && validation.userId === person.id && !settings.pathologistMaySignAlone) {
        throw new ServiceError(
          'conflict',
          `You validated case ${row.accession} yourself; another person must authorise it (this laboratory requires two people).`,
          { field: 'caseId' },
        );
      }
      const { unreviewed, overrideReason } = await unreviewedCheck(row, input.overrideReason, 'Authorisation');
      await signer(input.password, row, 'medical authorisation');
      const { json, hash } = await snapshotOf(row, unreviewed);
      // The result is queued for the LIS in the release's own transaction: a released result cannot be lost between
      // signing and sending.
      await ctx.store.transaction(async (tx) => {
        await requireCaseUnchanged(tx, await tx.cases.getCase(input.caseId), input.caseVersion, currentActor(ctx));
        const at = ctx.now().toISOString();
        const technical =
          validation ??
          (await tx.signatures.insertSignature({ caseId: row.id, role: 'pathologist', meaning: 'technical_validation', contentSha256: hash, at }));
        const medical = await tx.signatures.insertSignature({ caseId: row.id, role: 'pathologist', meaning: 'medical_authorisation', contentSha256: hash, at });
        const { signOff } = await tx.cases.signCase({
          caseId: row.id,
          signedBy: person.displayName,
          role: ROLE_LABELS.pathologist,
          overrideReason,
          summarySnapshot: json,
          validationSignatureId: technical.id,
          authorisationSignatureId: medical.id,
          interpretiveComment: input.interpretiveComment ?? null,
        });
        await queueSignedResult(tx, row.id, signOff.id);
      });
      ctx.wakeLis();
      return caseDetail(ctx, row.id, modelOf);
    },

    async amendCase(input: AmendInput): Promise<CaseDetail> {
      const row = await ctx.store.cases.getCase(input.caseId);
      requireAllowed('amend', caseStateOf(row));
      await ctx.store.transaction(async (tx) => {
        await requireCaseUnchanged(tx, await tx.cases.getCase(input.caseId), input.caseVersion, currentActor(ctx));
        await tx.cases.amendCase({ caseId: input.caseId, reason: input.reason, by: currentActor(ctx) });
      });
      return caseDetail(ctx, input.caseId, modelOf);
    },

    async excludeRemainingFiles(input: ExcludeRemainingInput): Promise<CaseDetail> {
      const row = await ctx.store.cases.getCase(input.caseId);
      requireAllowed('exclude_remaining', caseStateOf(row));
      await ctx.store.partialAnalysis.excludeRemainingFiles({ caseId: input.caseId, reason: input.reason, by: currentActor(ctx) });
      return caseDetail(ctx, input.caseId, modelOf);
    },
  } satisfies ServiceArea;
}
