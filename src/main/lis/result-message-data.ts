// What one message to the LIS says: the signed result as it was signed (the differential of the sign-off
// snapshot, never a recount), the case and patient, who signed, and the lab's LIS settings at the time the message
// is built. Both encoders (HL7 v2 and FHIR) take exactly this, so the two formats cannot disagree.
import { SIGNATURE_MEANING_TEXT, type SpecimenType } from '../../shared/api';
import type { Differential } from '../../shared/differential';
import type { LisSettings } from '../../shared/lis';

export interface LisModel {
  id: string;
  version: string;
  name: string;
  sha256: string;
  researchOnly: boolean;
}

export interface LisResultMessageData {
  /** MSH-10 / Bundle.identifier: unique per message; a resend of the same result gets a new one. */
  controlId: string;
  /** When the message was built (MSH-7, Bundle.timestamp). */
  createdAt: string;
  /** F for the first sign-off of a case, C for a sign-off after an amendment. */
  resultStatus: 'F' | 'C';
  settings: LisSettings;
  caseId: number;
  accession: string;
  specimen: SpecimenType;
  patient: { labId: string; name: string | null; birthDate: string | null };
  analysedAt: string | null;
  signOff: { signedBy: string; role: string; signedAt: string; overrideReason: string | null; unreviewedFlaggedAtSigning: number };
  /**
   * The electronic signatures of the release (issue 20): technical validation, then medical authorisation. Empty
   * for a result released before accounts (the sign-off's typed name is then all there is).
   */
  signatures: { meaning: 'technical_validation' | 'medical_authorisation'; name: string; role: string; at: string }[];
  /** The authorising pathologist's interpretation (HL7 NTE first after OBR; FHIR DiagnosticReport.conclusion). */
  interpretiveComment: string | null;
  /** For a corrected result: the amendment that re-opened the previous sign-off. */
  correction: { by: string; reason: string; at: string } | null;
  model: LisModel | null;
  differential: Differential;
}

/** Specimen types as MarrowCount names them; sent under the local code system (no table code was verified). */
export const SPECIMEN_DISPLAY: Readonly<Record<SpecimenType, string>> = Object.freeze({
  bone_marrow_aspirate: 'Bone marrow aspirate',
  bone_marrow_imprint: 'Bone marrow imprint',
  peripheral_blood: 'Peripheral blood',
  other: 'Other specimen',
});

export const RESEARCH_ONLY_NOTE = 'Not for diagnostic use: classified by a research model whose manifest does not clear it for diagnosis.';

/**
 * The notes that travel with the whole result (HL7 NTE after OBR; FHIR DiagnosticReport.conclusion and the panel
 * notes): every warning the differential carries, so that a new warning reaches the LIS with no change here, and
 * the facts a reader of the result must not miss.
 */
export function resultNotes(data: LisResultMessageData): string[] {
  const notes: string[] = [];
  const authoriser = data.signatures.find((s) => s.meaning === 'medical_authorisation');
  if (data.interpretiveComment !== null)
    notes.push(`Interpretive comment${authoriser === undefined ? '' : ` (${authoriser.name})`}: ${data.interpretiveComment}`);
  for (const s of data.signatures) notes.push(`${SIGNATURE_MEANING_TEXT[s.meaning]} ${s.name} (${s.role}) on ${s.at}`);
  if (data.model === null || data.model.researchOnly) notes.push(RESEARCH_ONLY_NOTE);
  if (data.correction !== null) {
    notes.push(`Corrected result: replaces the result signed before, re-opened by ${data.correction.by} on ${data.correction.at}: ${data.correction.reason}`);
  }
  if (data.signOff.overrideReason !== null) {
    notes.push(`Signed with ${data.signOff.unreviewedFlaggedAtSigning} flagged cell(s) unreviewed; reason: ${data.signOff.overrideReason}`);
  }
  notes.push(...data.differential.warnings);
  if (!data.differential.countTarget.met) notes.push(data.differential.countTarget.note);
  if (data.differential.meRatio.ratio === null && data.differential.meRatio.undefinedReason !== null) {
    notes.push(`M:E ratio not reported: ${data.differential.meRatio.undefinedReason}`);
  }
  return notes;
}

/** The notes that go with the blast percentage: its 95% interval and where it lies against each threshold. */
export function blastNotes(data: LisResultMessageData): string[] {
  const { blast } = data.differential;
  if (blast.percentage === null || blast.ci95 === null) return [];
  return [`95% CI ${blast.ci95.lower.toFixed(1)} to ${blast.ci95.upper.toFixed(1)} % (Wilson)`, ...blast.advisories.map((a) => a.text)];
}
