import { describe, expect, it } from 'vitest';
import { computeDifferential } from '../../../src/shared/differential';
import {
  blastComparisonSentence,
  compareFractions,
  formatPoints,
  marrowFiguresOf,
  specimenGroupOf,
  type CountedFraction,
} from '../../../src/shared/marrow-history';

const blasts = (count: number, total: number): CountedFraction => ({ count, total, percentage: total > 0 ? (count / total) * 100 : null, ci95: null });

describe('compareFractions: a change in words, judged by the 95% interval of the difference', () => {
  it('calls a count higher when the whole interval lies above 0 (Newcombe 1998 example (a): 56/70 against 48/80)', () => {
    // Table II, method 10: difference 0.2000, 95% CI 0.0524 to 0.3339 → +20.0 points, +5.2 to +33.4.
    const c = compareFractions(blasts(56, 70), blasts(48, 80), '2026-09-14');
    expect(c?.verdict).toBe('higher');
    expect(c?.text).toBe('higher than on 2026-09-14 (difference +20.0 points, 95% CI +5.2 to +33.4)');
  });

  it('calls it lower when the whole interval lies below 0 (example (a) the other way round)', () => {
    const c = compareFractions(blasts(48, 80), blasts(56, 70), '2026-09-14');
    expect(c?.verdict).toBe('lower');
    expect(c?.text).toBe('lower than on 2026-09-14 (difference −20.0 points, 95% CI −33.4 to −5.2)');
  });

  it('says the counts cannot tell when the interval contains 0 (example (d): 5/56 against 0/29, −0.0381 to 0.1926)', () => {
    const c = compareFractions(blasts(5, 56), blasts(0, 29), '2026-09-14');
    expect(c?.verdict).toBe('not_distinguishable');
    expect(c?.text).toBe(
      'not distinguishable from the count on 2026-09-14 at this cell count — count more cells to tell (difference +8.9 points, 95% CI −3.8 to +19.3)',
    );
  });

  it('compares two counts with no blasts at all (example (e): 0/10 against 0/20) without dividing by zero', () => {
    const c = compareFractions(blasts(0, 10), blasts(0, 20), '2026-01-02');
    expect(c?.verdict).toBe('not_distinguishable');
    expect(c?.ci95Points.lower).toBeCloseTo(-16.11, 2);
    expect(c?.ci95Points.upper).toBeCloseTo(27.75, 2);
  });

  it('has nothing to compare when either side has no percentage', () => {
    expect(compareFractions(blasts(0, 0), blasts(3, 100), '2026-01-02')).toBeNull();
    expect(compareFractions(blasts(3, 100), { count: 0, total: 100, percentage: null, ci95: null }, '2026-01-02')).toBeNull();
  });

  it('puts the figures of both counts in the blast sentence', () => {
    expect(blastComparisonSentence(blasts(56, 70), blasts(48, 80), '2026-09-14')).toBe(
      'Blasts 80.0% against 60.0%: higher than on 2026-09-14 (difference +20.0 points, 95% CI +5.2 to +33.4).',
    );
  });
});

describe('formatPoints', () => {
  it('signs every non-zero figure and never prints a bound that excludes 0 as 0.0', () => {
    expect(formatPoints(6.24)).toBe('+6.2');
    expect(formatPoints(-4)).toBe('−4.0');
    expect(formatPoints(0)).toBe('0.0');
    expect(formatPoints(0.03)).toBe('+0.03');
    expect(formatPoints(-0.004)).toBe('0.00');
  });
});

describe('marrowFiguresOf: the figures followed over time come from the differential as computed', () => {
  it('takes blasts (BLA + FGC) over the NDC and sums the lineages over NDC rows only', () => {
    // NDC = 200 NGS + 100 LYT + 25 BLA + 5 FGC + 120 EBO + 50 PLM = 500; ART and KSC are outside it (ICSH 2008).
    const d = computeDifferential({ NGS: 200, LYT: 100, BLA: 25, FGC: 5, EBO: 120, PLM: 50, ART: 20, KSC: 5 });
    const f = marrowFiguresOf(d);
    expect(f.nucleatedDifferentialCount).toBe(500);
    expect(f.blast).toMatchObject({ count: 30, total: 500, percentage: 6 });
    // FGC is granulocytic by lineage (cell-classes.ts) and a blast equivalent: it is in both, as the differential has it.
    expect(f.lineages.granulocytic).toMatchObject({ count: 205, total: 500, percentage: 41 });
    expect(f.lineages.erythroid).toMatchObject({ count: 120, percentage: 24 });
    expect(f.lineages.lymphoid).toMatchObject({ count: 100, percentage: 20 });
    expect(f.lineages.plasma).toMatchObject({ count: 50, percentage: 10 });
    expect(f.lineages.monocytic).toMatchObject({ count: 0, percentage: 0 });
    // Wilson 95% interval of 120/500, as every percentage of the differential has.
    expect(f.lineages.erythroid.ci95?.lower).toBeCloseTo(20.46, 1);
    expect(f.lineages.erythroid.ci95?.upper).toBeCloseTo(27.94, 1);
    expect(f.meRatio).toBeCloseTo(d.meRatio.ratio as number, 12);
  });

  it('names the classes of a lineage the model cannot assess, and gives no percentage when it can assess none', () => {
    // The reference model's 13 classes: no PLM (plasma cells), no ABE or FGC (granulocytic), no PEB (erythroid).
    const modelClasses = ['ART', 'BLA', 'EOS', 'LYT', 'MON', 'NGS', 'NIF', 'PMO', 'BAS', 'EBO', 'MMZ', 'MYB', 'NGB'] as const;
    const f = marrowFiguresOf(computeDifferential({ NGS: 100, EBO: 50 }, { modelClasses }));
    expect(f.lineages.plasma).toMatchObject({ percentage: null, ci95: null, notAssessed: ['PLM'] });
    expect(f.lineages.erythroid.percentage).toBeCloseTo((50 / 150) * 100, 10);
    expect(f.lineages.erythroid.notAssessed).toEqual(['PEB']);
    expect([...f.lineages.granulocytic.notAssessed].sort()).toEqual(['ABE', 'FGC']);
  });

  it('compares marrow with marrow and blood with blood', () => {
    expect(specimenGroupOf('bone_marrow_aspirate')).toBe(specimenGroupOf('bone_marrow_imprint'));
    expect(specimenGroupOf('peripheral_blood')).not.toBe(specimenGroupOf('bone_marrow_aspirate'));
  });
});
