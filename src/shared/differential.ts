// The bone-marrow differential: from counts per cell class to the figures a report prints (percentages of the
// nucleated differential count, blast percentage with its confidence interval and threshold advisories, M:E ratio,
// count target). Pure arithmetic over the rules in cell-classes.ts, so every process computes the same figures.
//
// Rules and sources:
// - Denominator: the nucleated differential count (NDC) = every counted cell except artefacts, cells not identifiable
//   and smudge cells (ICSH 2008, Lee SH et al., Int J Lab Hematol 2008;30:349-364). Excluded cells are reported
//   separately, per 100 NDC cells, never in any denominator.
// - Blast percentage = (BLA + FGC) / NDC. WHO-HAEM5 (Khoury JD et al., Leukemia 2022;36:1703-1719) and ICC 2022
//   (Arber DA et al., Blood 2022;140:1200-1228) both express marrow blasts as a percentage of all nucleated marrow
//   cells (the non-erythroid denominator was retired in 2016). Faggot cells are abnormal promyelocytes, counted as
//   blast equivalents.
// - Thresholds: 5% (above the normal marrow blast range; WHO-HAEM5 MDS-IB1 and ICC MDS-EB 5–9%), 10% (WHO-HAEM5
//   MDS-IB2 10–19%; ICC MDS/AML 10–19% and ICC AML with recurrent genetic abnormalities from 10%), 20% (AML in both,
//   for types not defined by genetics; WHO-HAEM5 defines most AML with defining genetic abnormalities at any blast
//   count). The app states where the count lies relative to each threshold and how sure it is; it never classifies.
// - Count target: ICSH 2008 recommends a 500-cell differential of the aspirate; fewer than 300 nucleated cells is
//   treated as too few for a reliable differential (the lab's floor, configurable).
import {
  BLAST_EQUIVALENT_CODES,
  CELL_CLASSES,
  CELL_CLASS_CODES,
  CELL_CLASS_DISPLAY_ORDER,
  EXCLUDED_FROM_NDC_CODES,
  describeValue,
  isCellClassCode,
  type CellClassCode,
  type Lineage,
} from './cell-classes';
import { formatInterval, formatPercent, plural } from './format';
import { wilsonInterval } from './statistics';

export { formatInterval, formatMeRatio, formatPercent, NOT_AVAILABLE } from './format';

export const DIFFERENTIAL_RULES_VERSION = 'marrowcount-rules/1.0.0 (ICSH 2008; WHO-HAEM5 2022; ICC 2022)';

export const DEFAULT_COUNT_TARGET = 500;
export const DEFAULT_MINIMUM_ACCEPTABLE = 300;
export const BLAST_THRESHOLDS = [5, 10, 20] as const;
export type BlastThreshold = (typeof BLAST_THRESHOLDS)[number];

export type ClassCounts = Partial<Record<CellClassCode, number>>;

/** Which cells go on each side of the M:E ratio. Only the ICSH 2008 convention is implemented. */
export type MeConvention = 'icsh';

export const ME_CONVENTION_TEXT: Readonly<Record<MeConvention, string>> = Object.freeze({
  icsh:
    'ICSH 2008: myeloid = granulocytes and their precursors (blasts, promyelocytes to segmented neutrophils, ' +
    'eosinophils, basophils, faggot cells) and monocytes; erythroid = proerythroblasts and erythroblasts',
});

export interface DifferentialOptions {
  /** Nucleated cells to count; default 500 (ICSH 2008). */
  countTarget?: number;
  /** Below this many nucleated cells the differential is flagged as unreliable; default 300. */
  minimumAcceptable?: number;
  /** Default 'icsh'. */
  meConvention?: MeConvention;
  /**
   * Classes the model can output. A class outside this list is "not assessable": its row says so (percentOfNdc
   * null unless a reviewer assigned cells to it) and a warning names it, instead of a silent 0. Omitted: all 21.
   */
  modelClasses?: readonly CellClassCode[];
  /**
   * The model's provisional classes (learned without marrow images) and, per class, how many counted cells carry
   * the model's label of such a class with no human decision. Those rows, the M:E ratio and the warnings say the
   * figures are provisional until the cells are reviewed. Omitted: nothing is provisional.
   */
  provisional?: ProvisionalInput;
}

