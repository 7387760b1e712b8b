// The signed differential as an HL7 v2.5.1 ORU^R01 message (unsolicited observation result), in the segment
// order of the ORU_R01 structure (v2.5.1 §7.3.1): MSH, PID, ORC, OBR, NTE*, { OBX, NTE* }*, SPM. One OBR for the
// marrow differential panel; one OBX per figure, each a numeric (NM) result with its UCUM unit; OBX-11 and OBR-25
// are F for a final result and C for a corrected one. Acknowledgement is in original mode (MSH-15/16 empty): the
// receiver answers every message with an ACK whose MSA-1 is AA, AE or AR.
import { CELL_CLASS_DISPLAY_ORDER } from '../../shared/cell-classes';
import { LOCAL_HL7_SYSTEM, lisCodeFor, type LisCode, type LisComponent } from '../../shared/lis';
import {
  COMPONENT,
  ENCODING_CHARACTERS,
  REPETITION,
  components,
  escapeHl7,
  hl7Date,
  hl7Number,
  hl7Timestamp,
  joinSegments,
  segment,
  subcomponents,
} from './hl7';
import { blastNotes, resultNotes, SPECIMEN_DISPLAY, type LisResultMessageData } from './result-message-data';

export const HL7_VERSION = '2.5.1';
export const UCUM = 'UCUM';
/** Percentages and ratios are sent to one and two decimals: what the count's precision supports and the report prints. */
const PERCENT_DIGITS = 1;
const RATIO_DIGITS = 2;

interface Unit {
  code: string;
  text: string;
}

export const UNITS = Object.freeze({
  percent: { code: '%', text: 'percent' },
  cells: { code: '{cells}', text: 'cells' },
  per100Cells: { code: '/100{cells}', text: 'per 100 nucleated cells' },
  ratio: { code: '{ratio}', text: 'ratio' },
} satisfies Record<string, Unit>);

/** One figure of the result, as both encoders send it. */
export interface ResultObservation {
  component: LisComponent;
  code: LisCode;
  value: number;
  digits: number;
  unit: Unit;
  notes: string[];
}

/** The figures of the signed differential, in the order they are sent: totals, blasts, classes, M:E ratio. */
export function resultObservations(data: LisResultMessageData): ResultObservation[] {
  const mapping = data.settings.codeMapping;
  const d = data.differential;
  const of = (component: LisComponent, value: number, digits: number, unit: Unit, notes: string[] = []): ResultObservation => ({
    component,
    code: lisCodeFor(component, mapping),
    value,
    digits,
    unit,
    notes,
  });
  const observations = [of('TOTAL', d.totalCellsCounted, 0, UNITS.cells), of('NDC', d.nucleatedDifferentialCount, 0, UNITS.cells)];
  if (d.blast.percentage !== null) observations.push(of('BLASTS', d.blast.percentage, PERCENT_DIGITS, UNITS.percent, blastNotes(data)));
  const rows = new Map(d.rows.map((row) => [row.code, row]));
  for (const code of CELL_CLASS_DISPLAY_ORDER) {
    const row = rows.get(code);
    if (row === undefined || !row.inNdc || row.percentOfNdc === null) continue;
    const notes: string[] = [];
    if (row.flagged) notes.push(`${row.name}: ${row.count} counted; a person must describe these cells.`);
    if (!row.assessedByModel) notes.push(`The model cannot output ${row.name} (${row.code}); this figure counts reviewers' decisions only.`);
    observations.push(of(code, row.percentOfNdc, PERCENT_DIGITS, UNITS.percent, notes));
  }
  for (const excluded of d.excluded) {
    if (excluded.per100Ndc === null) continue;
    observations.push(
      of(excluded.code, excluded.per100Ndc, PERCENT_DIGITS, UNITS.per100Cells, [
        `${excluded.name}: ${excluded.count} counted, outside the nucleated differential (ICSH 2008).`,
      ]),
    );
  }
  if (d.meRatio.ratio !== null) observations.push(of('ME_RATIO', d.meRatio.ratio, RATIO_DIGITS, UNITS.ratio, [d.meRatio.convention]));
  return observations;
}

function cwe(code: LisCode): string {
  return components(code.code, code.display, code.hl7System);
}

