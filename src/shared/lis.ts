// Results to the laboratory information system (LIS): the settings a lab fills in, the observation codes sent for
// each figure of the differential, and the per-case delivery status the UI shows. Pure data and rules, so main
// (which builds and sends the messages) and the renderer (which edits the settings) agree on every code.
//
// Codes. LOINC is sent by default only where a code was found stated on a LOINC page (loinc.org or a mirror of the
// LOINC table; README "Results to the LIS" lists each with its address) and its meaning matches the figure: the
// panel, cells counted, the M:E ratio, and the two class percentages whose bone-marrow LOINC term has no method
// (EOS, OTH). Terms "by Manual count" (e.g. 11108-8 lymphocytes) were found for some classes but are not sent: a
// MarrowCount count is a machine classification reviewed by a person, not a manual count. Every other figure goes
// under MarrowCount's local code system, with the app's own class codes, which a lab maps to its LIS codes in the
// settings (codeMapping). HL7 v2 names a local coding system "99zzz" (HL7 table 0396), hence 99MCNT.
import { CELL_CLASS_CODES, CELL_CLASSES, type CellClassCode } from './cell-classes';

export const LOINC_HL7_SYSTEM = 'LN';
export const LOINC_FHIR_SYSTEM = 'http://loinc.org';
export const LOCAL_HL7_SYSTEM = '99MCNT';
export const LOCAL_FHIR_SYSTEM = 'urn:marrowcount:code';

/** What the LIS receives besides one percentage per class. */
export const LIS_SUMMARY_COMPONENTS = ['PANEL', 'TOTAL', 'NDC', 'BLASTS', 'ME_RATIO'] as const;
export type LisSummaryComponent = (typeof LIS_SUMMARY_COMPONENTS)[number];
/** A figure that gets its own observation code: the panel, a summary figure, or a cell class. */
export type LisComponent = LisSummaryComponent | CellClassCode;
export const LIS_COMPONENTS: readonly LisComponent[] = Object.freeze([...LIS_SUMMARY_COMPONENTS, ...CELL_CLASS_CODES]);

export interface LisCode {
  code: string;
  display: string;
  /** HL7 v2 coding system (CWE.3), e.g. LN or 99MCNT. */
  hl7System: string;
  /** FHIR Coding.system, a URI. */
  fhirSystem: string;
}

export interface LisCodeOverride {
  component: LisComponent;
  code: string;
  /** HL7 v2 coding system name; LN implies the LOINC URI for FHIR. */
  hl7System: string;
  /** FHIR system URI; may be omitted for LN. */
  fhirSystem: string;
}

const SUMMARY_DISPLAY: Readonly<Record<LisSummaryComponent, string>> = Object.freeze({
  PANEL: 'Bone marrow differential panel',
  TOTAL: 'Cells counted',
  NDC: 'Nucleated differential count',
  BLASTS: 'Blasts/100 nucleated cells',
  ME_RATIO: 'Myeloid:Erythroid ratio',
});

/** LOINC codes checked against a LOINC page, each meaning what the figure means (see the comment above). */
export const VERIFIED_LOINC: Readonly<Partial<Record<LisComponent, string>>> = Object.freeze({
  PANEL: '47286-0', // Differential panel - Bone marrow (order panel)
  TOTAL: '38257-2', // Cells Counted Total [#] in Bone marrow
  ME_RATIO: '11138-5', // Myeloid cells/Erythroid cells [# Ratio] in Bone marrow
  EOS: '11152-6', // Eosinophils/cells in Bone marrow (no method)
  OTH: '51581-7', // Other cells/cells in Bone marrow (no method)
});

export function isLisComponent(value: unknown): value is LisComponent {
  return typeof value === 'string' && (LIS_COMPONENTS as readonly string[]).includes(value);
}

function displayOf(component: LisComponent): string {
  return (SUMMARY_DISPLAY as Record<string, string | undefined>)[component] ?? `${CELL_CLASSES[component as CellClassCode].name}/100 nucleated cells`;
}

/** The code sent for a component before the lab maps anything: a verified LOINC code where there is one, local otherwise. */
export function defaultLisCode(component: LisComponent): LisCode {
  const loinc = VERIFIED_LOINC[component];
  const display = displayOf(component);
  if (loinc !== undefined) return { code: loinc, display, hl7System: LOINC_HL7_SYSTEM, fhirSystem: LOINC_FHIR_SYSTEM };
  return { code: component, display, hl7System: LOCAL_HL7_SYSTEM, fhirSystem: LOCAL_FHIR_SYSTEM };
}

