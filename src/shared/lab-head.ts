// The lab model's head (issue 14): multinomial logistic regression on the base model's per-cell embeddings,
// trained from the lab's own reviewed cells. Pure TypeScript (no Node, no DOM) so that the same code trains in the
// main process's worker thread, runs in the benchmark, and is unit-tested on its own.
//
// Why this model: the embedding is what the base network's last layer already reads, so a linear softmax on it is
// the smallest change that can learn the lab's stain and new classes; it is convex (one optimum whatever the start,
// so training is reproducible), needs seconds on two cores for 50,000 cells, and cannot memorise a case.
// - Features are standardised with the training cells' per-feature mean and standard deviation, stored in the head.
// - Class weights n / (K * n_c): every class counts equally in the loss however few of its cells were reviewed, so a
//   rare class is not drowned by the neutrophils.
// - L2 on the weights (not the biases) against overfitting the few hundred cells of a small class.
// - Mini-batch Adam with a seeded shuffle: the same cells and options always give the same head.
// - Temperature scaling (Guo et al. 2017) fitted afterwards on cells of other cases than the training ones.
import { isCellClassCode, type CellClassCode } from './cell-classes';
import { mulberry32 } from './seeded-random';
import { softmaxWithTemperature } from './softmax';

export interface LabHead {
  formatVersion: 1;
  /** The head's output classes, in logit order. */
  classes: CellClassCode[];
  dim: number;
  /** Per-feature standardisation fitted on the training cells. */
  mean: number[];
  std: number[];
  /** classes.length x dim, row-major. */
  weights: number[];
  bias: number[];
  /** Fitted on a calibration fold of cases that were not trained on; 1 until fitted. */
  temperature: number;
  /**
   * True: the head is a correction of the base model. Its logits are the base model's log-probabilities of the
   * head's classes (basePrior) plus W z + b, and the L2 pulls W towards 0, i.e. towards the base model's own answer:
   * with few reviewed cells it stays near the base model, with more it moves as far as they show.
   */
  residual: boolean;
}

