import { describe, expect, it } from 'vitest';
import { CELL_CLASS_CODES, CELL_CLASS_DISPLAY_ORDER, type CellClassCode } from '../../../src/shared/cell-classes';
import {
  DIFFERENTIAL_RULES_VERSION,
  DifferentialInputError,
  computeDifferential,
  countLabels,
  formatInterval,
  formatMeRatio,
  formatPercent,
  informativeBlastAdvisories,
  provisionalRowNote,
  type BlastAdvisoryStatus,
  type ClassCounts,
  type Differential,
  type DifferentialRow,
} from '../../../src/shared/differential';

function row(differential: Differential, code: CellClassCode): DifferentialRow {
  const found = differential.rows.find((r) => r.code === code);
  if (!found) throw new Error(`no row for ${code}`);
  return found;
}

function statuses(differential: Differential): Record<number, BlastAdvisoryStatus> {
  return Object.fromEntries(differential.blast.advisories.map((a) => [a.threshold, a.status]));
}

/** Every number anywhere in the result is finite: no NaN or Infinity can reach a report. */
function expectNoNonFiniteNumbers(value: unknown, path = 'differential'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => expectNoNonFiniteNumbers(item, `${path}[${i}]`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) expectNoNonFiniteNumbers(item, `${path}.${key}`);
  }
}

describe('computeDifferential: worked example', () => {
  // NGS 200, LYT 100, BLA 30, EBO 120 are nucleated; ART 20 and KSC 5 are excluded (ICSH 2008).
  // NDC = 200 + 100 + 30 + 120 = 450; total counted = 450 + 20 + 5 = 475.
  const counts: ClassCounts = { NGS: 200, LYT: 100, BLA: 30, EBO: 120, ART: 20, KSC: 5 };
  const result = computeDifferential(counts);

  it('uses only nucleated cells as the denominator and reports excluded cells beside it', () => {
    expect(result.nucleatedDifferentialCount).toBe(450);
    expect(result.totalCellsCounted).toBe(475);
    expect(result.excluded).toEqual([
      // 20/450·100 = 4.444…, 0, 5/450·100 = 1.111…
      { code: 'ART', name: 'artefact', count: 20, per100Ndc: expect.closeTo(4.444444, 5) as number, assessedByModel: true },
      { code: 'NIF', name: 'not identifiable', count: 0, per100Ndc: 0, assessedByModel: true },
      { code: 'KSC', name: 'smudge cell', count: 5, per100Ndc: expect.closeTo(1.111111, 5) as number, assessedByModel: true },
    ]);
  });

  it('computes each class as a percentage of the NDC', () => {
    expect(row(result, 'NGS').percentOfNdc).toBeCloseTo((200 / 450) * 100, 10); // 44.444…
    expect(row(result, 'LYT').percentOfNdc).toBeCloseTo(22.222222, 5);
    expect(row(result, 'EBO').percentOfNdc).toBeCloseTo(26.666667, 5);
    expect(row(result, 'MON').percentOfNdc).toBe(0);
    expect(row(result, 'ART').percentOfNdc).toBeNull();
    expect(row(result, 'ART').inNdc).toBe(false);
    const sum = result.rows.reduce((total, r) => total + (r.percentOfNdc ?? 0), 0);
    expect(sum).toBeCloseTo(100, 10);
  });

  it('computes blast % = (BLA + FGC) / NDC with its Wilson 95% interval', () => {
    // p = 30/450 = 0.0666667; z²/n = 3.841459/450 = 0.0085366; 1 + z²/n = 1.0085366
    // centre = (0.0666667 + 0.0042683)/1.0085366 = 0.0703345
    // half = 1.959964/1.0085366 · √(0.0666667·0.9333333/450 + 3.841459/810000)
    //      = 1.943374 · √(0.00013827 + 0.00000474) = 1.943374 · 0.0119587 = 0.0232405
    // → 4.7094% – 9.3575%
    expect(result.blast.count).toBe(30);
    expect(result.blast.percentage).toBeCloseTo(6.666667, 5);
    expect(result.blast.ci95?.lower).toBeCloseTo(4.7094, 3);
    expect(result.blast.ci95?.upper).toBeCloseTo(9.3575, 3);
    expect(row(result, 'NGS').ci95?.lower).toBeCloseTo(39.9196, 3);
    expect(row(result, 'NGS').ci95?.upper).toBeCloseTo(49.0633, 3);
  });

  it('says the blast count cannot be placed against 5% when the interval crosses it', () => {
    expect(statuses(result)).toEqual({ 5: 'near', 10: 'below', 20: 'below' });
    expect(result.blast.advisories[0]?.text).toBe('Blasts 6.7% (95% CI 4.7–9.4%): interval crosses 5% — count more cells before classifying.');
  });

  it('computes the M:E ratio from granulocytic and erythroid cells (ICSH)', () => {
    // myeloid = NGS 200 + BLA 30 = 230; erythroid = EBO 120; 230/120 = 1.9167; lymphocytes on neither side
    expect(result.meRatio).toMatchObject({ myeloid: 230, erythroid: 120, undefinedReason: null });
    expect(result.meRatio.ratio).toBeCloseTo(1.916667, 5);
    expect(result.meRatio.convention).toMatch(/ICSH 2008/);
  });

  it('reports progress towards the 500-cell count target', () => {
    expect(result.countTarget).toMatchObject({ target: 500, counted: 450, remaining: 50, met: false, minimumAcceptable: 300 });
    expect(result.countTarget.note).toBe('450 of 500 nucleated cells counted (50 remaining); above the 300-cell minimum.');
    expect(result.warnings).toEqual([]);
  });

  it('lists all 21 classes in display order and cites the rules version', () => {
    expect(result.rows.map((r) => r.code)).toEqual([...CELL_CLASS_DISPLAY_ORDER]);
    expect(result.rulesVersion).toBe(DIFFERENTIAL_RULES_VERSION);
    expect(DIFFERENTIAL_RULES_VERSION).toMatch(/ICSH 2008.*WHO-HAEM5.*ICC 2022/);
  });
});

