import { describe, expect, it } from 'vitest';
import { components, escapeHl7, hl7Date, hl7Number, hl7Timestamp, segment, splitSegments, subcomponents, unescapeHl7 } from '../../../../src/main/lis/hl7';

describe('HL7 v2 escaping (v2.5.1 §2.7)', () => {
  it('escapes each delimiter with its escape sequence, the escape character first', () => {
    expect(escapeHl7('a|b')).toBe('a\\F\\b');
    expect(escapeHl7('a^b')).toBe('a\\S\\b');
    expect(escapeHl7('a&b')).toBe('a\\T\\b');
    expect(escapeHl7('a~b')).toBe('a\\R\\b');
    expect(escapeHl7('a\\b')).toBe('a\\E\\b');
    // Were the backslash escaped last, "\F\" from the pipe would come out as "\E\F\E\".
    expect(escapeHl7('|\\')).toBe('\\F\\\\E\\');
    expect(escapeHl7("O'Brien|Smith^Jr & ~Co\\")).toBe("O'Brien\\F\\Smith\\S\\Jr \\T\\ \\R\\Co\\E\\");
  });

  it('turns line breaks into \\.br\\ and other control characters into spaces, so no text can end a segment', () => {
    expect(escapeHl7('one\ntwo\r\nthree\rfour')).toBe('one\\.br\\two\\.br\\three\\.br\\four');
    expect(escapeHl7('tab\there\u0000')).toBe('tab here ');
    expect(escapeHl7('x\ry')).not.toContain('\r');
  });

  it('reads back what it escaped', () => {
    const text = "Dr O'Brien|Smith^Jr & ~Co \\ done";
    expect(unescapeHl7(escapeHl7(text))).toBe(text);
  });

  it('keeps letters outside ASCII as they are (the message is UTF-8, MSH-18)', () => {
    expect(escapeHl7('Müller-Łukasz, Ærøskøbing')).toBe('Müller-Łukasz, Ærøskøbing');
  });
});

describe('HL7 v2 structure', () => {
  it('drops trailing empty components, subcomponents and fields but keeps inner empty ones', () => {
    expect(components('MRN1', '', '', 'HOSP', 'MR')).toBe('MRN1^^^HOSP^MR');
    expect(components('A', '', '')).toBe('A');
    expect(subcomponents('', 'Dr Who', '')).toBe('&Dr Who');
    expect(segment('NTE', ['1', 'L', 'text', '', ''])).toBe('NTE|1|L|text');
    expect(segment('PID', ['1', '', 'X'])).toBe('PID|1||X');
  });

  it('escapes inside components, so a delimiter in a value never splits it', () => {
    expect(components('a^b', 'c|d')).toBe('a\\S\\b^c\\F\\d');
  });

  it('starts MSH with the field separator as MSH-1 and reads it back at index 1', () => {
    const msh = segment('MSH', ['^~\\&', 'APP']);
    expect(msh).toBe('MSH|^~\\&|APP');
    expect(splitSegments(`${msh}\rPID|1\r`)).toEqual([
      ['MSH', '|', '^~\\&', 'APP'],
      ['PID', '1'],
    ]);
  });

  it('refuses a segment id that is not three capitals or digits', () => {
    expect(() => segment('Obx', [])).toThrow(/segment id/);
    expect(() => segment('OBXX', [])).toThrow(/segment id/);
  });
});

describe('HL7 v2 data types', () => {
  it('writes times as DTM in UTC to the second', () => {
    expect(hl7Timestamp('2026-12-04T17:43:39.123Z')).toBe('20261204174339+0000');
    expect(hl7Timestamp('2026-12-04T18:43:39+01:00')).toBe('20261204174339+0000');
    expect(() => hl7Timestamp('yesterday')).toThrow(/not a time/);
  });

  it('writes dates as DT', () => {
    expect(hl7Date('1950-03-04')).toBe('19500304');
    expect(() => hl7Date('4/3/1950')).toThrow(/YYYY-MM-DD/);
  });

  it('writes numbers in plain decimal notation without trailing zeros', () => {
    expect(hl7Number(7, 1)).toBe('7');
    expect(hl7Number(6.66666, 1)).toBe('6.7');
    expect(hl7Number(2.70833, 2)).toBe('2.71');
    expect(hl7Number(0.00001, 1)).toBe('0');
    expect(() => hl7Number(1e21, 0)).toThrow(/cannot be sent/);
    expect(hl7Number(120, 0)).toBe('120');
    expect(() => hl7Number(Number.NaN, 1)).toThrow();
  });
});
