// A patient's marrows over time (issue 25): the figures each result is followed by (blast %, NDC, M:E ratio, the
// main lineages) and the comparison of two counts in words, with the 95% interval of the difference.
//
// The figures are read from a differential as the case's own rules computed it (differential.ts): blasts are the
// differential's blast count over its nucleated differential count (BLA + FGC over the NDC), never recounted here.
// Lineages are the descriptive grouping of cell-classes.ts summed over the NDC rows.
//
// A change is called "higher" or "lower" only when the 95% interval of the difference (Newcombe's hybrid score
// interval, proportion-difference.ts) excludes 0; otherwise the two counts cannot tell the marrows apart, and the
// words say that more cells would be needed, because a wide interval is a property of the counts, not evidence of
// no change.
import type { CaseStatus, SpecimenType } from './api';
import type { CellClassCode, Lineage } from './cell-classes';
import type { BlastSummary, Differential, DifferentialRow, MeRatio, PercentInterval } from './differential';
import { formatPercent } from './format';
import { newcombeDifferenceInterval } from './proportion-difference';
import { wilsonInterval } from './statistics';

/** The lineages followed over time, in the order tables print them. Blasts are followed on their own. */
export const HISTORY_LINEAGES = ['granulocytic', 'erythroid', 'monocytic', 'lymphoid', 'plasma'] as const satisfies readonly Lineage[];
export type HistoryLineage = (typeof HISTORY_LINEAGES)[number];

export const HISTORY_LINEAGE_NAMES: Readonly<Record<HistoryLineage, string>> = {
  granulocytic: 'Granulocytic',
  erythroid: 'Erythroid',
  monocytic: 'Monocytic',
  lymphoid: 'Lymphoid',
  plasma: 'Plasma cells',
};

/** Cells of one kind out of the nucleated differential count. */
export interface CountedFraction {
  count: number;
  /** The nucleated differential count the fraction is of. */
  total: number;
  /** Percent of the NDC; null when the NDC is 0 or the cells could not be assessed (a class the model lacks). */
  percentage: number | null;
  /** Wilson 95% interval, percent; null with the percentage. */
  ci95: PercentInterval | null;
}

export interface LineageFraction extends CountedFraction {
  /** Classes of the lineage the model could not assess (and no reviewer used): the count leaves them out. */
  notAssessed: CellClassCode[];
}

export interface MarrowFigures {
  nucleatedDifferentialCount: number;
  blast: CountedFraction;
  /** Myeloid : erythroid; null when undefined. */
  meRatio: number | null;
  lineages: Record<HistoryLineage, LineageFraction>;
}

/**
 * 'released': signed, the figures are the ones signed (the latest sign-off's snapshot).
 * 'reopened': amended and back in review; the figures are its last released (signed) version.
 * 'draft': never released; the figures are the current, unsigned count.
 */
export const MARROW_RESULT_STATES = ['released', 'reopened', 'draft'] as const;
export type MarrowResultState = (typeof MARROW_RESULT_STATES)[number];

/** Where a specimen date came from: recorded with the case, or (older cases) the day the case was created. */
export type SpecimenDateSource = 'recorded' | 'case_created';

/** Whether two specimens are counts of the same tissue: marrow is compared with marrow, blood with blood. */
export type SpecimenGroup = 'marrow' | 'blood' | 'other';

export function specimenGroupOf(specimen: string): SpecimenGroup {
  if (specimen === 'bone_marrow_aspirate' || specimen === 'bone_marrow_imprint') return 'marrow';
  return specimen === 'peripheral_blood' ? 'blood' : 'other';
}

/** The parts of a differential history reads: what a sign-off's stored snapshot must hold. */
export interface HistoryDifferential {
  nucleatedDifferentialCount: Differential['nucleatedDifferentialCount'];
  rows: ReadonlyArray<Pick<DifferentialRow, 'code' | 'inNdc' | 'lineage' | 'count' | 'percentOfNdc'>>;
  blast: Pick<BlastSummary, 'count' | 'percentage' | 'ci95'>;
  meRatio: Pick<MeRatio, 'ratio'>;
}

/** The figures followed over time, from a case's differential (live, or as stored in a sign-off). */
export function marrowFiguresOf(differential: HistoryDifferential): MarrowFigures {
  const ndc = differential.nucleatedDifferentialCount;
  const lineages = Object.fromEntries(
    HISTORY_LINEAGES.map((lineage) => {
      const rows = differential.rows.filter((row) => row.inNdc && row.lineage === lineage);
      const count = rows.reduce((sum, row) => sum + row.count, 0);
      // A class the model cannot output (and no reviewer used) has no percentage in the differential. The lineage is
      // summed over the classes that could be counted and names the others; with none, it has no percentage at all,
      // because 0% would read as "none seen".
      const notAssessed = rows.filter((row) => row.percentOfNdc === null).map((row) => row.code);
      const assessable = ndc > 0 && notAssessed.length < rows.length;
      return [lineage, { ...fraction(count, ndc, assessable), notAssessed }];
    }),
  ) as Record<HistoryLineage, LineageFraction>;
  return {
    nucleatedDifferentialCount: ndc,
    blast: {
      count: differential.blast.count,
      total: ndc,
      percentage: differential.blast.percentage,
      ci95: differential.blast.ci95,
    },
    meRatio: differential.meRatio.ratio,
    lineages,
  };
}

