// Lab-model benchmark (issue 14), on the app's own TypeScript head (src/shared/lab-head.ts, lab-training.ts) and its
// training worker (src/main/lab-model/train-client.ts):
//
// 1. Learning curve: a simulated lab whose reviewed cells are marrow crops of ../shared/data grouped into cases.
//    The lab model learns from N reviewed cells per class taken from cases of the split the base model was trained
//    on, and it and the base model are compared on held-out cases: every crop of the validation split, which the
//    base model never saw. Also within the validation split only (cases split in two), where neither the base
//    model nor the head's training cells were seen in training the network.
// 2. New class: a base model trained without one marrow class (train.py --exclude PMO), and the share of that
//    class's held-out cells the lab model calls right after N reviewed examples of it.
// 3. Speed and memory of training a head on 50,000 reviewed cells in the worker thread, as the app does.
//
// Needs the embeddings written by training/lab_model_embeddings.py (.cache/lab-bench/). Usage:
//   sh scripts/with-node.sh npx tsx scripts/bench-lab-model.ts [--seeds 5] [--sweep] [--speed-only]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CELL_CLASS_CODES, type CellClassCode } from '../src/shared/cell-classes';
import { mulberry32 } from '../src/shared/seeded-random';
import { softmaxWithTemperature } from '../src/shared/softmax';
import { basePrior, classificationMetrics, DEFAULT_HEAD_TRAINING, headLogits, trainHead, type HeadTrainingOptions } from '../src/shared/lab-head';
import { startTrainingWorker } from '../src/main/lab-model/train-client';
import type { PackedCells } from '../src/main/lab-model/train-protocol';

const REPO = resolve(import.meta.dirname, '..');
const CACHE = join(REPO, '.cache', 'lab-bench');
const MARROW: CellClassCode[] = ['ART', 'BLA', 'EOS', 'LYT', 'MON', 'NGS', 'NIF', 'PMO'];
const CASE_SIZE = 100;

interface Split {
  /** The base model's calibration temperature: the app stores softmax(logits / T). */
  temperature: number;
  files: string[];
  labels: CellClassCode[];
  dim: number;
  logitClasses: CellClassCode[];
  emb: Float32Array;
  logits: Float32Array;
}

function load(name: string): Split {
  const meta = JSON.parse(readFileSync(join(CACHE, `${name}.json`), 'utf8')) as Omit<Split, 'emb' | 'logits'>;
  const f32 = (suffix: string) => {
    const b = readFileSync(join(CACHE, `${name}.${suffix}.f32`));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  // marrowcount-ref 1.3.0's model.json temperature; the variant was never calibrated.
  return { ...meta, temperature: name.startsWith('shipped') ? 0.83 : 1, emb: f32('emb'), logits: f32('logits') };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Cells (indices) dealt into cases of CASE_SIZE in a seeded order: the simulated lab's cases. */
function casesOf(n: number, seed: number): number[][] {
  const order = shuffle(
    Array.from({ length: n }, (_, i) => i),
    mulberry32(seed),
  );
  const cases: number[][] = [];
  for (let i = 0; i < order.length; i += CASE_SIZE) cases.push(order.slice(i, i + CASE_SIZE));
  return cases;
}

/** N reviewed cells per class, read case by case (whole cases in a random order) until each class has N or the pool ends. */
function reviewedCells(split: Split, cases: number[][], perClass: (c: CellClassCode) => number, seed: number): number[] {
  const taken = new Map<CellClassCode, number>();
  const out: number[] = [];
  for (const c of shuffle(cases, mulberry32(seed))) {
    for (const i of c) {
      const label = split.labels[i]!;
      const have = taken.get(label) ?? 0;
      if (have < perClass(label)) {
        taken.set(label, have + 1);
        out.push(i);
      }
    }
  }
  return out;
}

function argmax(values: ArrayLike<number>, from = 0, length = values.length): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[from + i]! > values[from + best]!) best = i;
  return best;
}

/** What the app stores for a cell: the base model's calibrated probabilities, as the prior of a residual head. */
function priorOf(split: Split, cell: number, classes: CellClassCode[]): Float32Array {
  const k = split.logitClasses.length;
  return basePrior(classes, split.logitClasses, softmaxWithTemperature(split.logits.subarray(cell * k, (cell + 1) * k), split.temperature));
}

let RESIDUAL = true;

function trainOn(split: Split, cells: number[], classes: CellClassCode[], options: Partial<HeadTrainingOptions>) {
  const index = new Map(classes.map((c, i) => [c, i]));
  const usable = cells.filter((i) => index.has(split.labels[i]!));
  const features = new Float32Array(usable.length * split.dim);
  usable.forEach((cell, k) => features.set(split.emb.subarray(cell * split.dim, (cell + 1) * split.dim), k * split.dim));
  const labels = Int32Array.from(usable, (i) => index.get(split.labels[i]!)!);
  const prior = new Float32Array(usable.length * classes.length);
  usable.forEach((cell, k) => prior.set(priorOf(split, cell, classes), k * classes.length));
  const newClasses = classes.map((c) => !split.logitClasses.includes(c));
  return trainHead({ features, labels, dim: split.dim, classes, ...(RESIDUAL ? { prior, newClasses } : {}) }, options);
}

