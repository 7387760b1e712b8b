// What an amendment changed, figure by figure, for the page 1 of a corrected report ("Blasts: 8.4% → 8.0%").
// Compared as the report prints them (one decimal), so a change too small to show is not listed as a change.
import type { Differential } from './differential';
import { formatMeRatio, formatPercent } from './format';

export interface FigureChange {
  figure: string;
  before: string;
  after: string;
}

/** Each printed figure of the differential that differs between the released and the corrected result. */
export function differentialChanges(before: Differential, after: Differential): FigureChange[] {
  const changes: FigureChange[] = [];
  const add = (figure: string, was: string, now: string) => {
    if (was !== now) changes.push({ figure, before: was, after: now });
  };
  add('Blasts (% of NDC)', formatPercent(before.blast.percentage), formatPercent(after.blast.percentage));
  add('Nucleated differential count', String(before.nucleatedDifferentialCount), String(after.nucleatedDifferentialCount));
  add('M:E ratio', formatMeRatio(before.meRatio.ratio), formatMeRatio(after.meRatio.ratio));
  const earlier = new Map(before.rows.map((row) => [row.code, row]));
  for (const row of after.rows) {
    const was = earlier.get(row.code);
    const text = (r: { count: number; percentOfNdc: number | null } | undefined) =>
      r === undefined ? '0' : r.percentOfNdc === null ? String(r.count) : `${r.count} (${formatPercent(r.percentOfNdc)})`;
    add(`${row.code} ${row.name}`, text(was), text(row));
  }
  const excludedBefore = new Map(before.excluded.map((e) => [e.code, e.count]));
  for (const e of after.excluded) add(`${e.code} (excluded from the NDC)`, String(excludedBefore.get(e.code) ?? 0), String(e.count));
  return changes;
}

/** A corrected (or being corrected) report's notice: what it replaces, why, and what changed. */
export interface CorrectionNotice {
  /** The release this report replaces. */
  replaces: { signedAt: string; signedBy: string };
  amendedBy: string;
  amendedAt: string;
  reason: string;
  /** Null when the replaced release's figures were not stored with it, so nothing can be compared. */
  changes: FigureChange[] | null;
  /** True once the corrected result is released (signed again); false while it is a draft. */
  released: boolean;
}
