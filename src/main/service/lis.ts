// Results to the LIS, the service side: the settings, building a signed result's messages (HL7 v2 ORU^R01 and a
// FHIR R4 Bundle with the PDF), the per-case delivery status and the resend action. Sending itself is the delivery
// loop's (src/main/lis/delivery.ts); this module only decides what is sent.
//
// When a result is sent: at sign-off, recorded in the sign-off's own transaction (recordLisResult), while delivery
// is turned on. An amendment re-opens the case; the result signed after it goes as a corrected result (C), so the
// LIS keeps the final result until the corrected one replaces it.
import { randomBytes } from 'node:crypto';
import { LIS_REQUIRED_TO_SEND, type CaseLisStatus, type LisChannel, type LisSettings } from '../../shared/lis';
import { ROLE_LABELS } from '../../shared/roles';
import type { LisResultRow, NewLisMessage } from '../db';
import type { Repositories } from '../db/contract';
import { buildFhirBundle } from '../lis/fhir-bundle';
import { buildOruR01 } from '../lis/oru-r01';
import type { LisResultMessageData } from '../lis/result-message-data';
import { currentActor, type ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { ServiceError, validationError } from './errors';
import { renderCaseReport } from './case-report';
import { readSignOffSnapshot } from './sign-off-snapshot';

/**
 * A control id: "MC" and 18 random hex digits. Random rather than a row number, because two MarrowCount
 * databases (two workstations, a restored backup) sending to one LIS must never reuse an id the LIS dedupes on.
 * 20 characters: the MSH-10 length of HL7 versions before 2.5, which some receivers still enforce.
 */
export function newControlId(): string {
  return `MC${randomBytes(9).toString('hex').toUpperCase()}`;
}

/**
 * The settings without which a message cannot be addressed. Refused as a conflict with the settings (the call
 * itself is fine), or, when turning delivery on, as a validation error of the 'enabled' switch.
 */
const REQUIRED_LABELS: Readonly<Record<(typeof LIS_REQUIRED_TO_SEND)[number], string>> = {
  sendingApplication: 'the sending application',
  patientIdAuthority: 'the patient identifier namespace (HL7)',
  patientIdSystem: 'the patient identifier system (FHIR)',
};

function requireSettingsForSending(settings: LisSettings, asField?: 'enabled'): void {
  const missing = LIS_REQUIRED_TO_SEND.filter((key) => settings[key].trim() === '');
  if (missing.length > 0) {
    const message = `To send results to the LIS, fill in ${missing.map((key) => REQUIRED_LABELS[key]).join(', ')} in Settings → LIS.`;
    throw asField === undefined ? new ServiceError('conflict', message) : validationError(asField, message);
  }
}

/** Records the sign-off's result for the LIS, inside the sign-off transaction, if delivery is on. */
export async function queueSignedResult(tx: Repositories, caseId: number, signOffId: number): Promise<void> {
  if (!(await tx.lis.getLisSettings()).enabled) return;
  await tx.lis.recordLisResult({ caseId, signOffId });
}

async function messagesFor(ctx: ServiceContext, result: LisResultRow): Promise<NewLisMessage[]> {
  const settings = await ctx.store.lis.getLisSettings();
  requireSettingsForSending(settings);
  const caseRow = await ctx.store.cases.getCase(result.caseId);
  const signOffs = await ctx.store.cases.listSignOffs(result.caseId);
  const signOff = signOffs.find((s) => s.id === result.signOffId);
  if (signOff === undefined) throw new ServiceError('not_found', `Sign-off ${result.signOffId} of case ${caseRow.accession} is missing.`);
  const snapshot = readSignOffSnapshot(signOff.summarySnapshot, `The sign-off of case ${caseRow.accession}`);
  const amendment =
    result.resultStatus === 'C' ? (await ctx.store.cases.listAmendments(result.caseId)).filter((a) => a.signOffId < signOff.id).pop() : undefined;
  const base: Omit<LisResultMessageData, 'controlId'> = {
    createdAt: new Date().toISOString(),
    resultStatus: result.resultStatus,
    settings,
    caseId: caseRow.id,
    accession: caseRow.accession,
    specimen: caseRow.specimen,
    patient: { labId: caseRow.patientLabId, name: caseRow.patientName, birthDate: caseRow.patientBirthDate },
    analysedAt: caseRow.analysedAt,
    signOff: {
      signedBy: signOff.signedBy,
      role: signOff.role,
      signedAt: signOff.signedAt,
      overrideReason: signOff.overrideReason,
      unreviewedFlaggedAtSigning: snapshot.unreviewedFlaggedAtSigning ?? 0,
    },
    correction: amendment === undefined ? null : { by: amendment.by, reason: amendment.reason, at: amendment.at },
    signatures: (await ctx.store.signatures.listSignatures(result.caseId))
      .filter((s) => s.id === signOff.validationSignatureId || s.id === signOff.authorisationSignatureId)
      .map((s) => ({ meaning: s.meaning, name: s.printedName, role: ROLE_LABELS[s.role], at: s.signedAt })),
    interpretiveComment: signOff.interpretiveComment,
    model: snapshot.model,
    differential: snapshot.differential,
  };
  // The PDF shows the case as it is now; it is the signed report only while this sign-off is still the case's
  // current one. A result re-opened before it was sent goes without a PDF rather than with a DRAFT.
  const current = caseRow.status === 'signed' && signOffs[signOffs.length - 1]?.id === signOff.id;
  const pdf = current ? await renderCaseReport(ctx.store, caseRow.id, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir }) : null;
  const hl7ControlId = newControlId();
  const fhirControlId = newControlId();
  const hl7Channels: LisChannel[] = settings.mllpHost.trim() !== '' && settings.mllpPort !== null ? ['outbox', 'mllp'] : ['outbox'];
  return [
    { format: 'hl7v2', controlId: hl7ControlId, payload: buildOruR01({ ...base, controlId: hl7ControlId }), channels: hl7Channels },
    {
      format: 'fhir-r4',
      controlId: fhirControlId,
      payload: `${JSON.stringify(buildFhirBundle({ ...base, controlId: fhirControlId, pdfBase64: pdf === null ? null : pdf.toString('base64') }), null, 2)}\n`,
      channels: ['outbox'],
    },
  ];
}