/** Lab model vs base model on the held-out cells, over the marrow classes. */
function compare(split: Split, test: number[], head: ReturnType<typeof trainHead>) {
  const truth = test.map((i) => split.labels[i]!);
  const lab = test.map((i) => head.classes[argmax(headLogits(head, split.emb.subarray(i * split.dim, (i + 1) * split.dim), priorOf(split, i, head.classes)))]!);
  const k = split.logitClasses.length;
  const base = test.map((i) => split.logitClasses[argmax(split.logits, i * k, k)]!);
  return { lab: classificationMetrics(truth, lab, MARROW), base: classificationMetrics(truth, base, MARROW) };
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const range = (xs: number[]) => `${mean(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;

function learningCurve(seeds: number, options: Partial<HeadTrainingOptions>): void {
  const train = load('shipped-train');
  const val = load('shipped-val');
  const trainCases = casesOf(train.files.length, 11);
  const test = Array.from({ length: val.files.length }, (_, i) => i);
  console.log(
    `\n## Learning curve (shipped model's embeddings; held out: all ${test.length} validation-split crops, ${Math.ceil(test.length / CASE_SIZE)} cases)`,
  );
  console.log(`options ${JSON.stringify({ ...DEFAULT_HEAD_TRAINING, ...options })}; ${seeds} seeds (which cases are reviewed); mean (min–max)`);
  console.log('| reviewed cells per class | lab model macro-F1 | base model macro-F1 | lab BLA recall | base BLA recall |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const n of [20, 50, 100, 200]) {
    const lab: number[] = [];
    const base: number[] = [];
    const labBla: number[] = [];
    const baseBla: number[] = [];
    for (let s = 1; s <= seeds; s++) {
      const head = trainOn(
        train,
        reviewedCells(train, trainCases, () => n, s),
        MARROW,
        { ...options, seed: s },
      );
      const r = compare(val, test, head);
      lab.push(r.lab.macroF1);
      base.push(r.base.macroF1);
      labBla.push(r.lab.perClass.find((m) => m.code === 'BLA')!.recall);
      baseBla.push(r.base.perClass.find((m) => m.code === 'BLA')!.recall);
    }
    console.log(`| ${n} | ${range(lab)} | ${range(base)} | ${range(labBla)} | ${range(baseBla)} |`);
  }

  // Within the validation split: its cases dealt into two halves, reviewed cells from one, tested on the other.
  console.log('\n### Within the validation split only (no cell the network was trained on; test = the other half of its cases)');
  console.log('| reviewed cells per class | lab model macro-F1 | base model macro-F1 (same test cells) |');
  console.log('|---:|---:|---:|');
  for (const n of [20, 40]) {
    const lab: number[] = [];
    const base: number[] = [];
    for (let s = 1; s <= seeds; s++) {
      const cases = casesOf(val.files.length, 100 + s);
      const half = Math.floor(cases.length / 2);
      const pool = cases.slice(0, half);
      const heldOut = cases.slice(half).flat();
      const head = trainOn(
        val,
        reviewedCells(val, pool, () => n, s),
        MARROW,
        { ...options, seed: s },
      );
      const r = compare(val, heldOut, head);
      lab.push(r.lab.macroF1);
      base.push(r.base.macroF1);
    }
    console.log(`| ${n} | ${range(lab)} | ${range(base)} |`);
  }
}

function newClass(seeds: number, options: Partial<HeadTrainingOptions>): void {
  const train = load('unseen-pmo-train');
  const val = load('unseen-pmo-val');
  const trainCases = casesOf(train.files.length, 12);
  const test = Array.from({ length: val.files.length }, (_, i) => i);
  const pmoTest = test.filter((i) => val.labels[i] === 'PMO').length;
  console.log(
    `\n## New class: base model trained without PMO (${val.logitClasses.length} classes, training/runs/cpu-unseen-pmo); held out: ${test.length} validation crops, ${pmoTest} PMO`,
  );
  console.log('Reviewed: N PMO cells and 200 of each other marrow class; mean (min–max) over seeds');
  console.log('| reviewed PMO cells | PMO recall (share right) | PMO F1 | lab macro-F1 | base macro-F1 (PMO F1 = 0) |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const n of [20, 50, 100, 200]) {
    const recall: number[] = [];
    const f1: number[] = [];
    const lab: number[] = [];
    const base: number[] = [];
    for (let s = 1; s <= seeds; s++) {
      const cells = reviewedCells(train, trainCases, (c) => (c === 'PMO' ? n : 200), s);
      const head = trainOn(train, cells, MARROW, { ...options, seed: s });
      const r = compare(val, test, head);
      const pmo = r.lab.perClass.find((m) => m.code === 'PMO')!;
      recall.push(pmo.recall);
      f1.push(pmo.f1);
      lab.push(r.lab.macroF1);
      base.push(r.base.macroF1);
    }
    console.log(`| ${n} | ${range(recall)} | ${range(f1)} | ${range(lab)} | ${range(base)} |`);
  }
}

