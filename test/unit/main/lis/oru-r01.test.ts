import { describe, expect, it } from 'vitest';
import { ME_CONVENTION_TEXT } from '../../../../src/shared/differential';
import { splitSegments } from '../../../../src/main/lis/hl7';
import { buildOruR01 } from '../../../../src/main/lis/oru-r01';
import { RESEARCH_ONLY_NOTE } from '../../../../src/main/lis/result-message-data';
import { sampleResult } from '../../../helpers/lis-sample-result';

/** An OBX of the sample as HL7 v2.5.1 lays it out: NM value, UCUM unit, status, times, signer and model. */
function obx(setId: number, code: string, value: string, unit: string, status = 'F'): string {
  const observed = '20261204100000+0000';
  return `OBX|${setId}|NM|${code}||${value}|${unit}|||||${status}|||${observed}||^Dr A\\F\\B||marrowcount-ref 1.2.0^MARROWCOUNT|${observed}`;
}
const PCT = '%^percent^UCUM';
const CELLS = '{cells}^cells^UCUM';
const PER100 = '/100{cells}^per 100 nucleated cells^UCUM';
const local = (code: string, display: string) => `${code}^${display}^99MCNT`;
const cls = (code: string, name: string) => local(code, `${name}/100 nucleated cells`);

function expectedMessage(status: 'F' | 'C', resultNotes: string[]): string {
  const d = sampleResult().differential;
  // Texts the differential owns (their wording is tested in differential.test.ts) travel verbatim; none holds a
  // delimiter, so they appear here unescaped.
  const passedThrough = [...d.warnings, d.countTarget.note, ...d.blast.advisories.map((a) => a.text), ME_CONVENTION_TEXT.icsh];
  for (const text of passedThrough) expect(text).not.toMatch(/[|^~\\&\r\n]/);
  const notes = (...texts: string[]) => texts.map((t, i) => `NTE|${i + 1}|L|${t}`);
  const obrNotes = notes(...resultNotes, ...d.warnings, d.countTarget.note);
  return [
    'MSH|^~\\&|MARROWCOUNT|HAEM LAB|LIS|ST ELSEWHERE|20261204113016+0000||ORU^R01^ORU_R01|MC0123456789ABCDEF01|P|2.5.1||||||UNICODE UTF-8',
    "PID|1||MRN\\F\\42^^^HOSP\\T\\X^MR||O'Brien\\S\\Jr \\T\\ \\R\\Co\\E\\||19500304",
    'ORC|RE||BM-26/0042^MARROWCOUNT||CM||||20261204113015+0000',
    `OBR|1||BM-26/0042^MARROWCOUNT|47286-0^Bone marrow differential panel^LN|||20261204100000+0000|||||||||||||||20261204113015+0000||HM|${status}|||||||&Dr A\\F\\B`,
    ...obrNotes,
    obx(1, '38257-2^Cells counted^LN', '105', CELLS, status),
    obx(2, local('NDC', 'Nucleated differential count'), '100', CELLS, status),
    obx(3, local('BLASTS', 'Blasts/100 nucleated cells'), '7', PCT, status),
    ...notes('95% CI 3.4 to 13.7 % (Wilson)', ...d.blast.advisories.map((a) => a.text)),
    obx(4, 'L-BLA^blast/100 nucleated cells^99LAB', '7', PCT, status),
    obx(5, cls('FGC', 'faggot cell'), '0', PCT, status),
    obx(6, cls('PMO', 'promyelocyte'), '3', PCT, status),
    obx(7, cls('MYB', 'myelocyte'), '10', PCT, status),
    obx(8, cls('MMZ', 'metamyelocyte'), '10', PCT, status),
    obx(9, cls('NGB', 'band neutrophil'), '10', PCT, status),
    obx(10, cls('NGS', 'segmented neutrophil'), '20', PCT, status),
    obx(11, '11152-6^eosinophil/100 nucleated cells^LN', '2', PCT, status),
    obx(12, cls('ABE', 'abnormal eosinophil'), '0', PCT, status),
    obx(13, cls('BAS', 'basophil'), '0', PCT, status),
    obx(14, cls('MON', 'monocyte'), '3', PCT, status),
    obx(15, cls('LYT', 'lymphocyte'), '10', PCT, status),
    obx(16, cls('LYI', 'immature lymphocyte'), '0', PCT, status),
    obx(17, cls('HAC', 'hairy cell'), '0', PCT, status),
    obx(18, cls('PLM', 'plasma cell'), '1', PCT, status),
    obx(19, cls('PEB', 'proerythroblast'), '4', PCT, status),
    obx(20, cls('EBO', 'erythroblast'), '20', PCT, status),
    obx(21, '51581-7^other cell/100 nucleated cells^LN', '0', PCT, status),
    obx(22, cls('ART', 'artefact'), '2', PER100, status),
    ...notes('artefact: 2 counted, outside the nucleated differential (ICSH 2008).'),
    obx(23, cls('NIF', 'not identifiable'), '0', PER100, status),
    ...notes('not identifiable: 0 counted, outside the nucleated differential (ICSH 2008).'),
    obx(24, cls('KSC', 'smudge cell'), '3', PER100, status),
    ...notes('smudge cell: 3 counted, outside the nucleated differential (ICSH 2008).'),
    // 65 myeloid (BLA 7, PMO 3, MYB 10, MMZ 10, NGB 10, NGS 20, EOS 2, MON 3) : 24 erythroid (EBO 20, PEB 4).
    obx(25, '11138-5^Myeloid:Erythroid ratio^LN', '2.71', '{ratio}^ratio^UCUM', status),
    ...notes(ME_CONVENTION_TEXT.icsh),
    'SPM|1|^BM-26/0042&MARROWCOUNT||bone_marrow_aspirate^Bone marrow aspirate^99MCNT',
  ]
    .map((s) => `${s}\r`)
    .join('');
}

