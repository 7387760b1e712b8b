// From the model's scores to a stored prediction: calibrated probabilities, the predicted class, and whether a
// person must look at the cell, with the reasons written out so the reviewer (and an auditor) sees why.
import type { CellClassCode } from '../../shared/cell-classes';
import { OPEN_SET_REASON, type FlagReason } from '../../shared/flag-reasons';
import { softmaxWithTemperature } from '../../shared/softmax';
import type { FlaggingPolicy, ModelManifest, ProvisionalClasses } from './model-manifest';

export interface CellPrediction {
  predicted: CellClassCode;
  /** Calibrated probabilities in the model's class order (manifest.classes). */
  probabilities: number[];
  /** Calibrated probability of the predicted class. */
  confidence: number;
  /** Probability of the predicted class minus that of the runner-up. */
  margin: number;
  flagged: boolean;
  flagReasons: FlagReason[];
}

/** What the embedding says about a cell, when the package has an open-set model (open-set.ts). */
export interface OpenSetResult {
  distance: number;
  threshold: number;
}

export { OPEN_SET_REASON, softmaxWithTemperature };

/** Indices of the k largest values, largest first; ties keep the lower index (the model's class order). */
export function topK(values: readonly number[], k: number): number[] {
  return values
    .map((value, index) => ({ value, index }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, k)
    .map((entry) => entry.index);
}

const twoDecimals = (value: number): string => value.toFixed(2);

/** Why a prediction needs a person; empty when it does not. */
export function flagReasons(
  predicted: CellClassCode,
  confidence: number,
  margin: number,
  policy: FlaggingPolicy,
  provisional: ProvisionalClasses = { classes: [], reason: '' },
  openSet: OpenSetResult | null = null,
): FlagReason[] {
  const reasons: FlagReason[] = [];
  if (openSet !== null && openSet.distance > openSet.threshold) {
    reasons.push({ kind: 'open_set', detail: `open-set distance ${openSet.distance.toFixed(1)} > ${openSet.threshold.toFixed(1)}` });
  }
  if (provisional.classes.includes(predicted)) reasons.push({ kind: 'provisional', detail: `${predicted} (${provisional.reason})` });
  if (confidence < policy.minConfidence) {
    reasons.push({ kind: 'low_confidence', detail: `${twoDecimals(confidence)} < ${twoDecimals(policy.minConfidence)}` });
  }
  if (margin < policy.minMargin) {
    reasons.push({ kind: 'margin', detail: `${twoDecimals(margin)} < ${twoDecimals(policy.minMargin)}` });
  }
  if (policy.alwaysReview.includes(predicted)) reasons.push({ kind: 'rare_class', detail: predicted });
  return reasons;
}

/**
 * Calibrated probabilities → the prediction: the top class, its confidence and margin over the runner-up, and the
 * flag reasons. The one rule, for the base model's scores (predictionFromScores) and a lab model's head alike.
 */
export function predictionFromProbabilities(
  probabilities: number[],
  classes: readonly CellClassCode[],
  policy: FlaggingPolicy,
  provisional: ProvisionalClasses = { classes: [], reason: '' },
  openSet: OpenSetResult | null = null,
): CellPrediction {
  const [first, second] = topK(probabilities, 2);
  const predicted = classes[first!]!;
  const confidence = probabilities[first!]!;
  const margin = second === undefined ? confidence : confidence - probabilities[second]!;
  const reasons = flagReasons(predicted, confidence, margin, policy, provisional, openSet);
  return { predicted, probabilities, confidence, margin, flagged: reasons.length > 0, flagReasons: reasons };
}

/** One cell's scores (a row of the output tensor) → its prediction. */
export function predictionFromScores(
  scores: ArrayLike<number>,
  manifest: Pick<ModelManifest, 'classes' | 'calibration' | 'output'> & Partial<Pick<ModelManifest, 'provisional'>>,
  policy: FlaggingPolicy,
  openSet: OpenSetResult | null = null,
): CellPrediction {
  const probabilities = manifest.output.type === 'logits' ? softmaxWithTemperature(scores, manifest.calibration.temperature) : Array.from(scores);
  return predictionFromProbabilities(probabilities, manifest.classes, policy, manifest.provisional, openSet);
}
