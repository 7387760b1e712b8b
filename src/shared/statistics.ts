// Confidence intervals for proportions counted in a differential.
//
// The Wilson score interval (Wilson EB, J Am Stat Assoc 1927;22:209-212) is used rather than the normal
// approximation (Wald) because a blast count is often a small proportion of a few hundred cells, where the Wald
// interval is too narrow and can extend below 0 (Brown LD, Cai TT, DasGupta A, Stat Sci 2001;16:101-133, who
// recommend Wilson for n < 40 and for proportions near 0 or 1).

/** Two-sided 95% standard normal quantile, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

export interface ProportionInterval {
  /** Lower bound, as a proportion 0..1. */
  lower: number;
  /** Upper bound, as a proportion 0..1. */
  upper: number;
}

/** Thrown for arguments a proportion interval is not defined for; names the argument and its value. */
export class StatisticsInputError extends RangeError {
  readonly field: 'successes' | 'trials' | 'z';
  readonly value: unknown;

  constructor(field: 'successes' | 'trials' | 'z', value: unknown, message: string) {
    super(message);
    this.name = 'StatisticsInputError';
    this.field = field;
    this.value = value;
  }
}

/**
 * Wilson score interval for `successes` out of `trials`, as proportions.
 *
 * With no trials the proportion is undefined, so this throws (StatisticsInputError) rather than returning a fake
 * interval: callers decide what "no cells counted" means (the differential reports null).
 */
export function wilsonInterval(successes: number, trials: number, z: number = Z_95): ProportionInterval {
  if (!Number.isSafeInteger(trials) || trials < 0) {
    throw new StatisticsInputError('trials', trials, `trials must be a non-negative integer, got ${String(trials)}.`);
  }
  if (trials === 0) {
    throw new StatisticsInputError('trials', trials, 'A proportion of 0 trials is undefined: no cells were counted.');
  }
  if (!Number.isSafeInteger(successes) || successes < 0 || successes > trials) {
    throw new StatisticsInputError('successes', successes, `successes must be an integer from 0 to ${trials} (trials), got ${String(successes)}.`);
  }
  if (!Number.isFinite(z) || z <= 0) {
    throw new StatisticsInputError('z', z, `z must be a positive finite number, got ${String(z)}.`);
  }

  const n = trials;
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));

  // At p = 0 and p = 1 the exact bounds are 0 and 1; rounding in the formula would otherwise leave ±1e-17.
  const lower = successes === 0 ? 0 : Math.max(0, centre - halfWidth);
  const upper = successes === trials ? 1 : Math.min(1, centre + halfWidth);
  return { lower, upper };
}
