// How long the main process's event loop is blocked while the service works: the window freezes for as long as
// the longest block, so this is the figure that shows analysis (in its worker) and reports stay off the main thread.
//   scripts/with-node.sh npx tsx scripts/bench-main-thread.ts [case-folder]
// Default case: the demo case when installed, else the fixture crops. Model: the bundled one, else the tiny one.
// Last, a 20,000-cell case (stored base-model predictions and embeddings, written straight to the database) is
// re-analysed with an approved lab model (random head, the bundled model's embedding size): that block must stay
// under 50 ms (issue 19), since the work runs in a worker (lab-model/reanalyse-worker.ts).
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { CELL_CLASS_CODES } from '../src/shared/cell-classes';
import type { LabHead } from '../src/shared/lab-head';
import {
  approveLabModel,
  beginAnalysis,
  closeDatabase,
  createCase,
  insertImages,
  insertPredictions,
  openDatabase,
  registerModel,
  setCaseStatus,
  storeLabModel,
  upsertPatient,
  type NewPrediction,
} from '../src/main/db';
import { modelRegistration, readModelManifest } from '../src/main/inference/model-package';
import { labModelRegistration } from '../src/main/service/lab-model-records';
import { createMarrowService } from '../src/main/service/marrow-service';

const root = resolve(import.meta.dirname, '..');
const bundled = join(root, 'resources', 'models', 'marrowcount-ref');
const modelDir = existsSync(join(bundled, 'model.json')) ? bundled : join(root, 'test', 'fixtures', 'models', 'tiny');
const demo = join(root, 'resources', 'demo', 'case-001');
const work = mkdtempSync(join(tmpdir(), 'marrowcount-bench-main-'));
let folder = process.argv[2] ? resolve(process.argv[2]) : demo;
if (!existsSync(folder)) {
  folder = join(work, 'crops');
  cpSync(join(root, 'test', 'fixtures', 'crops', 'good'), folder, { recursive: true });
}

// The workers as the app runs them (bundled JavaScript) when built; else from the sources through tsx.
const bundledWorker = (name: string) => (existsSync(join(root, 'out', 'main', name)) ? { file: join(root, 'out', 'main', name), execArgv: [] } : undefined);
const analysisWorker = bundledWorker('inference-worker.js');
const reanalysisWorker = bundledWorker('lab-model-reanalyse-worker.js');
console.log(`workers: ${reanalysisWorker === undefined ? 'TypeScript sources (tsx)' : 'bundled (out/main)'}`);
const host = await createMarrowService(
  {
    databaseLocation: join(work, 'marrowcount.sqlite'),
    modelDir,
    reportsDir: join(work, 'reports'),
    cellImageUrl: (c, i) => `/cells/${c}/${i}`,
    appVersion: 'bench',
  },
  {
    ...(analysisWorker === undefined ? {} : { analysis: { workerEntry: analysisWorker } }),
    ...(reanalysisWorker === undefined ? {} : { labReanalysisWorkerEntry: reanalysisWorker }),
    allowWithoutAccounts: true,
  },
);
// A new database without accounts: the benchmark runs as the demo CLI does, without a session.
const service = host.forSession({ transport: 'cli', token: null });

const longest = new Map<string, number>();
const LAB_CELLS = 20_000;

// Deterministic pseudo-random numbers (mulberry32), so runs are comparable.
let seed = 7;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A case of LAB_CELLS cells analysed by the installed base model, and an approved lab model on it; null without embeddings. */
async function seedLabModelCase(databasePath: string): Promise<{ caseId: number; labModelId: number } | null> {
  const manifest = await readModelManifest(modelDir);
  if (manifest.embedding === null) return null;
  const dim = manifest.embedding.dim;
  const db = openDatabase(databasePath);
  try {
    const base = registerModel(db, modelRegistration(manifest), 'bench');
    const patient = upsertPatient(db, { labId: 'BENCH-LAB' });
    const row = createCase(db, {
      patientId: patient.id,
      accession: 'BENCH-LAB-20000',
      specimen: 'bone_marrow_aspirate',
      folder: join(work, 'lab-case'),
      actor: 'bench',
    });
    const files = Array.from({ length: LAB_CELLS }, (_, i) => ({
      relativePath: `cells/${String(i).padStart(6, '0')}.jpg`,
      sha256: i.toString(16).padStart(64, '0'),
      bytes: 12_000,
      width: 250,
      height: 250,
      importError: null,
    }));
    const ids = insertImages(db, row.id, files).inserted.map((r) => r.id);
    beginAnalysis(db, { caseId: row.id, modelRowId: base.id, actor: 'bench' });
    const k = manifest.classes.length;
    const predictions: NewPrediction[] = ids.map((imageId, i) => {
      const raw = manifest.classes.map((_, c) => (c === i % k ? 4 + random() * 20 : random()));
      const sum = raw.reduce((a, b) => a + b, 0);
      const probabilities = raw.map((v) => v / sum);
      const best = i % k;
      return {
        imageId,
        predicted: manifest.classes[best]!,
        probabilities,
        confidence: probabilities[best]!,
        flagged: false,
        flagReasons: [],
        embedding: Float32Array.from({ length: dim }, () => random() * 2 - 1),
        openSetScore: random() * 10,
      };
    });
    for (let i = 0; i < predictions.length; i += 1000) insertPredictions(db, base.id, predictions.slice(i, i + 1000), 'bench');
    setCaseStatus(db, row.id, 'in_review', 'bench');
    const classes = manifest.classes.filter((c) => (CELL_CLASS_CODES as readonly string[]).includes(c)).slice(0, 12);
    const head: LabHead = {
      formatVersion: 1,
      classes,
      dim,
      mean: Array.from({ length: dim }, () => 0),
      std: Array.from({ length: dim }, () => 1),
      weights: Array.from({ length: classes.length * dim }, () => (random() - 0.5) * 0.02),
      bias: classes.map(() => 0),
      temperature: 1,
      residual: true,
    };
    const headJson = JSON.stringify(head);
    const lab = storeLabModel(db, {
      baseModelRowId: base.id,
      registration: labModelRegistration(base, { version: 'lab-bench', sha256: 'cd'.repeat(32), name: 'Bench lab model (random head)' }),
      head,
      headJson,
      headSha256: 'ef'.repeat(32),
      cases: [],
      minimumPerClass: 30,
      validation: { lab: { macroF1: 0 }, base: { macroF1: 0 } },
      trainedBy: 'bench',
      trainedAt: new Date().toISOString(),
    });
    approveLabModel(db, { labModelId: lab.id, by: 'bench', role: 'bench', reason: 'benchmark' });
    return { caseId: row.id, labModelId: lab.id };
  } finally {
    closeDatabase(db);
  }
}

