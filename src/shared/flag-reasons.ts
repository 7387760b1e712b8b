// The kinds of reason a cell is flagged for review, read back from the stored reason texts (src/main/inference/
// classify.ts writes them): the report and the screens group flagged cells by kind, so that "unlike any type the
// model learned" and "provisional class" are counted where a person reads the review, not only per cell.
export const OPEN_SET_REASON = 'unlike any cell type this model has learned — check for a type it cannot classify';
export const PROVISIONAL_REASON_PREFIX = 'provisional class ';
export const SMALL_CROP_REASON_PREFIX = 'small crop ';

/**
 * The smallest crop side the bundled model judges nearly as well as a 250 px crop. Measured with
 * scripts/bench-crop-size.ts (the demo case's 300 labelled crops through the app's pipeline, made smaller by
 * downscaling the whole crop or by cutting its centre): accuracy 86.7% at 250 px; at 200 px 83.0% downscaled and 85.0%
 * cut; at 176 px 75.0% and 81.3%; at 128 px 47.0% and 63.3%; at 64 px about 9.5%, 82–85% of cells called artefacts.
 * Below 200 px every cell is flagged, so a person looks at it before it counts.
 */
export const MIN_JUDGED_CROP_SIDE = 200;

/** The reason a crop smaller than MIN_JUDGED_CROP_SIDE is flagged; null for a crop large enough. */
export function smallCropReason(width: number, height: number): string | null {
  const side = Math.min(width, height);
  if (side >= MIN_JUDGED_CROP_SIDE) return null;
  return `${SMALL_CROP_REASON_PREFIX}${width}×${height} px < ${MIN_JUDGED_CROP_SIDE} px: the model's answers are unreliable on crops this small (measured: 86.7% right at 250 px, 75–81% at 176 px, 47–63% at 128 px)`;
}

export type FlagReasonKind = 'open_set' | 'provisional' | 'small_crop' | 'low_confidence' | 'margin' | 'rare_class' | 'other';

export const FLAG_REASON_KINDS: readonly FlagReasonKind[] = ['open_set', 'provisional', 'small_crop', 'low_confidence', 'margin', 'rare_class', 'other'];

/** How each kind is named where flagged cells are summed up. */
export const FLAG_REASON_KIND_TEXT: Readonly<Record<FlagReasonKind, string>> = Object.freeze({
  open_set: `Open-set: ${OPEN_SET_REASON}`,
  provisional: 'Provisional class (learned without marrow images)',
  small_crop: `Crop smaller than ${MIN_JUDGED_CROP_SIDE} px (the model is unreliable on it)`,
  low_confidence: 'Low confidence',
  margin: 'Narrow margin to the runner-up class',
  rare_class: 'Rare class always reviewed',
  other: 'Other reason',
});

/** A few words under a thumbnail. */
export const FLAG_REASON_KIND_SHORT: Readonly<Record<FlagReasonKind, string>> = Object.freeze({
  open_set: 'unlike learned types',
  provisional: 'provisional class',
  small_crop: 'small crop',
  low_confidence: 'low confidence',
  margin: 'narrow margin',
  rare_class: 'rare class',
  other: 'flagged',
});

export function flagReasonKind(reason: string): FlagReasonKind {
  if (reason.startsWith(OPEN_SET_REASON)) return 'open_set';
  if (reason.startsWith(PROVISIONAL_REASON_PREFIX)) return 'provisional';
  if (reason.startsWith(SMALL_CROP_REASON_PREFIX)) return 'small_crop';
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
