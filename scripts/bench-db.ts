// Storage benchmark: builds a 100,000-cell case in a temporary SQLite file and prints how long the writes and the
// queries the UI runs take. Figures only; correctness is asserted by test/integration/db.
//   scripts/with-node.sh npx tsx scripts/bench-db.ts [cells] [batch]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CELL_CLASS_CODES, type CellClassCode } from '../src/shared/cell-classes';
import {
  addReviews,
  backupDatabase,
  beginAnalysis,
  closeDatabase,
  createCase,
  effectiveCountsByClass,
  insertImages,
  insertPredictions,
  listCases,
  listCells,
  openDatabase,
  registerModel,
  retractLatestReview,
  reviewProgress,
  setCaseStatus,
  upsertPatient,
  type ImageFile,
  type NewPrediction,
} from '../src/main/db';

const CELLS = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 500);
const OTHER_CASES = 20;
const OTHER_CASE_CELLS = 500;

// Deterministic pseudo-random numbers (mulberry32) so runs are comparable.
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const classes: CellClassCode[] = [...CELL_CLASS_CODES];

function fakePrediction(imageId: number): NewPrediction {
  // A dominant class with a random margin: about a fifth of the cells end up under the 0.6 flagging threshold.
  const weight = 2 + random() * 40;
  const raw = classes.map((_, i) => (i === imageId % classes.length ? weight : random() * 0.5));
  const sum = raw.reduce((a, b) => a + b, 0);
  const probabilities = raw.map((v) => v / sum);
  let best = 0;
  probabilities.forEach((p, i) => {
    if (p > probabilities[best]!) best = i;
  });
  const confidence = probabilities[best]!;
  return {
    imageId,
    predicted: classes[best]!,
    probabilities,
    confidence,
    flagged: confidence < 0.6,
    flagReasons: confidence < 0.6 ? [{ kind: 'low_confidence' as const, detail: `${confidence.toFixed(2)} < 0.60` }] : [],
  };
}

function hex64(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** Wall-clock and CPU time (user + system of this process): on a busy machine CPU time is the steadier figure. */
function time<T>(fn: () => T): { ms: number; cpuMs: number; value: T } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, value };
}

function report(label: string, t: { ms: number; cpuMs: number }, extra = ''): void {
  console.log(`${label.padEnd(52)} wall ${t.ms.toFixed(0).padStart(7)} ms   cpu ${t.cpuMs.toFixed(0).padStart(7)} ms   ${extra}`);
}

function median(label: string, runs: number, fn: () => unknown): void {
  fn(); // warm the statement cache and the page cache
  const times = Array.from({ length: runs }, () => time(fn));
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const wall = mid(times.map((t) => t.ms));
  const cpu = mid(times.map((t) => t.cpuMs));
  const max = Math.max(...times.map((t) => t.ms));
  console.log(
    `${label.padEnd(52)} median wall ${wall.toFixed(2).padStart(7)} ms   cpu ${cpu.toFixed(2).padStart(7)} ms   max wall ${max.toFixed(1).padStart(6)} ms  (${runs} runs)`,
  );
}

function buildCase(db: ReturnType<typeof openDatabase>, accession: string, cells: number, modelRowId: number, hashOffset: number) {
  const patient = upsertPatient(db, { labId: `MRN-${accession}`, name: `Patient ${accession}` });
  const row = createCase(db, { patientId: patient.id, accession, specimen: 'bone_marrow_aspirate', folder: `/data/${accession}`, actor: 'bench' });
  const files: ImageFile[] = Array.from({ length: cells }, (_, i) => ({
    relativePath: `cells/${String(i).padStart(6, '0')}.jpg`,
    sha256: hex64(hashOffset + i),
    bytes: 12_000,
    width: 250,
    height: 250,
    importError: null,
  }));
  const imported = time(() => insertImages(db, row.id, files));
  beginAnalysis(db, { caseId: row.id, modelRowId, actor: 'bench' });
  const imageIds = imported.value.inserted.map((r) => r.id);
  const predictions = imageIds.map(fakePrediction);
  const stored = time(() => {
    for (let i = 0; i < predictions.length; i += BATCH) insertPredictions(db, modelRowId, predictions.slice(i, i + BATCH));
  });
  setCaseStatus(db, row.id, 'in_review', 'bench');
  return { caseId: row.id, imageIds, predictions, imported, stored };
}