/** The code for a component under the lab's mapping (the last override of a component wins). */
export function lisCodeFor(component: LisComponent, mapping: readonly LisCodeOverride[]): LisCode {
  const base = defaultLisCode(component);
  const override = [...mapping].reverse().find((m) => m.component === component);
  if (override === undefined) return base;
  return { code: override.code, display: base.display, hl7System: override.hl7System, fhirSystem: override.fhirSystem };
}

export interface LisSettings {
  /** Off until the lab turns it on: no message is made for a case signed while it is off. */
  enabled: boolean;
  /** MSH-3 / MSH-4. */
  sendingApplication: string;
  sendingFacility: string;
  /** MSH-5 / MSH-6. */
  receivingApplication: string;
  receivingFacility: string;
  /** PID-3.4, the assigning authority of the lab's patient identifier (HL7 v2). */
  patientIdAuthority: string;
  /** Identifier.system of the patient identifier (FHIR), a URI. */
  patientIdSystem: string;
  /** Folder messages are dropped into; '' = the app's default outbox folder. */
  outboxFolder: string;
  /** MLLP receiver; '' = file drop only. */
  mllpHost: string;
  mllpPort: number | null;
  codeMapping: LisCodeOverride[];
}

export const DEFAULT_LIS_SETTINGS: LisSettings = Object.freeze({
  enabled: false,
  sendingApplication: 'MARROWCOUNT',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  patientIdAuthority: '',
  patientIdSystem: '',
  outboxFolder: '',
  mllpHost: '',
  mllpPort: null,
  codeMapping: [],
}) as LisSettings;

/** Thrown for a code-mapping line that cannot be read; names the line. */
export class LisMappingError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(message);
    this.name = 'LisMappingError';
    this.line = line;
  }
}

// LIS codes are short identifiers; % is common in them (LYM%).
const CODE_TEXT = /^[A-Za-z0-9._:/%-]{1,64}$/;

/**
 * Reads the settings' code-mapping text: one line per component, `COMPONENT = CODE | HL7SYSTEM | FHIRSYSTEM`, e.g.
 * `BLA = 12345-6 | LN` or `LYT = L-LYM | 99LAB | urn:oid:1.2.3`; blank lines and lines starting with # are skipped.
 */
export function parseLisCodeMapping(text: string): LisCodeOverride[] {
  const result: LisCodeOverride[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const number = index + 1;
    if (line === '' || line.startsWith('#')) return;
    const match = /^([A-Z_]+)\s*=\s*(.+)$/.exec(line);
    if (!match) throw new LisMappingError(number, `Line ${number} of the code mapping is not "COMPONENT = CODE | SYSTEM": ${line.slice(0, 60)}`);
    const component = match[1]!;
    if (!isLisComponent(component)) {
      throw new LisMappingError(number, `Line ${number}: ${component} is not a component; use one of ${LIS_COMPONENTS.join(', ')}.`);
    }
    const [code = '', hl7System = '', fhirGiven = ''] = match[2]!.split('|').map((part) => part.trim());
    if (!CODE_TEXT.test(code))
      throw new LisMappingError(number, `Line ${number}: the code "${code.slice(0, 40)}" must be 1–64 letters, digits or . _ : / % -.`);
    if (!/^[A-Za-z0-9_-]{1,20}$/.test(hl7System)) {
      throw new LisMappingError(number, `Line ${number}: give the HL7 coding system after the code, e.g. "| LN" or "| 99LAB".`);
    }
    const fhirSystem = fhirGiven !== '' ? fhirGiven : hl7System === LOINC_HL7_SYSTEM ? LOINC_FHIR_SYSTEM : '';
    if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(fhirSystem)) {
      throw new LisMappingError(
        number,
        `Line ${number}: give the FHIR system URI after the HL7 system, e.g. "| 99LAB | urn:oid:1.2.3" (only LN has a default).`,
      );
    }
    result.push({ component, code, hl7System, fhirSystem });
  });
  return result;
}

/** The mapping written back as the settings' text, one line per override. */
export function formatLisCodeMapping(mapping: readonly LisCodeOverride[]): string {
  return mapping
    .map(
      (m) => `${m.component} = ${m.code} | ${m.hl7System}${m.hl7System === LOINC_HL7_SYSTEM && m.fhirSystem === LOINC_FHIR_SYSTEM ? '' : ` | ${m.fhirSystem}`}`,
    )
    .join('\n');
}