export interface ProvisionalInput {
  classes: readonly CellClassCode[];
  /** Cells counted in a provisional class on the model's word alone (no decision in force). */
  unreviewed: ClassCounts;
}

export interface ProvisionalSummary {
  classes: CellClassCode[];
  /** Unreviewed cells counted in provisional classes, all classes together. */
  unreviewedCells: number;
  /** One sentence for every place the differential is read. */
  note: string;
}

export interface PercentInterval {
  /** Percent, 0–100. */
  lower: number;
  /** Percent, 0–100. */
  upper: number;
}

export interface DifferentialRow {
  code: CellClassCode;
  name: string;
  lineage: Lineage;
  count: number;
  /** Percent of the NDC, unrounded; null when the NDC is 0, for excluded classes, and for a not-assessable class with no cells. */
  percentOfNdc: number | null;
  /** Wilson 95% interval of percentOfNdc, in percent; null whenever percentOfNdc is null. */
  ci95: PercentInterval | null;
  inNdc: boolean;
  /** True for a class that needs a person's attention when counted (OTH) and has cells. */
  flagged: boolean;
  /** False when the model cannot output this class: its count comes from reviewers only. */
  assessedByModel: boolean;
  /** Cells of this row counted on a provisional class's unreviewed prediction; 0 for other classes. */
  provisionalUnreviewed: number;
}

export interface ExcludedCount {
  code: CellClassCode;
  name: string;
  count: number;
  /** Cells per 100 NDC cells; null when the NDC is 0. */
  per100Ndc: number | null;
  /** False when the model cannot output this class (e.g. KSC for the bundled model): its cells are reviewers' only. */
  assessedByModel: boolean;
}

export type BlastAdvisoryStatus = 'below' | 'near' | 'at_or_above';

export interface BlastAdvisory {
  threshold: BlastThreshold;
  /** 'near': the 95% interval contains the threshold, so the count cannot place the blasts on either side. */
  status: BlastAdvisoryStatus;
  /** The whole sentence, figure included ("Blasts 8.0% (95% CI 5.2–12.0%): below 20%."), for a line read alone (LIS note, CLI). */
  text: string;
  /** The sentence without the figure ("interval crosses 10% — count more cells …"), for beside a figure shown once. */
  note: string;
}

export interface BlastSummary {
  /** BLA + FGC. */
  count: number;
  /** Percent of the NDC; null when the NDC is 0 or blasts are not assessable. */
  percentage: number | null;
  ci95: PercentInterval | null;
  /** One per threshold (5, 10, 20) when a percentage exists; empty otherwise. */
  advisories: BlastAdvisory[];
}

export interface MeRatio {
  myeloid: number;
  erythroid: number;
  /** myeloid / erythroid; null when undefined (never Infinity or NaN). */
  ratio: number | null;
  /** Human-readable convention, for reports. */
  convention: string;
  undefinedReason: string | null;
  /** True when unreviewed cells of a provisional class are on either side of the ratio. */
  provisional: boolean;
}

export interface CountTargetStatus {
  target: number;
  /** Nucleated cells counted (the NDC). */
  counted: number;
  remaining: number;
  met: boolean;
  minimumAcceptable: number;
  note: string;
}

export interface Differential {
  rulesVersion: string;
  /** All 21 classes in CELL_CLASS_DISPLAY_ORDER. */
  rows: DifferentialRow[];
  /** ART, NIF, KSC (display order), always all three. */
  excluded: ExcludedCount[];
  nucleatedDifferentialCount: number;
  /** NDC + excluded cells. */
  totalCellsCounted: number;
  blast: BlastSummary;
  meRatio: MeRatio;
  countTarget: CountTargetStatus;
  /** null when no counted cell rests on an unreviewed prediction of a provisional class. */
  provisional: ProvisionalSummary | null;
  warnings: string[];
}