function fraction(count: number, total: number, assessable: boolean): CountedFraction {
  if (!assessable || total === 0) return { count, total, percentage: null, ci95: null };
  // The same (Wilson) interval the differential gives each class, applied to the lineage's summed count.
  const { lower, upper } = wilsonInterval(count, total);
  return { count, total, percentage: (count / total) * 100, ci95: { lower: lower * 100, upper: upper * 100 } };
}

export type ComparisonVerdict = 'higher' | 'lower' | 'not_distinguishable';

export interface FractionComparison {
  /** Percentage points, this count minus the earlier one. */
  differencePoints: number;
  /** Newcombe hybrid score 95% interval of the difference, percentage points. */
  ci95Points: { lower: number; upper: number };
  verdict: ComparisonVerdict;
  /** "higher than on 2026-09-14 (difference +6.2 points, 95% CI +2.1 to +10.4)" and so on. */
  text: string;
}

/**
 * Compares a count with an earlier one of the same patient. Null when either has no percentage (no cells counted,
 * or not assessable): there is nothing to compare, and no interval is invented.
 */
export function compareFractions(current: CountedFraction, earlier: CountedFraction, earlierDate: string): FractionComparison | null {
  if (current.percentage === null || earlier.percentage === null || current.total === 0 || earlier.total === 0) return null;
  const interval = newcombeDifferenceInterval(current.count, current.total, earlier.count, earlier.total);
  const differencePoints = interval.difference * 100;
  const ci95Points = { lower: interval.lower * 100, upper: interval.upper * 100 };
  const verdict: ComparisonVerdict = ci95Points.lower > 0 ? 'higher' : ci95Points.upper < 0 ? 'lower' : 'not_distinguishable';
  const figures = `difference ${formatPoints(differencePoints)} points, 95% CI ${formatPoints(ci95Points.lower)} to ${formatPoints(ci95Points.upper)}`;
  const text =
    verdict === 'not_distinguishable'
      ? `not distinguishable from the count on ${earlierDate} at this cell count — count more cells to tell (${figures})`
      : `${verdict} than on ${earlierDate} (${figures})`;
  return { differencePoints, ci95Points, verdict, text };
}

/** Blasts in one sentence, for the case view and the report: "Blasts 12.0% against 6.0%: higher than on …". */
export function blastComparisonSentence(current: CountedFraction, earlier: CountedFraction, earlierDate: string): string | null {
  const comparison = compareFractions(current, earlier, earlierDate);
  if (comparison === null) return null;
  return `Blasts ${formatPercent(current.percentage)} against ${formatPercent(earlier.percentage)}: ${comparison.text}.`;
}

/**
 * Signed percentage points with one decimal ("+6.2", "−4.0", "0.0"). A bound that rounds to 0.0 but is not 0 gets a
 * second decimal, so that an interval that excludes 0 never prints as if it touched it.
 */
export function formatPoints(points: number): string {
  const digits = points !== 0 && Math.abs(points) < 0.05 ? 2 : 1;
  const text = Math.abs(points).toFixed(digits);
  if (/^0\.0+$/.test(text)) return text;
  return `${points < 0 ? '−' : '+'}${text}`;
}

/** One case of the patient as history shows it. */
export interface MarrowResult {
  caseId: number;
  accession: string;
  specimen: SpecimenType;
  /** YYYY-MM-DD. */
  specimenDate: string;
  specimenDateSource: SpecimenDateSource;
  status: CaseStatus;
  state: MarrowResultState;
  /** How many times a result of this case was released (signed); above 1 it was amended and signed again. */
  releasedVersions: number;
  /** True when a released result of this case was amended (re-signed since, or back in review now). */
  amended: boolean;
  /** The sign-off whose figures are shown; null for a draft. */
  releasedAt: string | null;
  releasedBy: string | null;
  /** null before analysis (a draft with no cells yet), or when the released result cannot be read (see `problem`). */
  figures: MarrowFigures | null;
  /** Why a released result has no figures (its stored sign-off could not be read); null when all is well. */
  problem: string | null;
}

export interface PatientHistory {
  patient: { labId: string; name: string | null; birthDate: string | null };
  /** Oldest specimen first; drafts included (state 'draft'), to be drawn apart from released results. */
  marrows: MarrowResult[];
}

export interface MarrowComparison {
  /** The earlier released result compared with. */
  earlier: MarrowResult;
  blast: FractionComparison | null;
  lineages: Record<HistoryLineage, FractionComparison | null>;
}

/** A case beside the patient's earlier released results of the same kind of specimen. */
export interface CaseHistory {
  caseId: number;
  patient: PatientHistory['patient'];
  /** This case, with its current figures (what its report prints). */
  current: MarrowResult;
  /** Earlier released results (released, or the last released version of a re-opened case), newest first. */
  previous: MarrowResult[];
  /** This case against each of `previous`, same order. */
  comparisons: MarrowComparison[];
  /** Blasts against the most recent earlier result, in one sentence; null when there is none to compare with. */
  blastSentence: string | null;
}

/** This case's figures against an earlier released result. */
export function compareMarrows(current: MarrowFigures, earlier: MarrowResult): Omit<MarrowComparison, 'earlier'> | null {
  if (earlier.figures === null) return null;
  const before = earlier.figures;
  const lineages = Object.fromEntries(
    HISTORY_LINEAGES.map((lineage) => [lineage, compareFractions(current.lineages[lineage], before.lineages[lineage], earlier.specimenDate)]),
  ) as Record<HistoryLineage, FractionComparison | null>;
  return { blast: compareFractions(current.blast, before.blast, earlier.specimenDate), lineages };
}