describe('computeDifferential: full marrow', () => {
  // NDC = BLA 10 + PMO 15 + MYB 50 + MMZ 40 + NGB 45 + NGS 80 + EOS 10 + ABE 2 + BAS 3 + MON 15 + LYT 60 + LYI 2
  //     + PLM 8 + PEB 10 + EBO 120 + OTH 5 = 475; NIF 7 is excluded.
  // Myeloid (ICSH) = BLA 10 + 15 + 50 + 40 + 45 + 80 + 10 + 2 + 3 + 15 = 270; erythroid = 10 + 120 = 130
  // → M:E 270/130 = 2.0769. (Without blasts it would be 260/130 = 2.0.)
  const result = computeDifferential({
    BLA: 10,
    PMO: 15,
    MYB: 50,
    MMZ: 40,
    NGB: 45,
    NGS: 80,
    EOS: 10,
    ABE: 2,
    BAS: 3,
    MON: 15,
    LYT: 60,
    LYI: 2,
    PLM: 8,
    PEB: 10,
    EBO: 120,
    OTH: 5,
    NIF: 7,
  });

  it('counts blasts, granulocytic precursors, eosinophils, basophils and monocytes as myeloid', () => {
    expect(result.nucleatedDifferentialCount).toBe(475);
    expect(result.meRatio.myeloid).toBe(270);
    expect(result.meRatio.erythroid).toBe(130);
    expect(result.meRatio.ratio).toBeCloseTo(2.076923, 5);
    expect(formatMeRatio(result.meRatio.ratio)).toBe('2.1 : 1');
  });

  it('places a 2.1% blast count below every threshold', () => {
    // 10/475 = 2.105%; Wilson: centre 2.4895%, half-width 1.3420% → 1.1475% – 3.8315%, all below 5%.
    expect(result.blast.percentage).toBeCloseTo(2.105263, 5);
    expect(result.blast.ci95?.lower).toBeCloseTo(1.1475, 3);
    expect(result.blast.ci95?.upper).toBeCloseTo(3.8315, 3);
    expect(statuses(result)).toEqual({ 5: 'below', 10: 'below', 20: 'below' });
    expect(result.blast.advisories[0]?.text).toBe('Blasts 2.1% (95% CI 1.1–3.8%): below 5%.');
  });

  it('keeps "other" cells in the NDC but flags them with a warning', () => {
    expect(row(result, 'OTH')).toMatchObject({ count: 5, inNdc: true, flagged: true });
    expect(row(result, 'OTH').percentOfNdc).toBeCloseTo((5 / 475) * 100, 10);
    expect(row(result, 'NGS').flagged).toBe(false);
    expect(result.warnings).toContain('5 cells classed as other cell (OTH): counted in the differential; describe before sign-off.');
    expect(result.excluded.find((e) => e.code === 'NIF')?.per100Ndc).toBeCloseTo(1.473684, 5); // 7/475·100
  });
});