/** Thrown for counts or options the differential cannot be computed from; names the field and its value. */
export class DifferentialInputError extends Error {
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, message: string) {
    super(message);
    this.name = 'DifferentialInputError';
    this.field = field;
    this.value = value;
  }
}

/**
 * Tallies one label per cell into class counts, e.g. the effective labels of a case. Throws DifferentialInputError
 * naming the first label that is not a cell class code, with its position.
 */
export function countLabels(labels: Iterable<unknown>): ClassCounts {
  const counts: ClassCounts = {};
  let index = 0;
  for (const label of labels) {
    if (!isCellClassCode(label)) {
      throw new DifferentialInputError(
        `labels[${index}]`,
        label,
        `Label ${describeValue(label)} at position ${index} is not a cell class code; expected one of ${CELL_CLASS_CODES.join(', ')}.`,
      );
    }
    counts[label] = (counts[label] ?? 0) + 1;
    index++;
  }
  return counts;
}

function validateCounts(counts: unknown): Record<CellClassCode, number> {
  if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) {
    throw new DifferentialInputError('counts', counts, `Cell counts must be an object of class code to count, got ${describeValue(counts)}.`);
  }
  const validated = Object.fromEntries(CELL_CLASS_CODES.map((code) => [code, 0])) as Record<CellClassCode, number>;
  let total = 0;
  for (const [key, value] of Object.entries(counts)) {
    if (!isCellClassCode(key)) {
      throw new DifferentialInputError(
        key,
        value,
        `Unknown cell class code ${JSON.stringify(key)} (count ${describeValue(value)}); expected one of ${CELL_CLASS_CODES.join(', ')}.`,
      );
    }
    // An explicitly absent count is the same as no count; anything else must be a whole number of cells.
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new DifferentialInputError(
        key,
        value,
        `Count for ${key} (${CELL_CLASSES[key].name}) must be a non-negative whole number, got ${describeValue(value)}.`,
      );
    }
    validated[key] = value;
    total += value;
  }
  if (!Number.isSafeInteger(total)) {
    throw new DifferentialInputError('counts', total, `The total cell count ${total} is too large to count exactly.`);
  }
  return validated;
}

function validatePositiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new DifferentialInputError(field, value, `${field} must be a positive whole number, got ${describeValue(value)}.`);
  }
  return value;
}

function validateModelClasses(value: unknown): ReadonlySet<CellClassCode> {
  if (value === undefined) return new Set(CELL_CLASS_CODES);
  if (!Array.isArray(value)) {
    throw new DifferentialInputError('modelClasses', value, `modelClasses must be a list of cell class codes, got ${describeValue(value)}.`);
  }
  for (const code of value) {
    if (!isCellClassCode(code)) {
      throw new DifferentialInputError('modelClasses', code, `modelClasses contains ${describeValue(code)}, which is not a cell class code.`);
    }
  }
  return new Set(value as CellClassCode[]);
}

function percentInterval(successes: number, trials: number): PercentInterval {
  const { lower, upper } = wilsonInterval(successes, trials);
  return { lower: lower * 100, upper: upper * 100 };
}

const THRESHOLD_CONTEXT: Readonly<Record<BlastThreshold, string>> = {
  5: 'above the normal marrow range; WHO-HAEM5 MDS-IB1 and ICC MDS-EB 5–9%',
  10: 'WHO-HAEM5 MDS-IB2 and ICC MDS/AML 10–19%; ICC AML with recurrent genetic abnormalities from 10%',
  20: 'WHO-HAEM5 and ICC AML threshold; some AML types are defined by genetics at lower counts',
};

