import { describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import {
  classificationMetrics,
  fitTemperature,
  headLogits,
  headProbabilities,
  headProblem,
  basePrior,
  HeadTrainingCancelled,
  trainHead,
  type TrainingSet,
} from '../../../src/shared/lab-head';

/** Three well-separated Gaussian clusters in 8 dimensions, the third class rare (1 in 10), with a seeded generator. */
function clusters(n: number, seed: number): TrainingSet {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const dim = 8;
  const centres = [
    [3, 0, 0, 0, 0, 0, 0, 0],
    [0, 3, 0, 0, 0, 0, 0, 0],
    [0, 0, 3, 0, 0, 0, 0, 0],
  ];
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 10 === 0 ? 2 : i % 2;
    labels[i] = label;
    for (let j = 0; j < dim; j++) features[i * dim + j] = centres[label]![j]! + 10 + gauss();
  }
  return { features, labels, dim, classes: ['BLA', 'LYT', 'PMO'] };
}

describe('lab model head', () => {
  it('learns separable classes, the rare one included, and classifies unseen cells of them right', () => {
    const head = trainHead(clusters(600, 7), { epochs: 20 });
    const test = clusters(300, 99);
    const truth: CellClassCode[] = [];
    const predicted: CellClassCode[] = [];
    for (let i = 0; i < 300; i++) {
      const p = headProbabilities(head, test.features.subarray(i * 8, (i + 1) * 8));
      truth.push(test.classes[test.labels[i]!]!);
      predicted.push(head.classes[p.indexOf(Math.max(...p))]!);
    }
    const metrics = classificationMetrics(truth, predicted, head.classes);
    // Centres 3 standard deviations apart: the Bayes error is about 7% between any two, so 0.85 leaves room.
    expect(metrics.macroF1).toBeGreaterThan(0.85);
    expect(metrics.perClass.find((m) => m.code === 'PMO')!.recall).toBeGreaterThan(0.8);
  });

  it('gives the same head for the same cells and seed, another for another seed', () => {
    const a = trainHead(clusters(200, 3), { epochs: 3, seed: 5 });
    const b = trainHead(clusters(200, 3), { epochs: 3, seed: 5 });
    const c = trainHead(clusters(200, 3), { epochs: 3, seed: 6 });
    expect(a.weights).toEqual(b.weights);
    expect(a.weights).not.toEqual(c.weights);
  });

  it('stops with HeadTrainingCancelled when cancelled, and reports progress per epoch until then', () => {
    const seen: number[] = [];
    let batches = 0;
    expect(() =>
      trainHead(
        clusters(600, 1),
        { epochs: 10, batchSize: 100 },
        (f) => seen.push(f),
        () => ++batches > 13,
      ),
    ).toThrow(HeadTrainingCancelled);
    // 6 batches per epoch: the 14th check is in the third epoch, after two completed epochs.
    expect(seen).toEqual([0.1, 0.2]);
  });

  it("a residual head keeps the base model's answer where the reviewed cells agree with it, and learns a class the base model lacks", () => {
    // The "base model" knows BLA and LYT perfectly and has no PMO; the reviewed cells include PMO.
    const set = clusters(600, 4);
    const baseClasses: CellClassCode[] = ['BLA', 'LYT'];
    const baseOf = (label: number) => (label === 0 ? [0.9, 0.1] : label === 1 ? [0.1, 0.9] : [0.5, 0.5]);
    const prior = new Float32Array(600 * 3);
    for (let i = 0; i < 600; i++) prior.set(basePrior(set.classes, baseClasses, baseOf(set.labels[i]!)), i * 3);
    const head = trainHead({ ...set, prior, newClasses: [false, false, true] }, { epochs: 20 });
    expect(head.residual).toBe(true);
    const test = clusters(300, 5);
    let right = 0;
    for (let i = 0; i < 300; i++) {
      const label = test.labels[i]!;
      const p = headProbabilities(head, test.features.subarray(i * 8, (i + 1) * 8), basePrior(head.classes, baseClasses, baseOf(label)));
      if (p.indexOf(Math.max(...p)) === label) right++;
    }
    expect(right / 300).toBeGreaterThan(0.9);
    expect(() => headLogits(head, test.features.subarray(0, 8))).toThrow(/needs the base model/);
  });

  it('refuses labels outside its classes', () => {
    const set = clusters(20, 1);
    set.labels[3] = 7;
    expect(() => trainHead(set)).toThrow(/label index 7/);
  });
});

