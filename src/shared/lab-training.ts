// Training and validating a lab model from the lab's reviewed cells (issue 14), process-free: the main process's
// worker thread runs it, and so does the benchmark.
//
// Validation is by case, never by cell: cells of one smear share stain, scanner and patient, so a cell-level split
// would put near-twins on both sides and overstate the head. Cases are ordered by a seeded hash of their accession
// and dealt into three folds: test (about a fifth of the cells: per-class figures, the comparison with the base
// model), calibration (about a fifth: only the temperature), train (the rest: the head). The head that is
// validated is the head that is stored and used; it is not re-fitted on all cells afterwards, so the figures are
// the figures of the model a lab approves.
//
// The head is residual (lab-head.ts): the base model's answer plus a learned correction held near zero, because on
// the simulated lab of scripts/bench-lab-model.ts a head learned from scratch on 20-200 reviewed cells per class
// scored below the base model it was meant to improve (macro-F1 0.838-0.839 vs 0.851), the residual one level with it.
import type { CellClassCode } from './cell-classes';
import {
  basePrior,
  classificationMetrics,
  DEFAULT_HEAD_TRAINING,
  expectedCalibrationError,
  fitTemperature,
  headLogits,
  meanNll,
  trainHead,
  type ClassificationMetrics,
  type HeadProgress,
  type HeadTrainingOptions,
  type LabHead,
} from './lab-head';
import { softmaxWithTemperature } from './softmax';

/** Fewest reviewed training-fold cells a class needs to be learned by the lab model (issue 14: "e.g. 30"). */
export const DEFAULT_MINIMUM_PER_CLASS = 30;
/** The lowest minimum a caller may ask for: below it a class's figures would rest on a handful of cells. */
export const MINIMUM_PER_CLASS_FLOOR = 5;
/** The highest: a larger one is a typing slip (no class of a lab's reviewed cells reaches it). */
export const MINIMUM_PER_CLASS_CEILING = 100000;

/**
 * Whether the lab model scores below the base model on the held-out cases (macro-F1 over the lab model's classes):
 * then cases analysed with it would be classified worse. Said where it is approved, on its model card and by
 * `marrowcount lab-model evaluate`.
 */
export function labModelScoresBelowBase(v: { lab: { macroF1: number }; base: { macroF1: number } }): boolean {
  return v.lab.macroF1 < v.base.macroF1;
}

/** The warning, in words, wherever a lab model that scores below its base model is shown. */
export function labModelBelowBaseWarning(v: { lab: { macroF1: number }; base: { macroF1: number } }): string {
  return (
    `On the held-out cases the lab model scores below the base model (macro-F1 ${v.lab.macroF1.toFixed(3)} against ${v.base.macroF1.toFixed(3)}): ` +
    'cases analysed with it would be classified worse than with the base model.'
  );
}
/** Share of the cells aimed at for each of the test and calibration folds (whole cases, so only roughly). */
export const HELD_OUT_SHARE = 0.2;

export type Fold = 'train' | 'calibration' | 'test';

export interface LabCell {
  caseKey: string;
  label: CellClassCode;
  embedding: ArrayLike<number>;
  /** The base model's open-set distance of the cell; null when its package has no open-set statistics. */
  openSetScore: number | null;
  basePredicted: CellClassCode;
  baseConfidence: number;
  /** The base model's stored (calibrated) probabilities of the cell, in LabTrainingInput.baseClasses order. */
  baseProbabilities: ArrayLike<number>;
}

export interface CaseFold {
  caseKey: string;
  cells: number;
  fold: Fold;
}

/** FNV-1a of seed + key: a stable order of cases that does not follow accession numbers (and so not time). */
function caseHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Deals whole cases into test, calibration and train folds (see the top of the file). Needs three cases. */
export function splitByCase(cellsPerCase: ReadonlyMap<string, number>, seed = 1): CaseFold[] {
  const cases = [...cellsPerCase.entries()].sort((a, b) => caseHash(a[0], seed) - caseHash(b[0], seed) || (a[0] < b[0] ? -1 : 1));
  const total = cases.reduce((a, [, n]) => a + n, 0);
  const folds: CaseFold[] = [];
  let test = 0;
  let calibration = 0;
  cases.forEach(([caseKey, cells], i) => {
    const left = cases.length - i;
    let fold: Fold;
    if (test === 0 || (test < HELD_OUT_SHARE * total && left > 2)) fold = 'test';
    else if (calibration === 0 || (calibration < HELD_OUT_SHARE * total && left > 1)) fold = 'calibration';
    else fold = 'train';
    if (fold === 'test') test += cells;
    else if (fold === 'calibration') calibration += cells;
    folds.push({ caseKey, cells, fold });
  });
  return folds;
}