/** Where the blast percentage lies relative to one threshold, judged by its 95% interval. */
export function blastAdvisory(threshold: BlastThreshold, percentage: number, ci95: PercentInterval): BlastAdvisory {
  const figure = `Blasts ${formatPercent(percentage)} (95% CI ${formatInterval(ci95)})`;
  const advisory = (status: BlastAdvisoryStatus, note: string): BlastAdvisory => ({ threshold, status, note, text: `${figure}: ${note}` });
  if (ci95.lower <= threshold && threshold <= ci95.upper) {
    return advisory('near', `interval crosses ${threshold}% — count more cells before classifying.`);
  }
  if (ci95.lower > threshold) {
    return advisory('at_or_above', `at or above ${threshold}% (${THRESHOLD_CONTEXT[threshold]}) — correlate with morphology and genetics.`);
  }
  return advisory('below', `below ${threshold}%.`);
}

/**
 * The advisories that tell a reader something beside the figure: every one at or near its threshold, and "below"
 * only for the lowest threshold when the blasts are below all of them. "Below 20%" under "interval crosses 10%"
 * says nothing the reader does not already know.
 */
/**
 * The note on a class the model cannot output: with cells, they were put there by a reviewer ("reviewer-assigned");
 * without, the class was not assessed at all.
 */
export function notAssessedNote(row: { assessedByModel: boolean; count: number }): string | null {
  if (row.assessedByModel) return null;
  return row.count > 0 ? 'reviewer-assigned' : 'not assessable by model';
}

export function informativeBlastAdvisories(advisories: readonly BlastAdvisory[]): BlastAdvisory[] {
  return advisories.filter((advisory, index) => advisory.status !== 'below' || (index === 0 && advisories.every((a) => a.status === 'below')));
}

