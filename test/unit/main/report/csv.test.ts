import { describe, expect, it } from 'vitest';
import { csvField, csvRecord, neutraliseFormula } from '../../../../src/main/report/csv';

describe('CSV formula injection', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
  ])('prefixes an apostrophe to %j, a field a spreadsheet would evaluate', (input, expected) => {
    expect(csvField(input)).toBe(expected);
  });

  it('leaves ordinary text and numbers unchanged', () => {
    expect(csvField('BLA_0001.jpg')).toBe('BLA_0001.jpg');
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField(0)).toBe('0');
    expect(csvField('')).toBe('');
  });

  it('neutralises only a trigger at the start of the field', () => {
    expect(neutraliseFormula('x-1')).toBe('x-1');
    expect(neutraliseFormula('-1')).toBe("'-1");
  });
});

describe('CSV quoting (RFC 4180)', () => {
  it('quotes a field holding a comma, a quote or a line break and doubles inner quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('line1\r\nline2')).toBe('"line1\r\nline2"');
  });

  it('writes empty fields for null, undefined and non-finite numbers', () => {
    expect(csvRecord([null, undefined, Number.NaN, 'x'])).toBe(',,,x\r\n');
  });

  it('ends every record with CRLF and writes booleans as true/false', () => {
    expect(csvRecord(['BLA', 3, true, false])).toBe('BLA,3,true,false\r\n');
  });

  it('quotes a neutralised field that also needs quoting', () => {
    expect(csvField('=1,2')).toBe(`"'=1,2"`);
  });
});
