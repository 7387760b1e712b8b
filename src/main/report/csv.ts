// CSV writing for the exports. Two hazards are handled here, once, for every CSV the app writes:
// - RFC 4180 quoting, so a comma, quote or line break inside a field (a file name, a flag reason) cannot shift columns;
// - formula injection (OWASP "CSV Injection"): a spreadsheet executes a cell that starts with = + - @ (and, in some
//   programs, TAB or CR), so such a cell gets a leading apostrophe, which spreadsheets show as text and do not run.
//   File names and reviewer names come from outside the app, so this applies to every field, not only to text we
//   did not write ourselves.

export type CsvValue = string | number | boolean | null | undefined;

const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);

/** Prefixes an apostrophe to a field a spreadsheet would evaluate as a formula. */
export function neutraliseFormula(field: string): string {
  return field.length > 0 && FORMULA_TRIGGERS.has(field[0] as string) ? `'${field}` : field;
}

function toText(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return '';
    return String(value);
  }
  return value;
}

/** One field: neutralised, then quoted when it holds a comma, quote, CR or LF (RFC 4180 §2.6–2.7). */
export function csvField(value: CsvValue): string {
  const text = neutraliseFormula(toText(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, terminated by CRLF as RFC 4180 §2.1 asks. */
export function csvRecord(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