const dir = mkdtempSync(join(tmpdir(), 'marrowcount-bench-'));
// BENCH_DB_KEEP=<file> keeps the built database there (for EXPLAIN QUERY PLAN work).
const path = process.env.BENCH_DB_KEEP ?? join(dir, 'bench.sqlite');
try {
  console.log(`MarrowCount storage benchmark: ${CELLS} cells in one case (+${OTHER_CASES} cases of ${OTHER_CASE_CELLS}), batches of ${BATCH}`);
  console.log(
    `Node ${process.version}, ${process.platform} ${process.arch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  const db = openDatabase(path);
  const model = registerModel(db, { modelId: 'bench', version: '1', sha256: 'ab'.repeat(32), name: 'Bench model', classes });

  const big = buildCase(db, 'BENCH-BIG', CELLS, model.id, 0);
  report(`insert ${CELLS} images (one transaction)`, big.imported, `${((CELLS / big.imported.ms) * 1000).toFixed(0)} images/s (wall)`);
  report(
    `insert ${CELLS} predictions (batches of ${BATCH})`,
    big.stored,
    `${((CELLS / big.stored.ms) * 1000).toFixed(0)} predictions/s (wall), ${((CELLS / big.stored.cpuMs) * 1000).toFixed(0)}/s (cpu)`,
  );
  for (let c = 0; c < OTHER_CASES; c++) buildCase(db, `BENCH-${c}`, OTHER_CASE_CELLS, model.id, 10_000_000 + c * OTHER_CASE_CELLS);

  // A reviewer went through the flagged cells: 5,000 decisions (a third reclassified), 500 undone.
  const flagged = big.predictions.filter((p) => p.flagged).slice(0, 5000);
  const reviews = flagged.map((p, i) => ({
    caseId: big.caseId,
    imageId: p.imageId,
    label: i % 3 === 0 ? classes[(classes.indexOf(p.predicted) + 1) % classes.length]! : p.predicted,
    reviewer: 'bench',
  }));
  const reviewed = time(() => {
    for (let i = 0; i < reviews.length; i += 100) addReviews(db, reviews.slice(i, i + 100));
  });
  report(`add ${reviews.length} reviews (batches of 100)`, reviewed);
  const undone = time(() => {
    for (const p of flagged.slice(0, 500)) retractLatestReview(db, { caseId: big.caseId, imageId: p.imageId, reviewer: 'bench' });
  });
  report('undo 500 reviews (one transaction each)', undone);
  console.log(`flagged cells in the big case: ${big.predictions.filter((p) => p.flagged).length}\n`);

  median(`effectiveCountsByClass (${CELLS}-cell case)`, 50, () => effectiveCountsByClass(db, big.caseId));
  median(`reviewProgress (${CELLS}-cell case)`, 50, () => reviewProgress(db, big.caseId));
  median(`listCells flagged, first page of 100`, 50, () => listCells(db, { caseId: big.caseId, scope: 'flagged', offset: 0, limit: 100 }));
  median(`listCells unreviewed, first page of 100`, 50, () => listCells(db, { caseId: big.caseId, scope: 'unreviewed', offset: 0, limit: 100 }));
  median(`listCells flagged, page at offset 20,000`, 20, () => listCells(db, { caseId: big.caseId, scope: 'flagged', offset: 20_000, limit: 100 }));
  median(`listCells all, effectiveClass=BLA, first page`, 20, () => listCells(db, { caseId: big.caseId, scope: 'all', effectiveClass: 'BLA', limit: 100 }));
  median(`listCells all, first page of 100`, 20, () => listCells(db, { caseId: big.caseId, scope: 'all', offset: 0, limit: 100 }));
  median(`listCases (${OTHER_CASES + 1} cases, with counts)`, 20, () => listCases(db, {}));
  median(`listCases search "BENCH-1"`, 20, () => listCases(db, { search: 'BENCH-1' }));
  closeDatabase(db);

  const size = statSync(path).size;
  console.log(`\ndatabase file: ${(size / 1024 / 1024).toFixed(1)} MiB`);
  const reopened = time(() => openDatabase(path));
  report('open (quick_check + migration check)', reopened);
  const backupPath = join(dir, 'backup.sqlite');
  const start = process.hrtime.bigint();
  await backupDatabase(reopened.value, backupPath);
  console.log(`${'online backup'.padEnd(52)} wall ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0).padStart(7)} ms`);
  closeDatabase(reopened.value);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