describe('blast advisories at 5, 10 and 20%', () => {
  // 500 nucleated cells each: blasts k, the rest segmented neutrophils. Wilson bounds (k/500):
  //   5 → 1.0%  (0.43–2.32%)     24 → 4.8% (3.25–7.04%)    50 → 10% (7.67–12.94%)
  //   100 → 20% (16.73–23.73%)   150 → 30% (26.15–34.16%)
  const withBlasts = (blasts: number, fgc = 0) => computeDifferential({ BLA: blasts, FGC: fgc, NGS: 500 - blasts - fgc });

  it('is below every threshold when the whole interval is below it', () => {
    expect(statuses(withBlasts(5))).toEqual({ 5: 'below', 10: 'below', 20: 'below' });
  });

  it('is near 5% when the interval contains 5%, and tells the technician to count more cells', () => {
    const result = withBlasts(24);
    expect(statuses(result)).toEqual({ 5: 'near', 10: 'below', 20: 'below' });
    expect(result.blast.advisories[0]?.text).toBe('Blasts 4.8% (95% CI 3.2–7.0%): interval crosses 5% — count more cells before classifying.');
  });

  it('is at or above 5% and near 10% at exactly 10%', () => {
    const result = withBlasts(50);
    expect(statuses(result)).toEqual({ 5: 'at_or_above', 10: 'near', 20: 'below' });
    const five = result.blast.advisories.find((a) => a.threshold === 5);
    expect(five?.text).toMatch(/^Blasts 10\.0% \(95% CI 7\.7–12\.9%\): at or above 5% \(.*MDS-IB1.*MDS-EB.*\)/);
    expect(five?.text).toMatch(/correlate with morphology and genetics\.$/);
  });

  it('is at or above 5% and 10% and near 20% at exactly 20%', () => {
    expect(statuses(withBlasts(100))).toEqual({ 5: 'at_or_above', 10: 'at_or_above', 20: 'near' });
  });

  it('is at or above 20% when the whole interval is above it, naming both classifications', () => {
    const result = withBlasts(150);
    expect(statuses(result)).toEqual({ 5: 'at_or_above', 10: 'at_or_above', 20: 'at_or_above' });
    const twenty = result.blast.advisories.find((a) => a.threshold === 20);
    expect(twenty?.text).toMatch(/WHO-HAEM5 and ICC AML threshold/);
    expect(twenty?.text).toMatch(/genetics/);
    expect(result.blast.advisories.find((a) => a.threshold === 10)?.text).toMatch(/MDS-IB2.*MDS\/AML/);
  });

  it('counts faggot cells as blast equivalents', () => {
    // (BLA 40 + FGC 10)/500 = 10%
    const result = withBlasts(40, 10);
    expect(result.blast.count).toBe(50);
    expect(result.blast.percentage).toBeCloseTo(10, 10);
    expect(row(result, 'BLA').percentOfNdc).toBeCloseTo(8, 10);
    expect(result.warnings).toContain('10 faggot cells (FGC) counted as blast equivalents.');
  });

  it('does not change the blast percentage when excluded cells are added', () => {
    const without = computeDifferential({ BLA: 30, NGS: 470 });
    const withExcluded = computeDifferential({ BLA: 30, NGS: 470, ART: 100, NIF: 50, KSC: 25 });
    expect(withExcluded.blast.percentage).toBe(without.blast.percentage);
    expect(withExcluded.blast.percentage).toBeCloseTo(6, 10);
    expect(withExcluded.totalCellsCounted).toBe(675);
  });
});