/** A LIS setting that cannot be used as given: the field, and what to write instead. */
export interface LisSettingsProblem {
  field: 'patientIdSystem' | 'outboxFolder' | 'mllpHost' | 'mllpPort';
  message: string;
}

const problem = (field: LisSettingsProblem['field'], message: string): LisSettingsProblem => ({ field, message });

/** The checks on the LIS settings, one per field, shared by the settings form and the boundary (boundary/validate.ts). */
export const LIS_SETTINGS_CHECKS = {
  patientIdSystem: (value: string): LisSettingsProblem | null =>
    value !== '' && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)
      ? problem('patientIdSystem', 'The patient identifier system must be a URI, e.g. urn:oid:1.2.3.4 or https://hospital.example/mrn.')
      : null,
  outboxFolder: (value: string): LisSettingsProblem | null =>
    value !== '' && !/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(value)
      ? problem('outboxFolder', `The outbox folder must be a full path, not "${value.slice(0, 80)}".`)
      : null,
  mllpHost: (value: string): LisSettingsProblem | null =>
    value !== '' && !/^[A-Za-z0-9.:[\]-]+$/.test(value) ? problem('mllpHost', 'The MLLP host must be a host name or an IP address.') : null,
  mllpPort: (value: number | null): LisSettingsProblem | null =>
    value !== null && (!Number.isInteger(value) || value < 1 || value > 65535)
      ? problem('mllpPort', 'The MLLP port must be a whole number from 1 to 65535.')
      : null,
  /** MLLP needs both; with neither, results go to the outbox folder only. */
  mllpPair: (host: string, port: number | null): LisSettingsProblem | null =>
    (host === '') !== (port === null)
      ? problem(host === '' ? 'mllpHost' : 'mllpPort', 'Give both the MLLP host and port, or neither for file drop only.')
      : null,
} as const;

/** The settings the messages cannot be built without: required before delivery may be switched on, by the form and the service alike. */
export const LIS_REQUIRED_TO_SEND = ['sendingApplication', 'patientIdAuthority', 'patientIdSystem'] as const;

/** The first problem of the settings (in the form's order), or null when they can be saved. */
export function lisSettingsProblem(s: Pick<LisSettings, 'patientIdSystem' | 'outboxFolder' | 'mllpHost' | 'mllpPort'>): LisSettingsProblem | null {
  const c = LIS_SETTINGS_CHECKS;
  return (
    c.patientIdSystem(s.patientIdSystem) ??
    c.outboxFolder(s.outboxFolder) ??
    c.mllpHost(s.mllpHost) ??
    c.mllpPort(s.mllpPort) ??
    c.mllpPair(s.mllpHost, s.mllpPort)
  );
}

export const LIS_FORMATS = ['hl7v2', 'fhir-r4'] as const;
export type LisFormat = (typeof LIS_FORMATS)[number];
export const LIS_CHANNELS = ['outbox', 'mllp'] as const;
export type LisChannel = (typeof LIS_CHANNELS)[number];
/** 'sent': written to the outbox, or on the wire to the MLLP receiver and awaiting its ACK. */
export const LIS_DELIVERY_STATUSES = ['queued', 'sent', 'acknowledged', 'error'] as const;
export type LisDeliveryStatus = (typeof LIS_DELIVERY_STATUSES)[number];

export interface LisDeliveryView {
  messageId: number;
  /** MSH-10 of the HL7 message / Bundle.identifier of the FHIR bundle. */
  controlId: string;
  format: LisFormat;
  channel: LisChannel;
  /** F: the first final result of the case; C: a corrected result, after an amendment. */
  resultStatus: 'F' | 'C';
  status: LisDeliveryStatus;
  attempts: number;
  /** The LIS's reason for an error (MSA-3 / ERR), or the transport failure of the last attempt. */
  lastError: string | null;
  /** When a queued delivery is tried next. */
  nextAttemptAt: string | null;
  /** Where the outbox file was written. */
  destination: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CaseLisStatus {
  caseId: number;
  enabled: boolean;
  /** Signed results waiting for their messages to be built (the PDF is rendered first). */
  pendingResults: number;
  /** Why building a pending result's messages failed (tried again on the next round). */
  buildErrors: string[];
  /** Newest first. */
  deliveries: LisDeliveryView[];
}