describe('validation metrics', () => {
  it('computes precision, recall, F1 and the confusion matrix of a worked example', () => {
    // BLA: 3 true, 2 found, 1 LYT called BLA -> P 2/3, R 2/3. LYT: 2 true, one called BLA, one PMO (not compared) -> none found, P 0 (one BLA called LYT), R 0.
    const truth: CellClassCode[] = ['BLA', 'BLA', 'BLA', 'LYT', 'LYT', 'EOS'];
    const predicted: CellClassCode[] = ['BLA', 'BLA', 'LYT', 'BLA', 'PMO', 'BLA'];
    const m = classificationMetrics(truth, predicted, ['BLA', 'LYT']);
    expect(m.cells).toBe(5); // the EOS cell is outside the classes compared
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [1, 0, 1],
    ]);
    const bla = m.perClass[0]!;
    expect(bla.precision).toBeCloseTo(2 / 3, 10);
    expect(bla.recall).toBeCloseTo(2 / 3, 10);
    const lyt = m.perClass[1]!;
    expect(lyt.precision).toBe(0);
    expect(lyt.recall).toBe(0);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0) / 2, 10);
    expect(m.accuracy).toBeCloseTo(2 / 5, 10);
  });

  it('counts cells of classes outside the comparison against the precision of what they were called, when asked', () => {
    // The EOS cell called BLA: BLA precision 2/4 instead of 2/3; recalls unchanged.
    const truth: CellClassCode[] = ['BLA', 'BLA', 'BLA', 'LYT', 'LYT', 'EOS'];
    const predicted: CellClassCode[] = ['BLA', 'BLA', 'LYT', 'BLA', 'PMO', 'BLA'];
    const m = classificationMetrics(truth, predicted, ['BLA', 'LYT'], { outsideTruth: 'count' });
    expect(m.cells).toBe(5);
    expect(m.confusion[2]).toEqual([1, 0, 0]);
    expect(m.perClass[0]!.precision).toBeCloseTo(2 / 4, 10);
    expect(m.perClass[0]!.recall).toBeCloseTo(2 / 3, 10);
  });

  it('fits back the temperature that generated the labels', () => {
    // Labels drawn from softmax(logits / 2): the NLL is lowest near T = 2.
    let s = 11;
    const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const logits: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const row = [rand() * 8, rand() * 8, rand() * 8];
      const e = row.map((v) => Math.exp(v / 2));
      const sum = e.reduce((a, v) => a + v, 0);
      const u = rand() * sum;
      labels.push(u < e[0]! ? 0 : u < e[0]! + e[1]! ? 1 : 2);
      logits.push(row);
    }
    expect(fitTemperature(logits, labels)).toBeGreaterThan(1.8);
    expect(fitTemperature(logits, labels)).toBeLessThan(2.2);
  });

  it('names the field of a damaged head', () => {
    const head = trainHead(clusters(60, 2), { epochs: 1 });
    expect(headProblem(head)).toBeNull();
    expect(headLogits(head, new Float32Array(8)).length).toBe(3);
    expect(headProblem({ ...head, weights: head.weights.slice(1) })).toMatch(/^weights:/);
    expect(headProblem({ ...head, classes: ['BLA', 'XYZ', 'PMO'] })).toMatch(/^classes:/);
    expect(headProblem({ ...head, temperature: 0 })).toMatch(/^temperature:/);
    expect(headProblem({ ...head, residual: 'yes' })).toMatch(/^residual:/);
  });
});
