// Confidence interval for the difference between two independent proportions: is a change in blast % between two
// marrows larger than the counting error of two finite counts?
//
// Method: Newcombe's hybrid score interval without continuity correction (method 10 of Newcombe RG, "Interval
// estimation for the difference between independent proportions: comparison of eleven methods", Stat Med
// 1998;17:873-890). It combines the Wilson score interval of each proportion (statistics.ts) by "square and add".
// Newcombe found it kept close to nominal coverage where the simple (Wald) interval fails: small counts and
// proportions near 0, which is exactly a blast count of a few percent of a few hundred cells. It is defined for zero
// cells on either side (0/300 against 0/500 blasts gives an interval around 0, never a division by zero).
import { wilsonInterval, Z_95 } from './statistics';

export interface ProportionDifferenceInterval {
  /** p1 − p2, as a proportion −1..1. */
  difference: number;
  /** Lower bound of p1 − p2, as a proportion. */
  lower: number;
  /** Upper bound of p1 − p2, as a proportion. */
  upper: number;
}

/**
 * Newcombe's hybrid score interval (method 10) for p1 − p2, with p1 = successes1 / trials1 and
 * p2 = successes2 / trials2 counted independently.
 *
 * Throws StatisticsInputError (from wilsonInterval) when either count has no trials or impossible successes: with no
 * cells counted on one side there is nothing to compare, and callers must say so rather than show an interval.
 */
export function newcombeDifferenceInterval(
  successes1: number,
  trials1: number,
  successes2: number,
  trials2: number,
  z: number = Z_95,
): ProportionDifferenceInterval {
  const first = wilsonInterval(successes1, trials1, z);
  const second = wilsonInterval(successes2, trials2, z);
  const p1 = successes1 / trials1;
  const p2 = successes2 / trials2;
  const difference = p1 - p2;
  // Newcombe 1998, method 10: L = d − √((p1 − l1)² + (u2 − p2)²), U = d + √((u1 − p1)² + (p2 − l2)²).
  const lower = difference - Math.sqrt((p1 - first.lower) ** 2 + (second.upper - p2) ** 2);
  const upper = difference + Math.sqrt((first.upper - p1) ** 2 + (p2 - second.lower) ** 2);
  return { difference, lower: Math.max(-1, lower), upper: Math.min(1, upper) };
}