describe('computeDifferential: edge cases', () => {
  it('returns null percentages, no advisories and a warning when no cells were counted', () => {
    const result = computeDifferential({});
    expect(result.nucleatedDifferentialCount).toBe(0);
    expect(result.totalCellsCounted).toBe(0);
    expect(result.rows.every((r) => r.percentOfNdc === null && r.ci95 === null && r.count === 0)).toBe(true);
    expect(result.blast).toEqual({ count: 0, percentage: null, ci95: null, advisories: [] });
    expect(result.meRatio.ratio).toBeNull();
    expect(result.meRatio.undefinedReason).toBe('No nucleated cells counted.');
    expect(result.countTarget).toMatchObject({ counted: 0, remaining: 500, met: false });
    expect(result.warnings).toEqual(['No cells counted: percentages, blast percentage and M:E ratio are undefined.']);
    expectNoNonFiniteNumbers(result);
  });

  it('lists excluded cells with no per-100 figure when only excluded cells were counted', () => {
    const result = computeDifferential({ ART: 3, KSC: 2 });
    expect(result.nucleatedDifferentialCount).toBe(0);
    expect(result.totalCellsCounted).toBe(5);
    expect(result.excluded).toEqual([
      { code: 'ART', name: 'artefact', count: 3, per100Ndc: null, assessedByModel: true },
      { code: 'NIF', name: 'not identifiable', count: 0, per100Ndc: null, assessedByModel: true },
      { code: 'KSC', name: 'smudge cell', count: 2, per100Ndc: null, assessedByModel: true },
    ]);
    expect(result.blast.percentage).toBeNull();
    expect(result.blast.advisories).toEqual([]);
    expect(result.warnings[0]).toMatch(/^Only cells excluded from the nucleated differential were counted \(ART 3, KSC 2\)/);
    expectNoNonFiniteNumbers(result);
  });

  it('leaves the M:E ratio undefined, never Infinity, when no erythroid cells were counted', () => {
    const result = computeDifferential({ NGS: 300, LYT: 50 });
    expect(result.meRatio).toMatchObject({ myeloid: 300, erythroid: 0, ratio: null });
    expect(result.meRatio.undefinedReason).toMatch(/No erythroid precursors \(PEB, EBO\) counted/);
    expectNoNonFiniteNumbers(result);
  });

  it('gives an M:E ratio of 0 when erythroid cells were counted but no myeloid cells', () => {
    const result = computeDifferential({ EBO: 100, LYT: 200, PLM: 10 });
    expect(result.meRatio).toMatchObject({ myeloid: 0, erythroid: 100, ratio: 0, undefinedReason: null });
  });

  it('leaves the M:E ratio undefined when neither side has cells', () => {
    const result = computeDifferential({ LYT: 200 });
    expect(result.meRatio.ratio).toBeNull();
    expect(result.meRatio.undefinedReason).toBe('No myeloid or erythroid cells counted.');
  });

  it('reports a class the model cannot output as not assessable rather than 0%', () => {
    const modelClasses = CELL_CLASS_CODES.filter((code) => code !== 'FGC' && code !== 'HAC');
    const result = computeDifferential({ BLA: 30, NGS: 270, EBO: 200 }, { modelClasses });
    expect(row(result, 'FGC')).toMatchObject({ count: 0, assessedByModel: false, percentOfNdc: null, ci95: null });
    expect(row(result, 'HAC')).toMatchObject({ count: 0, assessedByModel: false, percentOfNdc: null });
    expect(row(result, 'MON')).toMatchObject({ count: 0, assessedByModel: true, percentOfNdc: 0 });
    const warning = result.warnings.find((w) => w.startsWith('Not assessable by the model'));
    expect(warning).toContain('FGC (faggot cell)');
    expect(warning).toContain('HAC (hairy cell)');
    // Blasts are still assessable through BLA: 30/500 = 6%.
    expect(result.blast.percentage).toBeCloseTo(6, 10);
  });

  it('still counts cells a reviewer assigned to a class the model cannot output', () => {
    const modelClasses = CELL_CLASS_CODES.filter((code) => code !== 'HAC');
    const result = computeDifferential({ HAC: 20, LYT: 180, NGS: 200 }, { modelClasses });
    expect(row(result, 'HAC')).toMatchObject({ count: 20, assessedByModel: false });
    expect(row(result, 'HAC').percentOfNdc).toBeCloseTo(5, 10); // 20/400
  });

  it('reports the blast percentage as not assessable when the model outputs neither BLA nor FGC', () => {
    const modelClasses = CELL_CLASS_CODES.filter((code) => code !== 'BLA' && code !== 'FGC');
    const result = computeDifferential({ NGS: 300, EBO: 100 }, { modelClasses });
    expect(result.blast).toEqual({ count: 0, percentage: null, ci95: null, advisories: [] });
    expect(result.warnings).toContain('Blast percentage not assessable: the model cannot output blasts (BLA) or faggot cells (FGC).');
  });

  it('reports the M:E ratio as undefined when the model outputs no erythroid class', () => {
    const modelClasses = CELL_CLASS_CODES.filter((code) => code !== 'PEB' && code !== 'EBO');
    const result = computeDifferential({ NGS: 300 }, { modelClasses });
    expect(result.meRatio.ratio).toBeNull();
    expect(result.meRatio.undefinedReason).toMatch(/cannot output erythroid precursors/);
  });

  it('warns when fewer than 300 nucleated cells were counted and honours a custom target', () => {
    const result = computeDifferential({ NGS: 150, EBO: 50 }, { countTarget: 200 });
    expect(result.countTarget).toMatchObject({ target: 200, counted: 200, remaining: 0, met: true });
    expect(result.countTarget.note).toBe('Count target met: 200 of 200 nucleated cells.');
    expect(result.warnings).toContain('Only 200 nucleated cells counted; at least 300 are needed for a reliable differential (target 200).');
    const small = computeDifferential({ NGS: 100 });
    expect(small.countTarget.note).toBe('100 of 500 nucleated cells counted (400 remaining); below the 300-cell minimum.');
  });

  it('treats an explicitly undefined count as no cells', () => {
    const result = computeDifferential({ NGS: 10, BLA: undefined });
    expect(row(result, 'BLA').count).toBe(0);
    expect(result.nucleatedDifferentialCount).toBe(10);
  });
});