const OVERRIDE_NOTE = 'Signed with 2 flagged cell(s) unreviewed; reason: two cells\\.br\\unclear \\F\\ see note';

/** Field limits of HL7 v2.5.1 (the segment definitions of chapters 2, 3, 4, 7): a segment never has more. */
const MAX_FIELDS: Record<string, number> = { MSH: 21, PID: 39, ORC: 31, OBR: 50, NTE: 4, OBX: 25, SPM: 30 };

describe('ORU^R01 for a signed differential', () => {
  it('is exactly the hand-written HL7 v2.5.1 message for the sample result', () => {
    expect(buildOruR01(sampleResult())).toBe(expectedMessage('F', [RESEARCH_ONLY_NOTE, OVERRIDE_NOTE]));
  });

  it('marks every observation and the panel C for a corrected result and says what it corrects', () => {
    const message = buildOruR01(
      sampleResult({ resultStatus: 'C', correction: { by: 'Dr C^D', reason: 'blast count | revised', at: '2026-12-05T09:00:00.000Z' } }),
    );
    const correction = 'Corrected result: replaces the result signed before, re-opened by Dr C\\S\\D on 2026-12-05T09:00:00.000Z: blast count \\F\\ revised';
    expect(message).toBe(expectedMessage('C', [RESEARCH_ONLY_NOTE, correction, OVERRIDE_NOTE]));
  });

  it('keeps the ORU_R01 segment order: MSH, PID, ORC, OBR, notes, each OBX with its notes, SPM last', () => {
    const ids = splitSegments(buildOruR01(sampleResult())).map((s) => s[0]);
    const shape = ids.join(' ').replace(/( NTE)+/g, ' NTE*');
    expect(shape).toMatch(/^MSH PID ORC OBR( NTE\*)?( OBX( NTE\*)?)+ SPM$/);
  });

  it('splits back into segments whose field counts stay within HL7 v2.5.1 and whose ids are known', () => {
    const message = buildOruR01(sampleResult());
    expect(message.endsWith('\r')).toBe(true);
    expect(message).not.toContain('\n');
    for (const fields of splitSegments(message)) {
      const id = fields[0]!;
      expect(Object.keys(MAX_FIELDS)).toContain(id);
      expect(fields.length - 1, id).toBeLessThanOrEqual(MAX_FIELDS[id]!);
    }
  });

  it('never lets a delimiter in a name, identifier or note add a field or a component', () => {
    const nasty = 'A|B^C~D\\E&F\rG\nH';
    const message = buildOruR01(
      sampleResult({
        accession: nasty,
        patient: { labId: nasty, name: nasty, birthDate: null },
        signOff: { signedBy: nasty, role: nasty, signedAt: '2026-12-04T11:30:15.000Z', overrideReason: nasty, unreviewedFlaggedAtSigning: 1 },
      }),
    );
    const clean = splitSegments(buildOruR01(sampleResult({ patient: { labId: 'X', name: 'X', birthDate: null }, accession: 'X' })));
    const fuzzed = splitSegments(message);
    expect(fuzzed.map((s) => s[0])).toEqual(clean.map((s) => s[0]));
    fuzzed.forEach((fields, i) => {
      expect(fields.length, fields[0]).toBe(clean[i]!.length);
      fields.forEach((field, f) => {
        if (fields[0] === 'MSH' && f <= 2) return;
        expect(field.split('^').length, `${fields[0]}-${f}`).toBe(clean[i]![f]!.split('^').length);
      });
    });
    const pid = fuzzed.find((s) => s[0] === 'PID')!;
    expect(pid[5]).toBe('A\\F\\B\\S\\C\\R\\D\\E\\E\\T\\F\\.br\\G\\.br\\H');
  });

  it('sends every warning the differential carries as a note, so a new warning needs no change here', () => {
    const result = sampleResult();
    result.differential = { ...result.differential, warnings: [...result.differential.warnings, 'Provisional class | new in 2027'] };
    const ntes = splitSegments(buildOruR01(result))
      .filter((s) => s[0] === 'NTE')
      .map((s) => s[3]);
    expect(ntes).toContain('Provisional class \\F\\ new in 2027');
  });

  it('leaves out a figure the differential cannot give instead of sending an empty or zero value', () => {
    const result = sampleResult({ differential: sampleResult().differential });
    result.differential = { ...result.differential, meRatio: { ...result.differential.meRatio, ratio: null, undefinedReason: 'no erythroid cells' } };
    const message = buildOruR01(result);
    expect(message).not.toContain('11138-5');
    expect(message).toContain('NTE|');
    expect(message).toContain('M:E ratio not reported: no erythroid cells');
  });
});
