import { describe, expect, it } from 'vitest';
import { StatisticsInputError, Z_95, wilsonInterval } from '../../../src/shared/statistics';

// Wilson score interval: centre = (p + z²/2n) / (1 + z²/n),
// half-width = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²), with z = 1.959964 (z² = 3.841459).

describe('wilsonInterval', () => {
  it('gives 5.52%–17.44% for 10 of 100 (textbook example)', () => {
    // p = 0.1; 1 + z²/n = 1.0384146; centre = (0.1 + 0.0192073)/1.0384146 = 0.1148002
    // half = 1.959964/1.0384146 · √(0.0009 + 0.0000960) = 1.887458 · 0.0315600 = 0.0595682
    // → 0.0552320 – 0.1743684
    const { lower, upper } = wilsonInterval(10, 100);
    expect(lower).toBeCloseTo(0.05523, 4);
    expect(upper).toBeCloseTo(0.17437, 4);
  });

  it('matches the Wilson score intervals published by Newcombe (Stat Med 1998;17:857-872, method 3)', () => {
    const published: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0.0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [successes, trials, lower, upper] of published) {
      const interval = wilsonInterval(successes, trials);
      expect(interval.lower).toBeCloseTo(lower, 4);
      expect(interval.upper).toBeCloseTo(upper, 4);
    }
  });

  it('has a lower bound of exactly 0 with no successes and an upper bound of exactly 1 with all successes', () => {
    // 0 of 10: upper = z²/(n + z²) = 3.841459/13.841459 = 0.2775328
    expect(wilsonInterval(0, 10)).toEqual({ lower: 0, upper: expect.closeTo(0.277533, 5) as number });
    // 10 of 10 mirrors 0 of 10: lower = 1 − 0.2775328
    expect(wilsonInterval(10, 10)).toEqual({ lower: expect.closeTo(0.722467, 5) as number, upper: 1 });
  });

  it('uses the 95% normal quantile by default and narrows with a smaller z', () => {
    expect(Z_95).toBeCloseTo(1.959964, 6);
    const ninety = wilsonInterval(10, 100, 1.6448536269514722);
    const ninetyFive = wilsonInterval(10, 100);
    expect(ninety.lower).toBeGreaterThan(ninetyFive.lower);
    expect(ninety.upper).toBeLessThan(ninetyFive.upper);
  });

  it('throws StatisticsInputError for zero trials, because a proportion of no cells is undefined', () => {
    expect(() => wilsonInterval(0, 0)).toThrow(StatisticsInputError);
    expect(() => wilsonInterval(0, 0)).toThrow(/0 trials/);
  });

  it('rejects impossible arguments, naming the argument', () => {
    const cases: [number, number, 'successes' | 'trials'][] = [
      [11, 10, 'successes'],
      [-1, 10, 'successes'],
      [1.5, 10, 'successes'],
      [Number.NaN, 10, 'successes'],
      [1, -5, 'trials'],
      [1, 2.5, 'trials'],
      [1, Number.POSITIVE_INFINITY, 'trials'],
    ];
    for (const [successes, trials, field] of cases) {
      try {
        wilsonInterval(successes, trials);
        expect.unreachable(`wilsonInterval(${successes}, ${trials}) should throw`);
      } catch (error) {
        expect(error).toBeInstanceOf(StatisticsInputError);
        expect((error as StatisticsInputError).field).toBe(field);
      }
    }
    expect(() => wilsonInterval(1, 10, 0)).toThrow(StatisticsInputError);
  });
});