export interface ClassSupport {
  code: CellClassCode;
  train: number;
  calibration: number;
  test: number;
  /** Learned by the lab model: at least the minimum of reviewed cells in the training fold. */
  learned: boolean;
}

export interface CalibrationFigures {
  temperature: number;
  /** Calibration cells the temperature was fitted on. */
  fittedOnCells: number;
  /** On the test fold: ECE of the lab model before and after the temperature, and of the base model as it ships. */
  eceBefore: number;
  eceAfter: number;
  baseEce: number;
  nllBefore: number;
  nllAfter: number;
}

export interface OpenSetFigures {
  threshold: number;
  /** Test cells whose base open-set distance is above the threshold (they are flagged under either model). */
  flaggedShare: number;
  /** Among the test cells the lab model gets wrong / right: the share the open-set flag catches. */
  flaggedShareOfLabErrors: number | null;
  flaggedShareOfLabCorrect: number | null;
}

export interface LabValidation {
  formatVersion: 1;
  minimumPerClass: number;
  folds: CaseFold[];
  classes: ClassSupport[];
  /**
   * Test-fold cells of classes the lab model does not learn: it cannot call them right; they are in no class's recall
   * but count against the precision of the class they were called (last row of the confusion matrices).
   */
  testCellsOfUnlearnedClasses: number;
  /** Both over the lab model's classes, on the same test cells. */
  lab: ClassificationMetrics;
  base: ClassificationMetrics;
  calibration: CalibrationFigures;
  openSet: OpenSetFigures | null;
  training: HeadTrainingOptions & { cells: number; seconds: number };
}

export interface LabTrainingInput {
  cells: readonly LabCell[];
  /** The base model's classes, in the order of every cell's baseProbabilities. */
  baseClasses: readonly CellClassCode[];
  minimumPerClass?: number;
  options?: Partial<HeadTrainingOptions>;
  /** The base package's open-set threshold; null when it has no open-set statistics. */
  openSetThreshold: number | null;
  splitSeed?: number;
}

export interface LabTrainingResult {
  head: LabHead;
  validation: LabValidation;
}

/** Why a lab model cannot be trained from these cells: thrown before any training starts. */
export class LabTrainingRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabTrainingRefused';
  }
}

const argmax = (values: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
};

export interface LabTrainingPlan {
  folds: CaseFold[];
  foldOf: Map<string, Fold>;
  classes: ClassSupport[];
  /** The classes the head will learn, in its logit order. */
  learned: CellClassCode[];
  minimumPerClass: number;
}

/**
 * The folds and the classes that will be learned, or LabTrainingRefused saying what is missing. Cheap: the service
 * calls it before it starts a worker, so a refusal is immediate and nothing is stored.
 */
export function planLabTraining(
  cells: readonly Pick<LabCell, 'caseKey' | 'label'>[],
  minimumPerClass = DEFAULT_MINIMUM_PER_CLASS,
  splitSeed = 1,
): LabTrainingPlan {
  const perCase = new Map<string, number>();
  for (const cell of cells) perCase.set(cell.caseKey, (perCase.get(cell.caseKey) ?? 0) + 1);
  if (perCase.size < 3) {
    throw new LabTrainingRefused(
      `A lab model needs reviewed cells of at least 3 signed cases (to train, calibrate and test on different cases); ` +
        `there ${perCase.size === 1 ? 'is' : 'are'} ${perCase.size}. Review and sign more cases.`,
    );
  }
  const folds = splitByCase(perCase, splitSeed);
  const foldOf = new Map(folds.map((f) => [f.caseKey, f.fold]));
  const support = new Map<CellClassCode, ClassSupport>();
  for (const cell of cells) {
    let s = support.get(cell.label);
    if (!s) support.set(cell.label, (s = { code: cell.label, train: 0, calibration: 0, test: 0, learned: false }));
    s[foldOf.get(cell.caseKey)!]++;
  }
  const classes = [...support.values()].sort((a, b) => (a.code < b.code ? -1 : 1));
  for (const s of classes) s.learned = s.train >= minimumPerClass;
  const learned = classes.filter((s) => s.learned).map((s) => s.code);
  if (learned.length < 2) {
    throw new LabTrainingRefused(
      `Too few reviewed cells: a class needs at least ${minimumPerClass} reviewed cells in the training cases to be learned, and at least ` +
        `two classes must reach it; ${learned.length === 0 ? 'none does' : `only ${learned[0]} does`} (training-fold cells per class: ` +
        `${classes.map((s) => `${s.code} ${s.train}`).join(', ')}).`,
    );
  }
  return { folds, foldOf, classes, learned, minimumPerClass };
}

