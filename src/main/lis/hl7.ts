// HL7 v2 encoding rules (HL7 v2.5.1 chapter 2, §2.5 and §2.7): the delimiters of MSH-1/MSH-2, escaping of text
// that contains them, timestamps and segment assembly. Written here rather than taken from a library because the
// rules fit on a page and the tests check them character by character; what a library would add (parsing any
// message of any version) MarrowCount does not need, since it only builds ORU^R01 and reads ACKs.

export const FIELD = '|';
export const COMPONENT = '^';
export const REPETITION = '~';
export const ESCAPE = '\\';
export const SUBCOMPONENT = '&';
/** MSH-2, the encoding characters in their fixed order. */
export const ENCODING_CHARACTERS = `${COMPONENT}${REPETITION}${ESCAPE}${SUBCOMPONENT}`;
/** Segments end in a carriage return (§2.5.4), never a line feed. */
export const SEGMENT_TERMINATOR = '\r';

/**
 * Escapes text for a field, component or subcomponent (§2.7.1): the escape character first, so that the escapes
 * added for the others are not escaped again. Line breaks become \.br\ (§2.7.6, formatted text); other control
 * characters, which have no escape in a text field, become spaces.
 */
export function escapeHl7(text: string): string {
  return (
    text
      .replace(/\\/g, '\\E\\')
      .replace(/\|/g, '\\F\\')
      .replace(/\^/g, '\\S\\')
      .replace(/&/g, '\\T\\')
      .replace(/~/g, '\\R\\')
      .replace(/\r\n|\r|\n/g, '\\.br\\')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
  );
}

/** Reverses escapeHl7 (for reading ACKs and for tests). */
export function unescapeHl7(text: string): string {
  return text.replace(/\\(E|F|S|T|R|\.br)\\/g, (_m, code: string) => ({ E: '\\', F: '|', S: '^', T: '&', R: '~', '.br': '\n' })[code] ?? '');
}

/** A component made of escaped subcomponents, trailing empty ones dropped. */
export function components(...parts: (string | null | undefined)[]): string {
  return trimTrailing(
    parts.map((p) => escapeHl7(p ?? '')),
    COMPONENT,
  );
}

/** Like components, for the subcomponents of one component. */
export function subcomponents(...parts: (string | null | undefined)[]): string {
  return trimTrailing(
    parts.map((p) => escapeHl7(p ?? '')),
    SUBCOMPONENT,
  );
}

function trimTrailing(parts: string[], separator: string): string {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return parts.slice(0, end).join(separator);
}

/**
 * One segment from already-encoded fields, fields[0] being field 1; trailing empty fields are dropped (§2.5.3:
 * a receiver treats absent trailing fields as empty). MSH is special: MSH-1 is the field separator itself, so its
 * fields start at MSH-2.
 */
export function segment(id: string, fields: readonly string[]): string {
  if (!/^[A-Z][A-Z0-9]{2}$/.test(id)) throw new Error(`"${id}" is not an HL7 segment id.`);
  const body = trimTrailing([...fields], FIELD);
  return id === 'MSH' ? `MSH${FIELD}${body}` : body === '' ? id : `${id}${FIELD}${body}`;
}

/** HL7 DTM in UTC to the second (YYYYMMDDHHMMSS+0000) from an ISO 8601 time. */
export function hl7Timestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`"${iso}" is not a time.`);
  const text = date.toISOString(); // 2026-12-04T17:43:39.000Z
  return `${text.slice(0, 4)}${text.slice(5, 7)}${text.slice(8, 10)}${text.slice(11, 13)}${text.slice(14, 16)}${text.slice(17, 19)}+0000`;
}

/** HL7 DT (YYYYMMDD) from an ISO date (YYYY-MM-DD). */
export function hl7Date(isoDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) throw new Error(`"${isoDate}" is not a date written YYYY-MM-DD.`);
  return isoDate.replace(/-/g, '');
}

/** An HL7 NM value: plain decimal notation, never an exponent, at most `digits` decimals, no trailing zeros. */
export function hl7Number(value: number, digits: number): string {
  // toFixed switches to exponent notation from 1e21, which NM does not allow; no count or percentage comes near.
  if (!Number.isFinite(value) || Math.abs(value) >= 1e15) throw new Error(`${value} cannot be sent as an HL7 number.`);
  const fixed = value.toFixed(digits);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** The segments of a message as sent: each ends in a carriage return. */
export function joinSegments(segments: readonly string[]): string {
  return segments.map((s) => `${s}${SEGMENT_TERMINATOR}`).join('');
}

/** Splits a received message into segments and their fields (for ACKs and tests); components are left encoded. */
export function splitSegments(message: string): string[][] {
  return message
    .split(/\r\n|\r|\n/)
    .filter((s) => s.length > 0)
    .map((s) => {
      const fields = s.split(FIELD);
      // MSH-1 is the separator: put it back so that fields[n] is MSH-n as for every other segment.
      return fields[0] === 'MSH' ? ['MSH', FIELD, ...fields.slice(1)] : fields;
    });
}