function sweep(): void {
  const train = load('shipped-train');
  const val = load('shipped-val');
  const cases = casesOf(val.files.length, 101);
  const half = Math.floor(cases.length / 2);
  console.log('\n## L2 / epochs sweep (validation split halves, 40 reviewed cells per class, 3 seeds): lab macro-F1');
  for (const l2 of [1e-3, 0.1, 1, 3]) {
    for (const epochs of [10, 30]) {
      const f: number[] = [];
      for (let s = 1; s <= 3; s++) {
        const head = trainOn(
          val,
          reviewedCells(val, cases.slice(0, half), () => 40, s),
          MARROW,
          { l2, epochs, seed: s },
        );
        f.push(compare(val, cases.slice(half).flat(), head).lab.macroF1);
      }
      console.log(`l2 ${l2} epochs ${epochs}: ${range(f)}`);
    }
  }
  void train;
}

async function speed(): Promise<void> {
  const n = 50_000;
  console.log(
    `\n## Training a head on ${n.toLocaleString('en')} reviewed cells in the app's worker thread (trainAndValidate: split by case, train, temperature, validation)`,
  );
  const shipped = [load('shipped-train'), load('shipped-val')];
  const pool = shipped.flatMap((s) => s.labels.map((label, i) => ({ s, i, label })));
  const random = mulberry32(5);
  const dim = shipped[0]!.dim;
  const baseClasses = shipped[0]!.logitClasses;
  const real: PackedCells = {
    dim,
    caseKeys: [],
    labels: [],
    embeddings: new Float32Array(n * dim),
    openSetScores: [],
    basePredicted: [],
    baseConfidence: [],
    baseClasses,
    baseProbabilities: new Float32Array(n * baseClasses.length),
  };
  for (let k = 0; k < n; k++) {
    const { s, i, label } = pool[Math.floor(random() * pool.length)]!;
    real.embeddings.set(s.emb.subarray(i * dim, (i + 1) * dim), k * dim);
    const kb = baseClasses.length;
    real.baseProbabilities.set(softmaxWithTemperature(s.logits.subarray(i * kb, (i + 1) * kb), s.temperature), k * kb);
    real.caseKeys.push(`case-${Math.floor(k / 500)}`);
    real.labels.push(label);
    real.openSetScores.push(null);
    real.basePredicted.push(s.logitClasses[argmax(s.logits, i * s.logitClasses.length, s.logitClasses.length)]!);
    real.baseConfidence.push(0.9);
  }
  // 21 classes (the most a head can have), synthetic Gaussian classes: the cost grows with the number of classes.
  const all: CellClassCode[] = [...CELL_CLASS_CODES];
  const centres = all.map(() => Float32Array.from({ length: dim }, () => 2 * (random() - 0.5)));
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const synthetic: PackedCells = { ...real, caseKeys: [...real.caseKeys], labels: [], embeddings: new Float32Array(n * dim), basePredicted: [] };
  for (let k = 0; k < n; k++) {
    const c = k % all.length;
    for (let j = 0; j < dim; j++) synthetic.embeddings[k * dim + j] = centres[c]![j]! + gauss();
    synthetic.labels.push(all[c]!);
    synthetic.basePredicted.push(all[c]!);
  }
  console.log('| cells | classes | wall s | CPU s (all threads) | progress messages | peak RSS MB |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const [name, cells] of [
    ['marrow embeddings (resampled)', real],
    ['synthetic', synthetic],
  ] as const) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let messages = 0;
    const handle = startTrainingWorker({ cells, minimumPerClass: 30, openSetThreshold: null }, () => messages++);
    const outcome = await handle.outcome;
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (outcome.kind !== 'done') throw new Error(`training ${outcome.kind}: ${'message' in outcome ? outcome.message : ''}`);
    const classes = outcome.result.head.classes.length;
    console.log(
      `| ${n.toLocaleString('en')} (${name}) | ${classes} | ${wall.toFixed(1)} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} | ${messages} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`,
    );
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seeds = Number(args[args.indexOf('--seeds') + 1] ?? 5) || 5;
  const opt = (name: string): number | undefined => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
  const options: Partial<HeadTrainingOptions> = {};
  for (const [flag, key] of [
    ['--l2', 'l2'],
    ['--l2-new', 'l2NewClass'],
    ['--epochs', 'epochs'],
  ] as const) {
    const v = opt(flag);
    if (v !== undefined) options[key] = v;
  }
  console.log(`# Lab-model benchmark, ${new Date().toISOString()}, Node ${process.version}`);
  RESIDUAL = !args.includes('--plain');
  console.log(RESIDUAL ? 'Residual head: base model log-probabilities + W z + b' : 'Plain head: W z + b');
  if (args.includes('--sweep')) sweep();
  if (!args.includes('--speed-only')) {
    learningCurve(seeds, options);
    newClass(seeds, options);
  }
  await speed();
}

void main();
