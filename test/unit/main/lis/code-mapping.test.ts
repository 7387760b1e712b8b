import { describe, expect, it } from 'vitest';
import { LIS_COMPONENTS, LisMappingError, defaultLisCode, formatLisCodeMapping, lisCodeFor, parseLisCodeMapping } from '../../../../src/shared/lis';

describe('codes sent to the LIS', () => {
  it('uses LOINC only for the codes checked on a LOINC page (README), and the local system for everything else', () => {
    const loinc = LIS_COMPONENTS.filter((c) => defaultLisCode(c).hl7System === 'LN').map((c) => [c, defaultLisCode(c).code]);
    // Written from the LOINC pages listed in the README, not from the code's table.
    expect(loinc).toEqual([
      ['PANEL', '47286-0'],
      ['TOTAL', '38257-2'],
      ['ME_RATIO', '11138-5'],
      ['EOS', '11152-6'],
      ['OTH', '51581-7'],
    ]);
    for (const component of LIS_COMPONENTS.filter((c) => !['PANEL', 'TOTAL', 'ME_RATIO', 'EOS', 'OTH'].includes(c))) {
      expect(defaultLisCode(component)).toMatchObject({ code: component, hl7System: '99MCNT', fhirSystem: 'urn:marrowcount:code' });
    }
  });

  it('lets the lab map any component, the last line for a component winning, and keeps the display text', () => {
    const mapping = parseLisCodeMapping('BLA = A-1 | 99LAB | urn:oid:1.2\nBLA = A-2 | 99LAB | urn:oid:1.2');
    expect(lisCodeFor('BLA', mapping)).toEqual({ code: 'A-2', display: 'blast/100 nucleated cells', hl7System: '99LAB', fhirSystem: 'urn:oid:1.2' });
    expect(lisCodeFor('LYT', mapping)).toEqual(defaultLisCode('LYT'));
  });
});

describe('the code-mapping text of the settings', () => {
  it('reads one override per line, skipping blank lines and comments, with the LOINC URI implied by LN', () => {
    expect(parseLisCodeMapping('# our LIS codes\n\n  BLA = 12345-6 | LN  \nPANEL=PAN|99LAB|https://lab.example/codes\n')).toEqual([
      { component: 'BLA', code: '12345-6', hl7System: 'LN', fhirSystem: 'http://loinc.org' },
      { component: 'PANEL', code: 'PAN', hl7System: '99LAB', fhirSystem: 'https://lab.example/codes' },
    ]);
  });

  it('writes back what it reads', () => {
    const text = 'BLA = 12345-6 | LN\nLYT = LYM% | 99LAB | urn:oid:1.2.3';
    expect(formatLisCodeMapping(parseLisCodeMapping(text))).toBe(text);
  });

  it.each([
    ['BLA 12345-6', /Line 1 .*not "COMPONENT = CODE \| SYSTEM"/],
    ['XYZ = 1 | LN', /Line 1: XYZ is not a component/],
    ['BLA = | LN', /Line 1: the code ""/],
    ['BLA = a b | LN', /Line 1: the code "a b"/],
    ['BLA = 1', /Line 1: give the HL7 coding system/],
    ['BLA = 1 | 99LAB', /Line 1: give the FHIR system URI/],
    ['# fine\nBLA = 1 | 99LAB | not a uri', /Line 2: give the FHIR system URI/],
  ])('refuses %j, naming the line', (text, message) => {
    expect(() => parseLisCodeMapping(text)).toThrow(LisMappingError);
    expect(() => parseLisCodeMapping(text)).toThrow(message);
  });
});