export function computeDifferential(counts: ClassCounts, options: DifferentialOptions = {}): Differential {
  if (typeof options !== 'object' || options === null) {
    throw new DifferentialInputError('options', options, `Options must be an object, got ${describeValue(options)}.`);
  }
  const count = validateCounts(counts);
  const target = validatePositiveInteger('countTarget', options.countTarget, DEFAULT_COUNT_TARGET);
  const minimumAcceptable = validatePositiveInteger('minimumAcceptable', options.minimumAcceptable, DEFAULT_MINIMUM_ACCEPTABLE);
  const convention: unknown = options.meConvention ?? 'icsh';
  if (convention !== 'icsh') {
    throw new DifferentialInputError('meConvention', convention, `Unknown M:E convention ${describeValue(convention)}; only "icsh" is implemented.`);
  }
  const assessed = validateModelClasses(options.modelClasses);
  const provisionalInput = validateProvisional(options.provisional, count);
  const provisionalCount = (code: CellClassCode): number => provisionalInput.get(code) ?? 0;
  const warnings: string[] = [];

  const ndc = CELL_CLASS_CODES.filter((code) => CELL_CLASSES[code].inNucleatedDifferential).reduce((sum, code) => sum + count[code], 0);
  const excludedTotal = EXCLUDED_FROM_NDC_CODES.reduce((sum, code) => sum + count[code], 0);

  const rows: DifferentialRow[] = CELL_CLASS_DISPLAY_ORDER.map((code) => {
    const cls = CELL_CLASSES[code];
    const assessedByModel = assessed.has(code);
    // A class the model cannot output and no reviewer used has no meaningful percentage: 0% would read as "absent".
    const hasPercentage = cls.inNucleatedDifferential && ndc > 0 && (assessedByModel || count[code] > 0);
    return {
      code,
      name: cls.name,
      lineage: cls.lineage,
      count: count[code],
      percentOfNdc: hasPercentage ? (count[code] / ndc) * 100 : null,
      ci95: hasPercentage ? percentInterval(count[code], ndc) : null,
      inNdc: cls.inNucleatedDifferential,
      flagged: cls.flaggedWhenCounted && count[code] > 0,
      assessedByModel,
      provisionalUnreviewed: provisionalCount(code),
    };
  });

  const excluded: ExcludedCount[] = CELL_CLASS_DISPLAY_ORDER.filter((code) => EXCLUDED_FROM_NDC_CODES.includes(code)).map((code) => ({
    code,
    name: CELL_CLASSES[code].name,
    count: count[code],
    per100Ndc: ndc > 0 ? (count[code] / ndc) * 100 : null,
    assessedByModel: assessed.has(code),
  }));

  if (ndc === 0 && excludedTotal === 0) {
    warnings.push('No cells counted: percentages, blast percentage and M:E ratio are undefined.');
  } else if (ndc === 0) {
    warnings.push(
      `Only cells excluded from the nucleated differential were counted (${excluded
        .filter((e) => e.count > 0)
        .map((e) => `${e.code} ${e.count}`)
        .join(', ')}): percentages, blast percentage and M:E ratio are undefined.`,
    );
  } else if (ndc < minimumAcceptable) {
    warnings.push(
      `Only ${plural(ndc, 'nucleated cell', 'nucleated cells')} counted; at least ${minimumAcceptable} are needed for a reliable differential (target ${target}).`,
    );
  }

  const notAssessed = CELL_CLASS_DISPLAY_ORDER.filter((code) => !assessed.has(code));
  if (notAssessed.length > 0) {
    warnings.push(
      `Not assessable by the model: ${notAssessed
        .map((code) => `${code} (${CELL_CLASSES[code].name})`)
        .join(', ')} — the model cannot output these classes; any count comes from reviewer reclassification only.`,
    );
  }

  const flaggedRows = rows.filter((row) => row.flagged);
  for (const row of flaggedRows) {
    warnings.push(`${plural(row.count, 'cell', 'cells')} classed as ${row.name} (${row.code}): counted in the differential; describe before sign-off.`);
  }

  // Blasts
  const blastCount = BLAST_EQUIVALENT_CODES.reduce((sum, code) => sum + count[code], 0);
  const blastAssessable = blastCount > 0 || BLAST_EQUIVALENT_CODES.some((code) => assessed.has(code));
  let blast: BlastSummary = { count: blastCount, percentage: null, ci95: null, advisories: [] };
  if (!blastAssessable) {
    warnings.push('Blast percentage not assessable: the model cannot output blasts (BLA) or faggot cells (FGC).');
  } else if (ndc > 0) {
    const percentage = (blastCount / ndc) * 100;
    const ci95 = percentInterval(blastCount, ndc);
    blast = {
      count: blastCount,
      percentage,
      ci95,
      advisories: BLAST_THRESHOLDS.map((threshold) => blastAdvisory(threshold, percentage, ci95)),
    };
  }
  if (count.FGC > 0) {
    warnings.push(`${plural(count.FGC, 'faggot cell', 'faggot cells')} (FGC) counted as blast equivalents.`);
  }

  const meRatio = computeMeRatio(count, assessed, ndc, provisionalCount);
  const provisional = provisionalSummary(rows, [...(options.provisional?.classes ?? [])], meRatio);
  if (provisional !== null) warnings.unshift(provisional.note);

  const remaining = Math.max(0, target - ndc);
  const met = ndc >= target;
  let note: string;
  if (met) note = `Count target met: ${ndc} of ${target} nucleated cells.`;
  else if (ndc >= minimumAcceptable) {
    note = `${ndc} of ${target} nucleated cells counted (${remaining} remaining); above the ${minimumAcceptable}-cell minimum.`;
  } else {
    note = `${ndc} of ${target} nucleated cells counted (${remaining} remaining); below the ${minimumAcceptable}-cell minimum.`;
  }

  return {
    rulesVersion: DIFFERENTIAL_RULES_VERSION,
    rows,
    excluded,
    nucleatedDifferentialCount: ndc,
    totalCellsCounted: ndc + excludedTotal,
    blast,
    meRatio,
    countTarget: { target, counted: ndc, remaining, met, minimumAcceptable, note },
    provisional,
    warnings,
  };
}