describe('computeDifferential: invalid input', () => {
  const invalid: [string, unknown, RegExp][] = [
    ['negative', -1, /BLA \(blast\) must be a non-negative whole number, got -1/],
    ['fractional', 2.5, /BLA \(blast\) .* got 2\.5/],
    ['NaN', Number.NaN, /BLA .* got NaN/],
    ['infinite', Number.POSITIVE_INFINITY, /BLA .* got Infinity/],
    ['a string', '3', /BLA .* got "3"/],
    ['null', null, /BLA .* got null/],
  ];
  for (const [label, value, message] of invalid) {
    it(`rejects a count that is ${label}, naming the class and the value`, () => {
      const counts = { NGS: 10, BLA: value } as unknown as ClassCounts;
      expect(() => computeDifferential(counts)).toThrow(DifferentialInputError);
      expect(() => computeDifferential(counts)).toThrow(message);
      try {
        computeDifferential(counts);
      } catch (error) {
        expect((error as DifferentialInputError).field).toBe('BLA');
        expect(Object.is((error as DifferentialInputError).value, value)).toBe(true);
      }
    });
  }

  it('rejects an unknown class code, naming it and its count', () => {
    const counts = { NGS: 10, XYZ: 4 } as unknown as ClassCounts;
    expect(() => computeDifferential(counts)).toThrow(DifferentialInputError);
    expect(() => computeDifferential(counts)).toThrow(/Unknown cell class code "XYZ" \(count 4\)/);
  });

  it('rejects counts that are not an object', () => {
    expect(() => computeDifferential(null as unknown as ClassCounts)).toThrow(DifferentialInputError);
    expect(() => computeDifferential([] as unknown as ClassCounts)).toThrow(/got an array/);
  });

  it('rejects invalid options, naming the option', () => {
    expect(() => computeDifferential({}, { countTarget: 0 })).toThrow(/countTarget must be a positive whole number, got 0/);
    expect(() => computeDifferential({}, { modelClasses: ['BLA', 'XYZ'] as unknown as CellClassCode[] })).toThrow(/modelClasses contains "XYZ"/);
    expect(() => computeDifferential({}, { meConvention: 'other' as unknown as 'icsh' })).toThrow(/only "icsh"/);
  });
});

describe('formatting helpers', () => {
  it('formats percentages, intervals and ratios for reports', () => {
    expect(formatPercent(4.8125)).toBe('4.8%');
    expect(formatPercent(4.8125, 2)).toBe('4.81%');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(-0.01)).toBe('0.0%');
    expect(formatPercent(null)).toBe('—');
    expect(formatInterval({ lower: 3.1234, upper: 7.25 })).toBe('3.1–7.3%');
    expect(formatInterval(null)).toBe('—');
    expect(formatMeRatio(2.5)).toBe('2.5 : 1');
    expect(formatMeRatio(200 / 120)).toBe('1.7 : 1');
    expect(formatMeRatio(null)).toBe('—');
  });
});

describe('countLabels', () => {
  it('tallies one label per cell', () => {
    expect(countLabels(['BLA', 'NGS', 'BLA', 'ART'])).toEqual({ BLA: 2, NGS: 1, ART: 1 });
    expect(countLabels([])).toEqual({});
  });

  it('names the position of a label that is not a cell class code', () => {
    expect(() => countLabels(['NGS', 'blast'])).toThrow(DifferentialInputError);
    expect(() => countLabels(['NGS', 'blast'])).toThrow(/Label "blast" at position 1 is not a cell class code/);
  });
});

