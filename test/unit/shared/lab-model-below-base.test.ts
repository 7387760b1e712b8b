import { describe, expect, it } from 'vitest';
import { labModelBelowBaseWarning, labModelScoresBelowBase } from '../../../src/shared/lab-training';

describe('the "lab model scores below the base model" rule', () => {
  it('holds only when the lab macro-F1 is lower than the base macro-F1', () => {
    expect(labModelScoresBelowBase({ lab: { macroF1: 0.7 }, base: { macroF1: 0.8 } })).toBe(true);
    expect(labModelScoresBelowBase({ lab: { macroF1: 0.8 }, base: { macroF1: 0.8 } })).toBe(false);
    expect(labModelScoresBelowBase({ lab: { macroF1: 0.9 }, base: { macroF1: 0.8 } })).toBe(false);
  });

  it('says both figures in the warning', () => {
    expect(labModelBelowBaseWarning({ lab: { macroF1: 0.7 }, base: { macroF1: 0.8125 } })).toContain('macro-F1 0.700 against 0.813');
  });
});