/**
 * Two figures per step. "longest event-loop block" is wall time between timer ticks (monitorEventLoopDelay): what
 * a person sees, but on a loaded machine it also counts the time the OS gave the CPU to other processes. "longest
 * main-thread work" is the CPU time this thread itself spent between two ticks of a 1 ms timer
 * (process.threadCpuUsage): the block our own code causes, whatever else the machine runs. The 50 ms limit is
 * checked on the second; both are printed, with the load average, so a reader can judge the first.
 */
async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let lastCpu = process.threadCpuUsage();
  let maxCpuMs = 0;
  const sampler = setInterval(() => {
    const now = process.threadCpuUsage();
    maxCpuMs = Math.max(maxCpuMs, (now.user - lastCpu.user + now.system - lastCpu.system) / 1000);
    lastCpu = now;
  }, 1);
  const start = performance.now();
  await work();
  const wall = performance.now() - start;
  clearInterval(sampler);
  const now = process.threadCpuUsage();
  maxCpuMs = Math.max(maxCpuMs, (now.user - lastCpu.user + now.system - lastCpu.system) / 1000);
  delay.disable();
  longest.set(label, maxCpuMs);
  console.log(
    `${label.padEnd(34)} wall ${wall.toFixed(0).padStart(6)} ms   longest event-loop block ${(delay.max / 1e6).toFixed(1).padStart(6)} ms   ` +
      `p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms   longest main-thread work ${maxCpuMs.toFixed(1).padStart(6)} ms`,
  );
}

try {
  console.log(`model ${modelDir}\ncase folder ${folder}\n`);
  const created = await service.createCase({ patient: { labId: 'BENCH' }, accession: 'BENCH-1', specimen: 'bone_marrow_aspirate', folder });
  await measure('startAnalysis (spawns the worker)', () => service.startAnalysis(created.id));
  await measure('analysis in the worker, polled at 10 Hz', async () => {
    for (;;) {
      const p = await service.getAnalysisProgress(created.id);
      if (p && p.phase !== 'importing' && p.phase !== 'classifying') {
        console.log(`  ${p.phase}: ${p.done}/${p.total} cells, ${p.failures.length} failures`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  const cells = await service.getCase(created.id);
  console.log(`  ${cells.cellCount} cells classified`);
  await measure('getDifferential', () => service.getDifferential(created.id));
  await measure('listCells (unreviewed, 100)', () => service.listCells({ caseId: created.id, scope: 'unreviewed', limit: 100 }));
  await measure('listCases', () => service.listCases({}));
  await measure('saveReport (PDF, first)', () => service.saveReport({ caseId: created.id }));
  await measure('saveReport (PDF, again)', () => service.saveReport({ caseId: created.id }));
  await measure('exportCase csv-cells', () => service.exportCase({ caseId: created.id, format: 'csv-cells' }));
  await measure('exportCase json', () => service.exportCase({ caseId: created.id, format: 'json' }));

  const seeded = await seedLabModelCase(join(work, 'marrowcount.sqlite'));
  if (seeded === null) console.log(`\n${modelDir} stores no embeddings: no lab-model re-analysis to measure.`);
  else {
    const label = `analyseWithLabModel, ${LAB_CELLS} cells`;
    await measure(label, () => service.analyseWithLabModel({ caseId: seeded.caseId, labModelId: seeded.labModelId }));
    const cells = await service.listCells({ caseId: seeded.caseId, scope: 'all', limit: 1 });
    const block = longest.get(label)!;
    console.log(
      `  ${cells.total} cells now on the lab model; longest main-thread work ${block.toFixed(1)} ms (limit 50 ms): ${block < 50 ? 'ok' : 'TOO LONG'}; ` +
        `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
    );
    if (block >= 50) process.exitCode = 1;
  }
} finally {
  await host.close();
  rmSync(work, { recursive: true, force: true });
}