describe('computeDifferential: provisional classes', () => {
  const counts = { NGS: 60, LYT: 20, MYB: 10, EBO: 10 };
  const classes: CellClassCode[] = ['BAS', 'EBO', 'MMZ', 'MYB', 'NGB'];

  it('marks the rows, the M:E ratio and the warnings while cells of provisional classes are unreviewed', () => {
    const d = computeDifferential(counts, { provisional: { classes, unreviewed: { MYB: 7, EBO: 10 } } });
    expect(d.rows.find((r) => r.code === 'MYB')!.provisionalUnreviewed).toBe(7);
    expect(d.rows.find((r) => r.code === 'EBO')!.provisionalUnreviewed).toBe(10);
    expect(d.rows.find((r) => r.code === 'NGS')!.provisionalUnreviewed).toBe(0);
    expect(d.provisional).toEqual({
      classes,
      unreviewedCells: 17,
      note:
        'Provisional: 17 cells are counted in classes the model learned without marrow images (MYB 7, EBO 10) and not yet ' +
        'reviewed — these rows, the M:E ratio and the percentages of the other classes rest on provisional classes until those ' +
        'cells are reviewed.',
    });
    expect(d.warnings[0]).toBe(d.provisional!.note);
    expect(d.meRatio.provisional).toBe(true);
    // The figures themselves do not change: provisional is a statement about them, not a correction.
    expect(d.meRatio.ratio).toBe(computeDifferential(counts).meRatio.ratio);
    expect(provisionalRowNote(d.rows.find((r) => r.code === 'MYB')!)).toBe('provisional: 7 unreviewed');
  });

  it('says nothing once every provisional cell is reviewed, and nothing of the M:E ratio when no provisional cell is on it', () => {
    const reviewed = computeDifferential(counts, { provisional: { classes, unreviewed: {} } });
    expect(reviewed.provisional).toBeNull();
    expect(reviewed.meRatio.provisional).toBe(false);
    expect(reviewed.warnings.some((w) => w.startsWith('Provisional'))).toBe(false);
    const offRatio = computeDifferential({ NGS: 50, LYT: 30, PLM: 3 }, { provisional: { classes: ['PLM'], unreviewed: { PLM: 3 } } });
    expect(offRatio.meRatio.provisional).toBe(false);
    expect(offRatio.provisional?.note).toContain('these rows and the percentages of the other classes');
  });

  it('refuses unreviewed counts that are not of a provisional class or exceed the class count, naming the field', () => {
    expect(() => computeDifferential(counts, { provisional: { classes, unreviewed: { NGS: 1 } } })).toThrow(
      expect.objectContaining({ field: 'provisional.unreviewed.NGS' }),
    );
    expect(() => computeDifferential(counts, { provisional: { classes, unreviewed: { MYB: 11 } } })).toThrow(/only 10 MYB cells counted/);
    expect(() => computeDifferential(counts, { provisional: { classes: ['XYZ' as CellClassCode], unreviewed: {} } })).toThrow(DifferentialInputError);
  });
});

describe('which blast advisories say something beside the figure', () => {
  const advisory = (threshold: 5 | 10 | 20, status: 'below' | 'near' | 'at_or_above') => ({ threshold, status, text: '', note: '' });

  it('drops "below 20%" under "at or above 5%" and "interval crosses 10%"', () => {
    const all = [advisory(5, 'at_or_above'), advisory(10, 'near'), advisory(20, 'below')];
    expect(informativeBlastAdvisories(all).map((a) => a.threshold)).toEqual([5, 10]);
  });

  it('keeps only "below 5%" when the blasts are below every threshold', () => {
    const all = [advisory(5, 'below'), advisory(10, 'below'), advisory(20, 'below')];
    expect(informativeBlastAdvisories(all).map((a) => a.threshold)).toEqual([5]);
  });

  it('says the figure once: the note of an advisory does not repeat it', () => {
    const result = computeDifferential(countLabels([...Array<CellClassCode>(20).fill('BLA'), ...Array<CellClassCode>(230).fill('LYT')]));
    for (const a of result.blast.advisories) {
      expect(a.note).not.toMatch(/Blasts|CI/);
      expect(a.text).toBe(`Blasts 8.0% (95% CI ${a.text.split('CI ')[1]!.split(')')[0]!}): ${a.note}`);
    }
  });
});
