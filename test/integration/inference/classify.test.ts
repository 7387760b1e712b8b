import { flagReasonText } from '../../../src/shared/flag-reasons';
import { describe, expect, it } from 'vitest';
import { OPEN_SET_REASON, flagReasons, predictionFromScores, softmaxWithTemperature, topK } from '../../../src/main/inference/classify';
import type { FlaggingPolicy } from '../../../src/main/inference/model-manifest';

const policy: FlaggingPolicy = { minConfidence: 0.6, minMargin: 0.15, alwaysReview: ['BLA', 'FGC', 'ABE', 'HAC', 'LYI', 'OTH'] };
const manifest = {
  classes: ['ART', 'BLA', 'LYT'] as ('ART' | 'BLA' | 'LYT')[],
  calibration: { temperature: 1 },
  output: { name: 'logits', type: 'logits' as const },
};

describe('softmax with temperature', () => {
  it('matches the hand-computed softmax at T = 1', () => {
    // e^2, e^1, e^0 = 7.3891, 2.7183, 1; sum 11.1073.
    const p = softmaxWithTemperature([2, 1, 0], 1);
    expect(p[0]).toBeCloseTo(0.66524, 4);
    expect(p[1]).toBeCloseTo(0.24473, 4);
    expect(p[2]).toBeCloseTo(0.09003, 4);
  });

  it('divides the logits by the temperature, softening the distribution', () => {
    // T = 2: e^1, e^0.5, e^0 = 2.7183, 1.6487, 1; sum 5.3670.
    const p = softmaxWithTemperature([2, 1, 0], 2);
    expect(p[0]).toBeCloseTo(0.50648, 4);
    expect(p[1]).toBeCloseTo(0.3072, 4);
  });

  it('does not overflow on large logits', () => {
    const p = softmaxWithTemperature([1000, 999], 1);
    expect(p[0]).toBeCloseTo(0.73106, 4);
  });

  it('orders the top classes, ties by class order', () => {
    expect(topK([0.1, 0.4, 0.4, 0.1], 2)).toEqual([1, 2]);
  });
});

describe('flagging', () => {
  it('flags low confidence, a narrow margin and rare weighty classes, with the reason for each', () => {
    expect(flagReasons('LYT', 0.42, 0.05, policy).map(flagReasonText)).toEqual(['low confidence 0.42 < 0.60', 'margin 0.05 < 0.15']);
    expect(flagReasons('BLA', 0.97, 0.95, policy).map(flagReasonText)).toEqual(['rare class BLA']);
    expect(flagReasons('LYT', 0.97, 0.95, policy)).toEqual([]);
  });

  it('stores calibrated probabilities in the model class order and flags from them', () => {
    const prediction = predictionFromScores([0, 2, 1], manifest, policy);
    expect(prediction.predicted).toBe('BLA');
    expect(prediction.probabilities[1]).toBeCloseTo(0.66524, 4);
    expect(prediction.confidence).toBeCloseTo(0.66524, 4);
    expect(prediction.margin).toBeCloseTo(0.66524 - 0.24473, 4);
    expect(prediction.flagged).toBe(true);
    expect(prediction.flagReasons).toEqual([{ kind: 'rare_class', detail: 'BLA' }]);
  });

  it('flags every prediction of a provisional class, saying why, however confident', () => {
    const provisional = { classes: ['LYT' as const], reason: 'learned from peripheral-blood images only' };
    expect(flagReasons('LYT', 0.99, 0.98, policy, provisional).map(flagReasonText)).toEqual([
      'provisional class LYT (learned from peripheral-blood images only)',
    ]);
    expect(flagReasons('ART', 0.99, 0.98, policy, provisional)).toEqual([]);
    const prediction = predictionFromScores([0, 0, 9], { ...manifest, provisional }, policy);
    expect(prediction.flagged).toBe(true);
  });

  it('flags a cell whose embedding is farther than the threshold from every learned class, and only then', () => {
    const far = flagReasons('ART', 0.99, 0.98, policy, undefined, { distance: 21.04, threshold: 13.27 });
    expect(far).toEqual([{ kind: 'open_set', detail: 'open-set distance 21.0 > 13.3' }]);
    expect(far.map(flagReasonText)).toEqual([`${OPEN_SET_REASON} (open-set distance 21.0 > 13.3)`]);
    expect(flagReasonText(far[0]!)).toContain('unlike any cell type this model has learned — check for a type it cannot classify');
    expect(flagReasons('ART', 0.99, 0.98, policy, undefined, { distance: 13.27, threshold: 13.27 })).toEqual([]);
    expect(predictionFromScores([9, 0, 0], manifest, policy, { distance: 30, threshold: 13 }).flagged).toBe(true);
  });

  it('follows a lab policy that does not always review blasts', () => {
    const prediction = predictionFromScores([0, 5, 0], manifest, { ...policy, alwaysReview: [] });
    expect(prediction.flagged).toBe(false);
  });
});