export interface HeadTrainingOptions {
  /**
   * L2 penalty on the weights (per cell, on standardised features). For a residual head it is the pull towards the
   * base model's answer, for the classes the base model outputs.
   */
  l2: number;
  /** L2 of a residual head's classes the base model does not output: nothing to stay near, so only against overfitting. */
  l2NewClass: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/**
 * Chosen with scripts/bench-lab-model.ts (marrow embeddings of the bundled model, simulated lab; 2026-12-04):
 * - l2 1: a residual head with 40 reviewed cells per class, tested on other cases of the validation split, reached
 *   macro-F1 0.815 / 0.824 / 0.845 with l2 1e-3 / 0.1 / 1 (10 epochs, 3 seeds; base model 0.854 on those cells):
 *   the stronger the pull towards the base model, the less the head loses on classes the base model knows well.
 * - l2NewClass 1e-3 and 30 epochs: a class the base model lacks must be learned from its cells alone; PMO F1 after
 *   200 reviewed examples was 0.528 at 10 epochs, 0.548 at 30 (5 seeds), 0.535 at 60 (2 seeds).
 */
export const DEFAULT_HEAD_TRAINING: HeadTrainingOptions = { l2: 1, l2NewClass: 1e-3, epochs: 30, batchSize: 256, learningRate: 0.01, seed: 1 };

export interface TrainingSet {
  /** n x dim, row-major. */
  features: Float32Array;
  /** Index into `classes` of each cell's label. */
  labels: Int32Array;
  dim: number;
  classes: CellClassCode[];
  /** n x classes: the base model's prior (basePrior) of each cell; trains a residual head when given. */
  prior?: Float32Array;
  /** With a prior: true for the classes the base model does not output (they take l2NewClass). */
  newClasses?: readonly boolean[];
}

/** Floor of a base probability before its log is taken: keeps a class the base model rules out within reach. */
const PRIOR_FLOOR = 1e-4;

/**
 * The base model's log-probabilities of the head's classes, for a residual head. A class the base model does not
 * output gets log(1 / K) (no opinion), so that a class new to the lab starts level and is learned from its cells.
 */
export function basePrior(headClasses: readonly CellClassCode[], baseClasses: readonly CellClassCode[], baseProbabilities: ArrayLike<number>): Float32Array {
  const out = new Float32Array(headClasses.length);
  const neutral = Math.log(1 / headClasses.length);
  headClasses.forEach((code, c) => {
    const b = baseClasses.indexOf(code);
    out[c] = b < 0 ? neutral : Math.log(Math.max(PRIOR_FLOOR, baseProbabilities[b]!));
  });
  return out;
}

/** Fraction done (0..1) of the training; called once per epoch. */
export type HeadProgress = (fraction: number) => void;

export class HeadTrainingCancelled extends Error {
  constructor() {
    super('Training of the lab model was cancelled.');
    this.name = 'HeadTrainingCancelled';
  }
}

function checkSet(set: TrainingSet): number {
  const n = set.labels.length;
  if (set.dim < 1 || set.features.length !== n * set.dim) {
    throw new Error(`The training set holds ${set.features.length} feature values for ${n} cells of dimension ${set.dim}.`);
  }
  if (set.classes.length < 2) throw new Error('A head needs at least two classes.');
  for (let i = 0; i < n; i++) {
    const label = set.labels[i]!;
    if (label < 0 || label >= set.classes.length) throw new Error(`Cell ${i} has label index ${label}, outside the ${set.classes.length} classes.`);
  }
  return n;
}

/**
 * Trains the head. Throws HeadTrainingCancelled when isCancelled() turns true (checked every mini-batch), so a
 * cancel takes effect within one batch.
 */
export function trainHead(set: TrainingSet, options: Partial<HeadTrainingOptions> = {}, onProgress?: HeadProgress, isCancelled?: () => boolean): LabHead {
  const opt: HeadTrainingOptions = { ...DEFAULT_HEAD_TRAINING, ...options };
  const n = checkSet(set);
  const { dim, classes } = set;
  const k = classes.length;
  const x = set.features;
  const prior = set.prior;
  if (prior !== undefined && prior.length !== n * k) throw new Error(`The prior holds ${prior.length} values for ${n} cells of ${k} classes.`);

  // Standardisation; a constant feature gets std 1 so that it contributes nothing and divides by nothing.
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += x[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= Math.max(1, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const d = x[i * dim + j]! - mean[j]!;
      std[j]! += d * d;
    }
  }
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(std[j]! / Math.max(1, n));
    std[j] = s > 1e-8 ? s : 1;
  }
  const z = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) z[i * dim + j] = (x[i * dim + j]! - mean[j]!) / std[j]!;

  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) counts[set.labels[i]!]! += 1;
  const present = counts.filter((c) => c > 0).length;
  const classWeight = Float64Array.from(counts, (c) => (c > 0 ? n / (present * c) : 0));

  const w = new Float64Array(k * dim);
  const b = new Float64Array(k);
  const mW = new Float64Array(k * dim);
  const vW = new Float64Array(k * dim);
  const mB = new Float64Array(k);
  const vB = new Float64Array(k);
  const gW = new Float64Array(k * dim);
  const gB = new Float64Array(k);
  const logits = new Float64Array(k);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;

  const l2Of = Float64Array.from(classes, (_, c) => (prior !== undefined && set.newClasses?.[c] === true ? opt.l2NewClass : opt.l2));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(opt.seed);
  const batchSize = Math.max(1, Math.floor(opt.batchSize));

  for (let epoch = 0; epoch < opt.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const r = Math.floor(random() * (i + 1));
      const t = order[i]!;
      order[i] = order[r]!;
      order[r] = t;
    }
    for (let start = 0; start < n; start += batchSize) {
      if (isCancelled?.() === true) throw new HeadTrainingCancelled();
      const end = Math.min(n, start + batchSize);
      gW.fill(0);
      gB.fill(0);
      let weightSum = 0;
      for (let p = start; p < end; p++) {
        const i = order[p]!;
        const label = set.labels[i]!;
        const cw = classWeight[label]!;
        weightSum += cw;
        const row = i * dim;
        let max = -Infinity;
        for (let c = 0; c < k; c++) {
          let s = b[c]! + (prior === undefined ? 0 : prior[i * k + c]!);
          const wr = c * dim;
          for (let j = 0; j < dim; j++) s += w[wr + j]! * z[row + j]!;
          logits[c] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let c = 0; c < k; c++) {
          const e = Math.exp(logits[c]! - max);
          logits[c] = e;
          sum += e;
        }
        for (let c = 0; c < k; c++) {
          const g = cw * (logits[c]! / sum - (c === label ? 1 : 0));
          if (g === 0) continue;
          gB[c]! += g;
          const wr = c * dim;
          for (let j = 0; j < dim; j++) gW[wr + j]! += g * z[row + j]!;
        }
      }
      const scale = 1 / Math.max(1e-12, weightSum);
      step++;
      const lr = (opt.learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
      for (let q = 0; q < k * dim; q++) {
        const g = gW[q]! * scale + l2Of[Math.floor(q / dim)]! * w[q]!;
        mW[q] = beta1 * mW[q]! + (1 - beta1) * g;
        vW[q] = beta2 * vW[q]! + (1 - beta2) * g * g;
        w[q]! -= (lr * mW[q]!) / (Math.sqrt(vW[q]!) + eps);
      }
      for (let c = 0; c < k; c++) {
        const g = gB[c]! * scale;
        mB[c] = beta1 * mB[c]! + (1 - beta1) * g;
        vB[c] = beta2 * vB[c]! + (1 - beta2) * g * g;
        b[c]! -= (lr * mB[c]!) / (Math.sqrt(vB[c]!) + eps);
      }
    }
    onProgress?.((epoch + 1) / opt.epochs);
  }
  return {
    formatVersion: 1,
    classes: [...classes],
    dim,
    mean: Array.from(mean),
    std: Array.from(std),
    weights: Array.from(w),
    bias: Array.from(b),
    temperature: 1,
    residual: prior !== undefined,
  };
}