function nte(setId: number, text: string): string {
  // NTE-2 "L": the comment comes from the filler (the lab), HL7 table 0105.
  return segment('NTE', [String(setId), 'L', escapeHl7(text)]);
}

/** The message text, segments ending in CR; throws for settings it cannot be sent without. */
export function buildOruR01(data: LisResultMessageData): string {
  const s = data.settings;
  const status = data.resultStatus;
  const observed = hl7Timestamp(data.analysedAt ?? data.signOff.signedAt);
  const signed = hl7Timestamp(data.signOff.signedAt);
  const fillerOrder = components(data.accession, s.sendingApplication);
  // OBX-16 responsible observer (XCN, repeating): each person who signed the result, the validator first.
  const signer = data.signatures.length === 0 ? components('', data.signOff.signedBy) : data.signatures.map((s) => components('', s.name)).join(REPETITION);
  const equipment = data.model === null ? '' : components(`${data.model.id} ${data.model.version}`, s.sendingApplication);
  const segments: string[] = [];

  segments.push(
    segment('MSH', [
      ENCODING_CHARACTERS,
      components(s.sendingApplication),
      components(s.sendingFacility),
      components(s.receivingApplication),
      components(s.receivingFacility),
      hl7Timestamp(data.createdAt),
      '',
      ['ORU', 'R01', 'ORU_R01'].join(COMPONENT),
      escapeHl7(data.controlId),
      'P',
      HL7_VERSION,
      '', // MSH-13 sequence number
      '', // MSH-14 continuation pointer
      '', // MSH-15 accept acknowledgement type: empty = original mode
      '', // MSH-16 application acknowledgement type: empty = original mode
      '', // MSH-17 country code
      'UNICODE UTF-8', // MSH-18 character set
    ]),
  );
  segments.push(
    segment('PID', [
      '1',
      '',
      components(data.patient.labId, '', '', s.patientIdAuthority, 'MR'),
      '',
      // MarrowCount keeps one name field, so it goes whole into XPN.1 (family name).
      components(data.patient.name ?? ''),
      '',
      data.patient.birthDate === null ? '' : hl7Date(data.patient.birthDate),
    ]),
  );
  // ORC-1 RE: observations to follow; ORC-5 CM: the order is complete (HL7 tables 0119, 0038).
  segments.push(segment('ORC', ['RE', '', fillerOrder, '', 'CM', '', '', '', signed]));
  const obr: string[] = new Array<string>(32).fill('');
  obr[0] = '1';
  obr[2] = fillerOrder;
  obr[3] = cwe(lisCodeFor('PANEL', s.codeMapping));
  obr[6] = observed;
  obr[21] = signed;
  obr[23] = 'HM'; // OBR-24 diagnostic service section: haematology (HL7 table 0074)
  obr[24] = status;
  // OBR-32 principal result interpreter (NDL): its first component is a CNN, whose subcomponents are ID & name.
  obr[31] = subcomponents('', data.signOff.signedBy);
  segments.push(segment('OBR', obr));
  resultNotes(data).forEach((text, i) => segments.push(nte(i + 1, text)));

  resultObservations(data).forEach((observation, i) => {
    const obx: string[] = new Array<string>(19).fill('');
    obx[0] = String(i + 1);
    obx[1] = 'NM';
    obx[2] = cwe(observation.code);
    obx[4] = hl7Number(observation.value, observation.digits);
    obx[5] = components(observation.unit.code, observation.unit.text, UCUM);
    obx[10] = status;
    obx[13] = observed;
    obx[15] = signer; // OBX-16 responsible observer: who signed the result
    obx[17] = equipment; // OBX-18 equipment instance: the model that classified the cells
    obx[18] = observed; // OBX-19 date/time of the analysis
    segments.push(segment('OBX', obx));
    observation.notes.forEach((text, n) => segments.push(nte(n + 1, text)));
  });

  segments.push(
    segment('SPM', [
      '1',
      `${COMPONENT}${subcomponents(data.accession, s.sendingApplication)}`,
      '',
      components(data.specimen, SPECIMEN_DISPLAY[data.specimen], LOCAL_HL7_SYSTEM),
    ]),
  );
  return joinSegments(segments);
}
