// Why a cell is flagged for review, as data: { kind, detail } (migration 0010). The kind is what the report counts
// and the screens group by; the detail holds the figures ("0.41 < 0.60", the class, the open-set distance). Words
// are made from the kind only here, at the edge, never parsed back: reasons used to be stored as prose and read
// by their first words, which summed the lab model's "class not learned" up as "Other reason".
export const OPEN_SET_REASON = 'unlike any cell type this model has learned — check for a type it cannot classify';
export const PROVISIONAL_REASON_PREFIX = 'provisional class ';
export const UNLEARNED_CLASS_REASON = 'base model calls it a class this lab model has not learned';
export const SMALL_CROP_REASON_PREFIX = 'small crop ';

/**
 * The smallest crop side the bundled model judges nearly as well as a 250 px crop. Measured with
 * scripts/bench-crop-size.ts (the demo case's 300 labelled crops through the app's pipeline, made smaller by
 * downscaling the whole crop or by cutting its centre): accuracy 86.7% at 250 px; at 200 px 83.0% downscaled and 85.0%
 * cut; at 176 px 75.0% and 81.3%; at 128 px 47.0% and 63.3%; at 64 px about 9.5%, 82–85% of cells called artefacts.
 * Below 200 px every cell is flagged, so a person looks at it before it counts.
 */
export const MIN_JUDGED_CROP_SIDE = 200;

const SMALL_CROP_WHY = `< ${MIN_JUDGED_CROP_SIDE} px: the model's answers are unreliable on crops this small (measured: 86.7% right at 250 px, 75–81% at 176 px, 47–63% at 128 px)`;

export const FLAG_REASON_KINDS = ['open_set', 'provisional', 'small_crop', 'unlearned_class', 'low_confidence', 'margin', 'rare_class', 'other'] as const;
export type FlagReasonKind = (typeof FLAG_REASON_KINDS)[number];

export interface FlagReason {
  kind: FlagReasonKind;
  /** The figures behind the reason, e.g. "0.41 < 0.60" or "BLA"; the kind's words are not repeated here. */
  detail: string;
}

export function isFlagReason(value: unknown): value is FlagReason {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, detail } = value as { kind?: unknown; detail?: unknown };
  return typeof kind === 'string' && (FLAG_REASON_KINDS as readonly string[]).includes(kind) && typeof detail === 'string';
}

/** The reason a crop smaller than MIN_JUDGED_CROP_SIDE is flagged; null for a crop large enough. */
export function smallCropReason(width: number, height: number): FlagReason | null {
  const side = Math.min(width, height);
  if (side >= MIN_JUDGED_CROP_SIDE) return null;
  return { kind: 'small_crop', detail: `${width}×${height} px` };
}

/** How each kind is named where flagged cells are summed up. */
export const FLAG_REASON_KIND_TEXT: Readonly<Record<FlagReasonKind, string>> = Object.freeze({
  open_set: `Open-set: ${OPEN_SET_REASON}`,
  provisional: 'Provisional class (learned without marrow images)',
  small_crop: `Crop smaller than ${MIN_JUDGED_CROP_SIDE} px (the model is unreliable on it)`,
  unlearned_class: 'Class the lab model did not learn (the base model calls it one)',
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
  unlearned_class: 'class not learned',
  low_confidence: 'low confidence',
  margin: 'narrow margin',
  rare_class: 'rare class',
  other: 'flagged',
});

/** One reason in full, for the review screen, the CSV and the audit: the kind's words and the figures. */
export function flagReasonText(reason: FlagReason): string {
  switch (reason.kind) {
    case 'open_set':
      return `${OPEN_SET_REASON} (${reason.detail})`;
    case 'provisional':
      return `${PROVISIONAL_REASON_PREFIX}${reason.detail}`;
    case 'unlearned_class':
      return `${UNLEARNED_CLASS_REASON} (${reason.detail})`;
    case 'small_crop':
      return `${SMALL_CROP_REASON_PREFIX}${reason.detail} ${SMALL_CROP_WHY}`;
    case 'low_confidence':
      return `low confidence ${reason.detail}`;
    case 'margin':
      return `margin ${reason.detail}`;
    case 'rare_class':
      return `rare class ${reason.detail}`;
    case 'other':
      return reason.detail;
  }
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
export function countFlagReasons(cells: Iterable<{ reasons: readonly FlagReason[]; reviewed: boolean }>): FlagReasonCount[] {
  const totals = new Map<FlagReasonKind, { cells: number; unreviewed: number }>();
  for (const cell of cells) {
    for (const kind of new Set(cell.reasons.map((reason) => reason.kind))) {
      const entry = totals.get(kind) ?? { cells: 0, unreviewed: 0 };
      entry.cells++;
      if (!cell.reviewed) entry.unreviewed++;
      totals.set(kind, entry);
    }
  }
  return FLAG_REASON_KINDS.filter((kind) => totals.has(kind)).map((kind) => ({ kind, text: FLAG_REASON_KIND_TEXT[kind], ...totals.get(kind)! }));
}