/** The head's raw logits for one embedding (and, for a residual head, the base model's prior of the cell). */
export function headLogits(head: LabHead, embedding: ArrayLike<number>, prior?: ArrayLike<number>): Float64Array {
  const k = head.classes.length;
  if (head.residual && prior === undefined) throw new Error("A residual lab-model head needs the base model's probabilities of the cell.");
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = head.bias[c]! + (head.residual ? prior![c]! : 0);
    const wr = c * head.dim;
    for (let j = 0; j < head.dim; j++) s += head.weights[wr + j]! * ((embedding[j]! - head.mean[j]!) / head.std[j]!);
    out[c] = s;
  }
  return out;
}

/** Calibrated probabilities over head.classes. */
export function headProbabilities(head: LabHead, embedding: ArrayLike<number>, prior?: ArrayLike<number>): number[] {
  return softmaxWithTemperature(headLogits(head, embedding, prior), head.temperature);
}

/** Temperatures tried by fitTemperature: 0.25 to 5 in steps of 0.05 (finer than the NLL curve's width near its minimum). */
const TEMPERATURE_GRID = Array.from({ length: 96 }, (_, i) => Math.round((0.25 + i * 0.05) * 100) / 100);

/** Mean negative log-likelihood of the true labels at a temperature. */
export function meanNll(logits: readonly ArrayLike<number>[], labels: readonly number[], temperature: number): number {
  let total = 0;
  logits.forEach((row, i) => {
    const p = softmaxWithTemperature(row, temperature)[labels[i]!]!;
    total -= Math.log(Math.max(p, 1e-12));
  });
  return total / Math.max(1, logits.length);
}

/** The temperature of the grid with the lowest NLL on the calibration cells; 1 when there are none. */
export function fitTemperature(logits: readonly ArrayLike<number>[], labels: readonly number[]): number {
  if (logits.length === 0) return 1;
  let best = 1;
  let bestNll = meanNll(logits, labels, 1);
  for (const t of TEMPERATURE_GRID) {
    const nll = meanNll(logits, labels, t);
    if (nll < bestNll - 1e-12) {
      best = t;
      bestNll = nll;
    }
  }
  return best;
}

