// The kinds of reason a cell is flagged for review, read back from the stored reason texts (src/main/inference/
// classify.ts writes them): the report and the screens group flagged cells by kind, so that "unlike any type the
// model learned" and "provisional class" are counted where a person reads the review, not only per cell.
export const OPEN_SET_REASON = 'unlike any cell type this model has learned — check for a type it cannot classify';
export const PROVISIONAL_REASON_PREFIX = 'provisional class ';

export type FlagReasonKind = 'open_set' | 'provisional' | 'low_confidence' | 'margin' | 'rare_class' | 'other';

export const FLAG_REASON_KINDS: readonly FlagReasonKind[] = ['open_set', 'provisional', 'low_confidence', 'margin', 'rare_class', 'other'];

/** How each kind is named where flagged cells are summed up. */
export const FLAG_REASON_KIND_TEXT: Readonly<Record<FlagReasonKind, string>> = Object.freeze({
  open_set: `Open-set: ${OPEN_SET_REASON}`,
  provisional: 'Provisional class (learned without marrow images)',
  low_confidence: 'Low confidence',
  margin: 'Narrow margin to the runner-up class',
  rare_class: 'Rare class always reviewed',
  other: 'Other reason',
});

/** A few words under a thumbnail. */
export const FLAG_REASON_KIND_SHORT: Readonly<Record<FlagReasonKind, string>> = Object.freeze({
  open_set: 'unlike learned types',
  provisional: 'provisional class',
  low_confidence: 'low confidence',
  margin: 'narrow margin',
  rare_class: 'rare class',
  other: 'flagged',
});

export function flagReasonKind(reason: string): FlagReasonKind {
  if (reason.startsWith(OPEN_SET_REASON)) return 'open_set';
  if (reason.startsWith(PROVISIONAL_REASON_PREFIX)) return 'provisional';
  if (reason.startsWith('low confidence')) return 'low_confidence';
  if (reason.startsWith('margin')) return 'margin';
  if (reason.startsWith('rare class')) return 'rare_class';
  return 'other';
}

export interface FlagReasonCount {
  kind: FlagReasonKind;
  text: string;
  /** Flagged cells with at least one reason of this kind. */
  cells: number;
  /** Of those, cells with no decision in force. */
  unreviewed: number;
}

/** One row per kind that occurs, in FLAG_REASON_KINDS order; a cell with two reasons of one kind counts once. */
export function countFlagReasons(cells: Iterable<{ reasons: readonly string[]; reviewed: boolean }>): FlagReasonCount[] {
  const totals = new Map<FlagReasonKind, { cells: number; unreviewed: number }>();
  for (const cell of cells) {
    for (const kind of new Set(cell.reasons.map(flagReasonKind))) {
      const entry = totals.get(kind) ?? { cells: 0, unreviewed: 0 };
      entry.cells++;
      if (!cell.reviewed) entry.unreviewed++;
      totals.set(kind, entry);
    }
  }
  return FLAG_REASON_KINDS.filter((kind) => totals.has(kind)).map((kind) => ({ kind, text: FLAG_REASON_KIND_TEXT[kind], ...totals.get(kind)! }));
}