/** Trains a head on the train fold, fits its temperature on the calibration fold, and validates it on the test fold. */
export function trainAndValidate(input: LabTrainingInput, onProgress?: HeadProgress, isCancelled?: () => boolean): LabTrainingResult {
  const started = Date.now();
  const cells = input.cells;
  const plan = planLabTraining(cells, input.minimumPerClass ?? DEFAULT_MINIMUM_PER_CLASS, input.splitSeed ?? 1);
  const { folds, foldOf, learned: classes } = plan;
  const classSupport = plan.classes;
  const minimum = plan.minimumPerClass;
  const index = new Map(classes.map((c, i) => [c, i]));
  const dim = cells[0]!.embedding.length;
  const byFold = (fold: Fold): LabCell[] => cells.filter((c) => foldOf.get(c.caseKey) === fold && index.has(c.label));
  const train = byFold('train');
  const calibration = byFold('calibration');
  const testAll = cells.filter((c) => foldOf.get(c.caseKey) === 'test');
  const test = testAll.filter((c) => index.has(c.label));

  const features = new Float32Array(train.length * dim);
  train.forEach((c, i) => {
    if (c.embedding.length !== dim) throw new LabTrainingRefused(`Reviewed cells have embeddings of different sizes (${dim} and ${c.embedding.length}).`);
    features.set(c.embedding, i * dim);
  });
  const labels = Int32Array.from(train, (c) => index.get(c.label)!);
  const options = { ...DEFAULT_HEAD_TRAINING, ...input.options };
  const priorOf = (c: LabCell): Float32Array => basePrior(classes, input.baseClasses, c.baseProbabilities);
  const prior = new Float32Array(train.length * classes.length);
  train.forEach((c, i) => prior.set(priorOf(c), i * classes.length));
  const newClasses = classes.map((c) => !input.baseClasses.includes(c));
  const head = trainHead({ features, labels, dim, classes, prior, newClasses }, options, onProgress, isCancelled);

  const calLogits = calibration.map((c) => headLogits(head, c.embedding, priorOf(c)));
  const calLabels = calibration.map((c) => index.get(c.label)!);
  head.temperature = fitTemperature(calLogits, calLabels);

  const testLogits = test.map((c) => headLogits(head, c.embedding, priorOf(c)));
  const testLabels = test.map((c) => index.get(c.label)!);
  const truth = test.map((c) => c.label);
  const labPredicted = testLogits.map((l) => classes[argmax(l)]!);
  // Precision over every test cell: the lab model calls a cell of a class it did not learn one of its own classes,
  // and that must count against it (and the base model's calls of those cells against the base model).
  const allTruth = testAll.map((c) => c.label);
  const lab = classificationMetrics(
    allTruth,
    testAll.map((c) => classes[argmax(headLogits(head, c.embedding, priorOf(c)))]!),
    classes,
    { outsideTruth: 'count' },
  );
  const base = classificationMetrics(
    allTruth,
    testAll.map((c) => c.basePredicted),
    classes,
    { outsideTruth: 'count' },
  );
  const correct = labPredicted.map((p, i) => p === truth[i]);
  const confidence = (t: number) => testLogits.map((l) => Math.max(...softmaxWithTemperature(l, t)));
  const calibrationFigures: CalibrationFigures = {
    temperature: head.temperature,
    fittedOnCells: calibration.length,
    eceBefore: expectedCalibrationError(confidence(1), correct),
    eceAfter: expectedCalibrationError(confidence(head.temperature), correct),
    baseEce: expectedCalibrationError(
      test.map((c) => c.baseConfidence),
      test.map((c) => c.basePredicted === c.label),
    ),
    nllBefore: meanNll(testLogits, testLabels, 1),
    nllAfter: meanNll(testLogits, testLabels, head.temperature),
  };

  let openSet: OpenSetFigures | null = null;
  const threshold = input.openSetThreshold;
  if (threshold !== null && test.length > 0 && test.every((c) => c.openSetScore !== null)) {
    const flagged = test.map((c) => c.openSetScore! > threshold);
    const share = (pick: (i: number) => boolean): number | null => {
      const idx = flagged.map((_, i) => i).filter(pick);
      return idx.length === 0 ? null : idx.filter((i) => flagged[i]).length / idx.length;
    };
    openSet = {
      threshold,
      flaggedShare: flagged.filter(Boolean).length / flagged.length,
      flaggedShareOfLabErrors: share((i) => !correct[i]),
      flaggedShareOfLabCorrect: share((i) => correct[i]!),
    };
  }

  return {
    head,
    validation: {
      formatVersion: 1,
      minimumPerClass: minimum,
      folds,
      classes: classSupport,
      testCellsOfUnlearnedClasses: testAll.length - test.length,
      lab,
      base,
      calibration: calibrationFigures,
      openSet,
      training: { ...options, cells: train.length, seconds: (Date.now() - started) / 1000 },
    },
  };
}