/** Expected calibration error over 10 equal-width confidence bins (Guo et al. 2017). */
export function expectedCalibrationError(confidences: readonly number[], correct: readonly boolean[], bins = 10): number {
  const n = confidences.length;
  if (n === 0) return 0;
  const sumConf = new Float64Array(bins);
  const sumAcc = new Float64Array(bins);
  const count = new Float64Array(bins);
  confidences.forEach((c, i) => {
    const bin = Math.min(bins - 1, Math.floor(c * bins));
    sumConf[bin]! += c;
    sumAcc[bin]! += correct[i] ? 1 : 0;
    count[bin]! += 1;
  });
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += (count[b]! / n) * Math.abs(sumAcc[b]! / count[b]! - sumConf[b]! / count[b]!);
  return ece;
}

export interface ClassMetrics {
  code: CellClassCode;
  /** Held-out cells whose true label is this class. */
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationMetrics {
  /** The classes the metrics are over (rows and columns of the confusion matrix), in this order. */
  classes: CellClassCode[];
  perClass: ClassMetrics[];
  /** Mean F1 over the classes with support > 0. */
  macroF1: number;
  accuracy: number;
  /**
   * confusion[t][p]: cells of true class t predicted as p; a prediction outside `classes` is in the last column,
   * "other"; with outsideTruth 'count', a last row holds the cells whose true class is outside `classes`.
   */
  confusion: number[][];
  /** Cells whose true class is one of `classes`. */
  cells: number;
}

/**
 * Per-class precision / recall / F1 of predictions against true labels, over `classes`. A prediction outside
 * `classes` counts as wrong (the "other" column). A true label outside them is not in any class's support or recall;
 * with `outsideTruth: 'count'` such cells form a last "other" row and count against the precision of the class they
 * were called, because a model that cannot output their class still calls them something (the lab model's case).
 */
export function classificationMetrics(
  truth: readonly CellClassCode[],
  predicted: readonly CellClassCode[],
  classes: readonly CellClassCode[],
  options: { outsideTruth?: 'ignore' | 'count' } = {},
): ClassificationMetrics {
  const index = new Map(classes.map((c, i) => [c, i]));
  const k = classes.length;
  const countOutside = options.outsideTruth === 'count';
  const confusion = Array.from({ length: countOutside ? k + 1 : k }, () => new Array<number>(k + 1).fill(0));
  let cells = 0;
  let correct = 0;
  truth.forEach((t, i) => {
    const ti = index.get(t) ?? (countOutside ? k : undefined);
    if (ti === undefined) return;
    const pi = index.get(predicted[i]!) ?? k;
    confusion[ti]![pi]! += 1;
    if (ti === k) return;
    cells++;
    if (pi === ti) correct++;
  });
  const perClass = classes.map((code, c): ClassMetrics => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, v) => a + v, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { code, support, precision, recall, f1 };
  });
  const supported = perClass.filter((m) => m.support > 0);
  const macroF1 = supported.length === 0 ? 0 : supported.reduce((a, m) => a + m.f1, 0) / supported.length;
  return { classes: [...classes], perClass, macroF1, accuracy: cells === 0 ? 0 : correct / cells, confusion, cells };
}

/** Checks parsed JSON is a usable head; returns the first problem as "field: what is wrong", or null. */
export function headProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return '(root): must be an object';
  const h = value as Record<string, unknown>;
  if (h['formatVersion'] !== 1) return 'formatVersion: must be 1';
  const classes = h['classes'];
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every(isCellClassCode) || new Set(classes).size !== classes.length) {
    return 'classes: must be at least two distinct Matek cell class codes';
  }
  const dim = h['dim'];
  if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 1) return 'dim: must be a positive whole number';
  const finite = (field: string, length: number): string | null => {
    const v = h[field];
    return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x))
      ? null
      : `${field}: must be ${length} finite numbers`;
  };
  const problem = finite('mean', dim) ?? finite('std', dim) ?? finite('weights', classes.length * dim) ?? finite('bias', classes.length);
  if (problem) return problem;
  if ((h['std'] as number[]).some((s) => s <= 0)) return 'std: every value must be positive';
  const t = h['temperature'];
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) return 'temperature: must be a positive number';
  if (typeof h['residual'] !== 'boolean') return 'residual: must be true or false';
  return null;
}
