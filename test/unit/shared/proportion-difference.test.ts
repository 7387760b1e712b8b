import { describe, expect, it } from 'vitest';
import { newcombeDifferenceInterval } from '../../../src/shared/proportion-difference';
import { StatisticsInputError } from '../../../src/shared/statistics';

// Expected values: Newcombe RG. Interval estimation for the difference between independent proportions: comparison of
// eleven methods. Stat Med 1998;17:873-890, Table II, examples (a)-(h), method 10 (score interval, no continuity
// correction), printed to four decimals. The rows were checked against two independent reproductions of the table
// (the ratesci R package's "published examples" tests, and a Python test suite that tabulates Table II for several
// methods) before being written here. Note: example (a) is 56/70 − 48/80 = 0.2000 with interval 0.0524 to 0.3339.
const TABLE_II_METHOD_10: ReadonlyArray<{ example: string; counts: [number, number, number, number]; lower: number; upper: number }> = [
  { example: '(a) 56/70 − 48/80', counts: [56, 70, 48, 80], lower: 0.0524, upper: 0.3339 },
  { example: '(b) 9/10 − 3/10', counts: [9, 10, 3, 10], lower: 0.1705, upper: 0.809 },
  { example: '(c) 6/7 − 2/7', counts: [6, 7, 2, 7], lower: 0.0582, upper: 0.8062 },
  { example: '(d) 5/56 − 0/29', counts: [5, 56, 0, 29], lower: -0.0381, upper: 0.1926 },
  { example: '(e) 0/10 − 0/20', counts: [0, 10, 0, 20], lower: -0.1611, upper: 0.2775 },
  { example: '(f) 0/10 − 0/10', counts: [0, 10, 0, 10], lower: -0.2775, upper: 0.2775 },
  { example: '(g) 10/10 − 0/20', counts: [10, 10, 0, 20], lower: 0.6791, upper: 1 },
  { example: '(h) 10/10 − 0/10', counts: [10, 10, 0, 10], lower: 0.6075, upper: 1 },
];

describe('newcombeDifferenceInterval (Newcombe 1998, method 10)', () => {
  for (const { example, counts, lower, upper } of TABLE_II_METHOD_10) {
    it(`reproduces Table II example ${example}: ${lower.toFixed(4)} to ${upper.toFixed(4)}`, () => {
      const [x1, n1, x2, n2] = counts;
      const interval = newcombeDifferenceInterval(x1, n1, x2, n2);
      expect(interval.difference).toBeCloseTo(x1 / n1 - x2 / n2, 12);
      // The table prints four decimals: agree to within half a unit of the last one.
      expect(Math.abs(interval.lower - lower)).toBeLessThan(0.00005);
      expect(Math.abs(interval.upper - upper)).toBeLessThan(0.00005);
    });
  }

  it('is antisymmetric: swapping the two counts mirrors the interval', () => {
    const forward = newcombeDifferenceInterval(30, 500, 12, 400);
    const backward = newcombeDifferenceInterval(12, 400, 30, 500);
    expect(backward.difference).toBeCloseTo(-forward.difference, 12);
    expect(backward.lower).toBeCloseTo(-forward.upper, 12);
    expect(backward.upper).toBeCloseTo(-forward.lower, 12);
  });

  it('always contains the observed difference and stays within −1 to 1, zero and full cells included', () => {
    for (const [x1, n1, x2, n2] of [
      [0, 1, 1, 1],
      [1, 1, 0, 1],
      [0, 300, 0, 500],
      [500, 500, 0, 500],
      [3, 300, 3, 300],
    ] as const) {
      const i = newcombeDifferenceInterval(x1, n1, x2, n2);
      expect(i.lower).toBeGreaterThanOrEqual(-1);
      expect(i.upper).toBeLessThanOrEqual(1);
      expect(i.lower).toBeLessThanOrEqual(i.difference);
      expect(i.difference).toBeLessThanOrEqual(i.upper);
    }
  });

  it('refuses a side with no cells counted, naming the field, instead of inventing an interval', () => {
    expect(() => newcombeDifferenceInterval(3, 100, 0, 0)).toThrow(StatisticsInputError);
    expect(() => newcombeDifferenceInterval(0, 0, 3, 100)).toThrow(/no cells were counted/);
    expect(() => newcombeDifferenceInterval(101, 100, 3, 100)).toThrow(/successes must be an integer from 0 to 100/);
  });
});