function validateProvisional(value: unknown, count: Record<CellClassCode, number>): Map<CellClassCode, number> {
  const out = new Map<CellClassCode, number>();
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null || !Array.isArray((value as ProvisionalInput).classes)) {
    throw new DifferentialInputError('provisional', value, `provisional must be { classes, unreviewed }, got ${describeValue(value)}.`);
  }
  const { classes, unreviewed } = value as ProvisionalInput;
  const codes = validateModelClasses(classes);
  const counts = validateCounts(unreviewed);
  for (const code of CELL_CLASS_CODES) {
    if (counts[code] === 0) continue;
    if (!codes.has(code)) {
      throw new DifferentialInputError(
        `provisional.unreviewed.${code}`,
        counts[code],
        `${code} has unreviewed provisional cells but is not a provisional class.`,
      );
    }
    if (counts[code] > count[code]) {
      throw new DifferentialInputError(
        `provisional.unreviewed.${code}`,
        counts[code],
        `${counts[code]} unreviewed provisional ${code} cells, but only ${count[code]} ${code} cells counted.`,
      );
    }
    out.set(code, counts[code]);
  }
  return out;
}

function provisionalSummary(rows: readonly DifferentialRow[], classes: CellClassCode[], meRatio: MeRatio): ProvisionalSummary | null {
  const affected = rows.filter((row) => row.provisionalUnreviewed > 0);
  if (affected.length === 0) return null;
  const unreviewedCells = affected.reduce((sum, row) => sum + row.provisionalUnreviewed, 0);
  const list = affected.map((row) => `${row.code} ${row.provisionalUnreviewed}`).join(', ');
  const figures = meRatio.provisional
    ? 'these rows, the M:E ratio and the percentages of the other classes'
    : 'these rows and the percentages of the other classes';
  return {
    classes,
    unreviewedCells,
    note:
      `Provisional: ${plural(unreviewedCells, 'cell is', 'cells are')} counted in classes the model learned without marrow images ` +
      `(${list}) and not yet reviewed — ${figures} rest on provisional classes until those cells are reviewed.`,
  };
}

function computeMeRatio(
  count: Record<CellClassCode, number>,
  assessed: ReadonlySet<CellClassCode>,
  ndc: number,
  provisionalCount: (code: CellClassCode) => number = () => 0,
): MeRatio {
  const convention = ME_CONVENTION_TEXT.icsh;
  const side = (wanted: 'myeloid' | 'erythroid') => CELL_CLASS_CODES.filter((code) => CELL_CLASSES[code].meSide === wanted);
  const myeloidCodes = side('myeloid');
  const erythroidCodes = side('erythroid');
  const myeloid = myeloidCodes.reduce((sum, code) => sum + count[code], 0);
  const erythroid = erythroidCodes.reduce((sum, code) => sum + count[code], 0);
  const provisional = [...myeloidCodes, ...erythroidCodes].some((code) => provisionalCount(code) > 0);
  const undefinedRatio = (reason: string): MeRatio => ({ myeloid, erythroid, ratio: null, convention, undefinedReason: reason, provisional });

  if (ndc === 0) return undefinedRatio('No nucleated cells counted.');
  if (erythroid === 0 && !erythroidCodes.some((code) => assessed.has(code))) {
    return undefinedRatio('The model cannot output erythroid precursors (PEB, EBO).');
  }
  if (myeloid === 0 && !myeloidCodes.some((code) => assessed.has(code))) {
    return undefinedRatio('The model cannot output myeloid cells (granulocytic series, monocytes).');
  }
  if (erythroid === 0 && myeloid === 0) {
    return undefinedRatio('No myeloid or erythroid cells counted.');
  }
  if (erythroid === 0) {
    return undefinedRatio('No erythroid precursors (PEB, EBO) counted: the ratio has no denominator.');
  }
  return { myeloid, erythroid, ratio: myeloid / erythroid, convention, undefinedReason: null, provisional };
}

/** The marker every view prints beside a row counted partly on unreviewed provisional predictions; '' otherwise. */
export function provisionalRowNote(row: Pick<DifferentialRow, 'provisionalUnreviewed'>): string {
  return row.provisionalUnreviewed > 0 ? `provisional: ${row.provisionalUnreviewed} unreviewed` : '';
}

/** Beside the M:E ratio when unreviewed provisional cells are on either side of it. */
export const PROVISIONAL_ME_NOTE = 'provisional until the cells of provisional classes are reviewed';
