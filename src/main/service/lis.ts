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
import {
  countUnbuiltLisResults,
  findLisResultForSignOff,
  getCase,
  getLisSettings as readLisSettings,
  listAmendments,
  listCaseLisDeliveries,
  listSignOffs,
  listSignatures,
  listUnbuiltLisResults,
  recordLisBuildError,
  recordLisResult,
  saveLisSettings as writeLisSettings,
  storeLisMessages,
  transaction,
  unbuiltLisResultErrors,
  type LisResultRow,
  type NewLisMessage,
} from '../db';
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
export function queueSignedResult(ctx: ServiceContext, caseId: number, signOffId: number): void {
  if (!readLisSettings(ctx.db).enabled) return;
  recordLisResult(ctx.db, { caseId, signOffId });
}

async function messagesFor(ctx: ServiceContext, result: LisResultRow): Promise<NewLisMessage[]> {
  const settings = readLisSettings(ctx.db);
  requireSettingsForSending(settings);
  const caseRow = getCase(ctx.db, result.caseId);
  const signOffs = listSignOffs(ctx.db, result.caseId);
  const signOff = signOffs.find((s) => s.id === result.signOffId);
  if (signOff === undefined) throw new ServiceError('not_found', `Sign-off ${result.signOffId} of case ${caseRow.accession} is missing.`);
  const snapshot = readSignOffSnapshot(signOff.summarySnapshot, `The sign-off of case ${caseRow.accession}`);
  const amendment =
    result.resultStatus === 'C'
      ? listAmendments(ctx.db, result.caseId)
          .filter((a) => a.signOffId < signOff.id)
          .pop()
      : undefined;
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
    signatures: listSignatures(ctx.db, result.caseId)
      .filter((s) => s.id === signOff.validationSignatureId || s.id === signOff.authorisationSignatureId)
      .map((s) => ({ meaning: s.meaning, name: s.printedName, role: ROLE_LABELS[s.role], at: s.signedAt })),
    interpretiveComment: signOff.interpretiveComment,
    model: snapshot.model,
    differential: snapshot.differential,
  };
  // The PDF shows the case as it is now; it is the signed report only while this sign-off is still the case's
  // current one. A result re-opened before it was sent goes without a PDF rather than with a DRAFT.
  const current = caseRow.status === 'signed' && signOffs[signOffs.length - 1]?.id === signOff.id;
  const pdf = current ? await renderCaseReport(ctx.db, caseRow.id, { appVersion: ctx.options.appVersion, modelDir: ctx.options.modelDir }) : null;
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
  for (const result of listUnbuiltLisResults(ctx.db)) {
    let messages: NewLisMessage[];
    try {
      messages = await messagesFor(ctx, result);
    } catch (e) {
      recordLisBuildError(ctx.db, result.id, e instanceof Error ? e.message : String(e));
      continue;
    }
    storeLisMessages(ctx.db, { resultId: result.id, messages, resend: false, actor: 'MarrowCount' });
  }
}

function caseStatus(ctx: ServiceContext, caseId: number): CaseLisStatus {
  getCase(ctx.db, caseId); // not_found for an unknown case
  return {
    caseId,
    enabled: readLisSettings(ctx.db).enabled,
    pendingResults: countUnbuiltLisResults(ctx.db, caseId),
    buildErrors: unbuiltLisResultErrors(ctx.db, caseId),
    deliveries: listCaseLisDeliveries(ctx.db, caseId),
  };
}

export function lisMethods(ctx: ServiceContext) {
  return {
    async getLisSettings(): Promise<LisSettings> {
      return readLisSettings(ctx.db);
    },

    async saveLisSettings(settings: LisSettings): Promise<LisSettings> {
      if (settings.enabled) requireSettingsForSending(settings, 'enabled');
      const saved = writeLisSettings(ctx.db, settings, currentActor(ctx));
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
      const caseRow = getCase(ctx.db, caseId);
      if (caseRow.status !== 'signed') {
        throw new ServiceError('conflict', `Case ${caseRow.accession} is not signed; only a signed result is sent to the LIS.`, { field: 'caseId' });
      }
      requireSettingsForSending(readLisSettings(ctx.db));
      const signOffs = listSignOffs(ctx.db, caseId);
      const latest = signOffs[signOffs.length - 1]!;
      const existing = findLisResultForSignOff(ctx.db, latest.id);
      if (existing === null || existing.builtAt === null) {
        // Never built (signed while delivery was off, or its build failed): build it now as its first sending.
        const result = existing ?? transaction(ctx.db, () => recordLisResult(ctx.db, { caseId, signOffId: latest.id }));
        const messages = await messagesFor(ctx, result);
        storeLisMessages(ctx.db, { resultId: result.id, messages, resend: false, actor: currentActor(ctx) });
      } else {
        const messages = await messagesFor(ctx, existing);
        storeLisMessages(ctx.db, { resultId: existing.id, messages, resend: true, actor: currentActor(ctx) });
      }
      ctx.wakeLis();
      return caseStatus(ctx, caseId);
    },
  } satisfies ServiceArea;
}