/** Builds the messages of every signed result still waiting; a failure is recorded on the result and retried. */
export async function buildPendingLisMessages(ctx: ServiceContext): Promise<void> {
  for (const result of await ctx.store.lis.listUnbuiltLisResults()) {
    let messages: NewLisMessage[];
    try {
      messages = await messagesFor(ctx, result);
    } catch (e) {
      await ctx.store.lis.recordLisBuildError(result.id, e instanceof Error ? e.message : String(e));
      continue;
    }
    await ctx.store.lis.storeLisMessages({ resultId: result.id, messages, resend: false, actor: 'MarrowCount' });
  }
}

async function caseStatus(ctx: ServiceContext, caseId: number): Promise<CaseLisStatus> {
  await ctx.store.cases.getCase(caseId); // not_found for an unknown case
  return {
    caseId,
    enabled: (await ctx.store.lis.getLisSettings()).enabled,
    pendingResults: await ctx.store.lis.countUnbuiltLisResults(caseId),
    buildErrors: await ctx.store.lis.unbuiltLisResultErrors(caseId),
    deliveries: await ctx.store.lis.listCaseLisDeliveries(caseId),
  };
}

export function lisMethods(ctx: ServiceContext) {
  return {
    async getLisSettings(): Promise<LisSettings> {
      return ctx.store.lis.getLisSettings();
    },

    async saveLisSettings(settings: LisSettings): Promise<LisSettings> {
      if (settings.enabled) requireSettingsForSending(settings, 'enabled');
      const saved = await ctx.store.lis.saveLisSettings(settings, currentActor(ctx));
      ctx.wakeLis();
      return saved;
    },

    async getLisStatus(caseId: number): Promise<CaseLisStatus> {
      return caseStatus(ctx, caseId);
    },

    /**
     * Sends the case's current signed result again, as new messages with new control ids built with the settings
     * as they are now (the usual reason to resend is a setting or a LIS mapping that was fixed). A result signed
     * while delivery was off is sent for the first time.
     */
    async resendToLis(caseId: number): Promise<CaseLisStatus> {
      const caseRow = await ctx.store.cases.getCase(caseId);
      if (caseRow.status !== 'signed') {
        throw new ServiceError('conflict', `Case ${caseRow.accession} is not signed; only a signed result is sent to the LIS.`, { field: 'caseId' });
      }
      requireSettingsForSending(await ctx.store.lis.getLisSettings());
      const signOffs = await ctx.store.cases.listSignOffs(caseId);
      const latest = signOffs[signOffs.length - 1]!;
      const existing = await ctx.store.lis.findLisResultForSignOff(latest.id);
      if (existing === null || existing.builtAt === null) {
        // Never built (signed while delivery was off, or its build failed): build it now as its first sending.
        const result = existing ?? (await ctx.store.transaction((tx) => tx.lis.recordLisResult({ caseId, signOffId: latest.id })));
        const messages = await messagesFor(ctx, result);
        await ctx.store.lis.storeLisMessages({ resultId: result.id, messages, resend: false, actor: currentActor(ctx) });
      } else {
        const messages = await messagesFor(ctx, existing);
        await ctx.store.lis.storeLisMessages({ resultId: existing.id, messages, resend: true, actor: currentActor(ctx) });
      }
      ctx.wakeLis();
      return caseStatus(ctx, caseId);
    },
  } satisfies ServiceArea;
}
