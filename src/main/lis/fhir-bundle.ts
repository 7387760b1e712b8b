// The signed differential as a FHIR R4 transaction Bundle: Patient (created only if the lab's identifier is not yet
// known: conditional create), Specimen, one Observation per figure with a UCUM valueQuantity, the DiagnosticReport
// that groups them with the PDF report as presentedForm, the Device (the model that classified the cells) and a
// Provenance naming the device and the human who verified and signed. A transaction, so that a FHIR server given the
// file stores all of it or none, and resolves the urn:uuid references between the entries.
//
// The resources are typed with @medplum/fhirtypes (FHIR R4 definitions), so a misspelt element or a wrong value set
// code of a required binding fails to compile.
import type { Bundle, BundleEntry, Device, DiagnosticReport, Observation, Patient, Provenance, Resource, Specimen } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { SIGNATURE_MEANING_TEXT } from '../../shared/api';
import { LOCAL_FHIR_SYSTEM, lisCodeFor } from '../../shared/lis';
import { resultObservations } from './oru-r01';
import { resultNotes, SPECIMEN_DISPLAY, type LisResultMessageData } from './result-message-data';

const UCUM_URI = 'http://unitsofmeasure.org';
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const PROVENANCE_PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** Bundle.identifier and Specimen.accessionIdentifier systems of MarrowCount's own identifiers. */
export const MESSAGE_ID_SYSTEM = 'urn:marrowcount:message-id';
export const ACCESSION_SYSTEM = 'urn:marrowcount:accession';

/**
 * A name-based UUID (RFC 4122 version 5 layout over SHA-1) of the message's control id and the entry, so the same
 * message always has the same fullUrls: a rebuilt bundle is byte-identical and tests can spell it out.
 */
