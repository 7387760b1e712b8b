// Display formatting for differential figures, shared by the UI and the PDF report so both print the same text.
// Figures are computed unrounded; only these helpers round.

/** The report's title: under the laboratory's name, or alone when the lab has not set one. */
export const REPORT_TITLE = 'Bone marrow differential count';

/** Shown where a figure is undefined (no cells counted, ratio with no erythroid cells, class not assessable). */
export const NOT_AVAILABLE = '—';

function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  // toFixed(-0.04, 1) is "-0.0"; a percentage is never negative.
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** 4.8125 → "4.8%"; null → "—". `value` is in percent (0–100). */
export function formatPercent(value: number | null, digits = 1): string {
  if (value === null || !Number.isFinite(value)) return NOT_AVAILABLE;
  return `${fixed(value, digits)}%`;
}

/** { lower: 3.1, upper: 7.2 } → "3.1–7.2%"; null → "—". Bounds in percent. */
export function formatInterval(interval: { lower: number; upper: number } | null, digits = 1): string {
  if (interval === null || !Number.isFinite(interval.lower) || !Number.isFinite(interval.upper)) return NOT_AVAILABLE;
  return `${fixed(interval.lower, digits)}–${fixed(interval.upper, digits)}%`;
}

/** 2.5 → "2.5 : 1"; null → "—". */
export function formatMeRatio(ratio: number | null, digits = 1): string {
  if (ratio === null || !Number.isFinite(ratio)) return NOT_AVAILABLE;
  return `${fixed(ratio, digits)} : 1`;
}

/** "1 cell", "3 cells". */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