export function entryUuid(controlId: string, entry: string): string {
  const hex = createHash('sha1').update(`${controlId}/${entry}`).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface FhirBundleInput extends LisResultMessageData {
  /** The signed PDF report, base64; null when the case was re-opened before the result was built. */
  pdfBase64: string | null;
}

export function buildFhirBundle(data: FhirBundleInput): Bundle {
  const s = data.settings;
  const final = data.resultStatus === 'F';
  const url = (entry: string) => entryUuid(data.controlId, entry);
  const patientUrl = url('patient');
  const specimenUrl = url('specimen');
  const reportUrl = url('report');
  const deviceUrl = url('device');
  const observed = data.analysedAt ?? data.signOff.signedAt;
  const interpreter = { display: data.signOff.signedBy };
  // Observation.performer: who validated and who authorised (the authoriser alone for a result before accounts).
  const performers = data.signatures.length === 0 ? [interpreter] : data.signatures.map((s) => ({ display: s.name }));
  // Provenance: one agent per electronic signature, with its meaning (technical validation: verifier; medical
  // authorisation: attester, the legal attestation of the result).
  const signatureAgents =
    data.signatures.length === 0
      ? [
          {
            type: { coding: [{ system: PROVENANCE_PARTICIPANT, code: 'verifier' }] },
            role: [{ text: data.signOff.role }],
            who: { display: data.signOff.signedBy },
          },
        ]
      : data.signatures.map((s) => ({
          type: { coding: [{ system: PROVENANCE_PARTICIPANT, code: s.meaning === 'medical_authorisation' ? 'attester' : 'verifier' }] },
          role: [{ text: `${s.role}: ${SIGNATURE_MEANING_TEXT[s.meaning]}` }],
          who: { display: s.name },
        }));
  const entries: BundleEntry[] = [];
  const add = (fullUrl: string, resource: Resource, ifNoneExist?: string) =>
    entries.push({
      fullUrl,
      resource,
      request: { method: 'POST', url: resource.resourceType, ...(ifNoneExist === undefined ? {} : { ifNoneExist }) },
    });

  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [{ use: 'usual', system: s.patientIdSystem, value: data.patient.labId }],
    ...(data.patient.name === null ? {} : { name: [{ text: data.patient.name }] }),
    ...(data.patient.birthDate === null ? {} : { birthDate: data.patient.birthDate }),
  };
  add(patientUrl, patient, `identifier=${encodeURIComponent(s.patientIdSystem)}|${encodeURIComponent(data.patient.labId)}`);

  const specimen: Specimen = {
    resourceType: 'Specimen',
    accessionIdentifier: { system: ACCESSION_SYSTEM, value: data.accession },
    type: { coding: [{ system: LOCAL_FHIR_SYSTEM, code: data.specimen, display: SPECIMEN_DISPLAY[data.specimen] }], text: SPECIMEN_DISPLAY[data.specimen] },
    subject: { reference: patientUrl },
  };
  add(specimenUrl, specimen);

  if (data.model !== null) {
    const device: Device = {
      resourceType: 'Device',
      identifier: [{ system: 'urn:marrowcount:model-sha256', value: data.model.sha256 }],
      deviceName: [{ name: data.model.name, type: 'model-name' }],
      modelNumber: data.model.id,
      version: [{ value: data.model.version }],
      ...(data.model.researchOnly ? { note: [{ text: 'Research model: not for diagnostic use.' }] } : {}),
    };
    add(deviceUrl, device);
  }

  const observationUrls: string[] = [];
  for (const observation of resultObservations(data)) {
    const fullUrl = url(`observation/${observation.component}`);
    observationUrls.push(fullUrl);
    const resource: Observation = {
      resourceType: 'Observation',
      status: final ? 'final' : 'corrected',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'laboratory' }] }],
      code: {
        coding: [{ system: observation.code.fhirSystem, code: observation.code.code, display: observation.code.display }],
        text: observation.code.display,
      },
      subject: { reference: patientUrl },
      specimen: { reference: specimenUrl },
      effectiveDateTime: observed,
      issued: data.signOff.signedAt,
      performer: performers,
      valueQuantity: {
        value: Number(observation.value.toFixed(observation.digits)),
        unit: observation.unit.text,
        system: UCUM_URI,
        code: observation.unit.code,
      },
      ...(data.model === null ? {} : { device: { reference: deviceUrl } }),
      ...(observation.notes.length === 0 ? {} : { note: observation.notes.map((text) => ({ text })) }),
    };
    add(fullUrl, resource);
  }

  const panel = lisCodeFor('PANEL', s.codeMapping);
  const notes = resultNotes(data);
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    identifier: [{ system: ACCESSION_SYSTEM, value: data.accession }],
    status: final ? 'final' : 'corrected',
    category: [{ coding: [{ system: V2_0074, code: 'HM', display: 'Hematology' }] }],
    code: { coding: [{ system: panel.fhirSystem, code: panel.code, display: panel.display }], text: panel.display },
    subject: { reference: patientUrl },
    effectiveDateTime: observed,
    issued: data.signOff.signedAt,
    resultsInterpreter: [interpreter],
    specimen: [{ reference: specimenUrl }],
    result: observationUrls.map((reference) => ({ reference })),
    ...(notes.length === 0 ? {} : { conclusion: notes.join('\n') }),
    ...(data.pdfBase64 === null
      ? {}
      : {
          presentedForm: [
            {
              contentType: 'application/pdf',
              language: 'en',
              data: data.pdfBase64,
              title: `Bone marrow differential ${data.accession}`,
              creation: data.signOff.signedAt,
            },
          ],
        }),
  };
  add(reportUrl, report);

  const provenance: Provenance = {
    resourceType: 'Provenance',
    target: [{ reference: reportUrl }, ...observationUrls.map((reference) => ({ reference }))],
    recorded: data.signOff.signedAt,
    agent: [
      ...signatureAgents,
      ...(data.model === null ? [] : [{ type: { coding: [{ system: PROVENANCE_PARTICIPANT, code: 'performer' }] }, who: { reference: deviceUrl } }]),
    ],
  };
  add(url('provenance'), provenance);

  return {
    resourceType: 'Bundle',
    type: 'transaction',
    identifier: { system: MESSAGE_ID_SYSTEM, value: data.controlId },
    timestamp: data.createdAt,
    entry: entries,
  };
}
