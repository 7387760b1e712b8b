// `npm run bench`: throughput and memory of the analysis pipeline on real crops from ../shared/data.
//   1. the bundled model (resources/models/marrowcount-ref; the tiny test model when it is absent), 2,000 crops:
//      cells/s end to end (walk, hash, decode, preprocess, model, SQLite), cells/s of the model alone, peak RSS;
//   2. the same for a ResNeXt-50 32x4d at 224 px with random weights (exported once into .cache/bench/);
//   3. a 20,000-crop case with the bundled model, for peak RSS (target < 600 MB);
//   4. review decisions: 5 stations deciding at once through the lab server (scripts/bench-server.ts), p50/p95/p99
//      of a decision's round trip over HTTPS; with --db on PostgreSQL also the decision as the database takes it, 5
//      connections at once through the review repository (scripts/bench-pg-review.ts; issue 22's target: p95 < 50 ms).
// Each measurement runs in its own process (scripts/bench/measure.ts) so that peak RSS is its own.
// Options: --quick (500 / 2,000 crops), --skip-resnext, --skip-20k, --skip-review, --batch-sweep (end-to-end rate per
// batch size and per onnxruntime thread count), --spin-sweep (onnxruntime threads busy-waiting or not),
// --db <where> (scripts/bench/database.ts): absent, SQLite; `postgres` for a throw-away durable PostgreSQL cluster;
// a postgres:// URL for that server (a database per measurement, created and dropped: the role needs CREATEDB).
// Besides cells/s, each run prints the process's CPU time per cell, which is what to compare when other programs
// share the machine (the load average is printed with each run for that reason).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCropFolder } from './bench/crops.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, '..', 'shared', 'data');
const argv = process.argv.slice(2);
const dbAt = argv.findIndex((a) => a === '--db' || a.startsWith('--db='));
const dbOption = dbAt < 0 ? undefined : argv[dbAt].startsWith('--db=') ? argv[dbAt].slice(5) : argv[dbAt + 1];
if (dbAt >= 0 && (dbOption === undefined || dbOption.startsWith('--'))) {
  console.error('bench: --db needs a value: a postgres:// URL, or "postgres" for a throw-away cluster');
  process.exit(2);
}
const args = new Set(argv.filter((_, i) => dbAt < 0 || (i !== dbAt && !(i === dbAt + 1 && !argv[dbAt].startsWith('--db=')))));
const quick = args.has('--quick');

if (!existsSync(join(dataDir, 'matek-bm'))) {
  console.log(`bench: ${dataDir} is not here (it holds the real crops the benchmark reads); nothing to measure.`);
  process.exit(0);
}

const bundled = join(root, 'resources/models/marrowcount-ref');
const tiny = join(root, 'test/fixtures/models/tiny');
const resnext = join(root, '.cache/bench/resnext50');
const referenceModel = existsSync(join(bundled, 'model.onnx')) ? bundled : tiny;
const referenceName = referenceModel === bundled ? 'marrowcount-ref (bundled)' : 'tiny test model (bundled model absent)';

// The TypeScript helpers (the throw-away cluster) load through tsx, as measure.ts does.
const { register } = await import('tsx/esm/api');
register();
const { benchServer } = await import('./bench/database.ts');
const database = await benchServer(dbOption);
const postgresUrl = database.url ?? '';

function measure(...measureArgs) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench/measure.ts'), ...measureArgs.map(String)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`measure ${measureArgs.join(' ')} failed (exit ${result.status})`);
  const line = result.stdout.trim().split('\n').pop();
  return JSON.parse(line);
}

function ensureResnext() {
  if (existsSync(join(resnext, 'model.onnx'))) return true;
  console.log('bench: exporting ResNeXt-50 32x4d (random weights) once into .cache/bench/resnext50 …');
  const result = spawnSync('/usr/bin/python3', [join(root, 'training/export_resnext_bench.py'), '--out', resnext], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.log('bench: could not export ResNeXt (needs /usr/bin/python3 with torch + torchvision); skipped.');
    return false;
  }
  return true;
}

const work = mkdtempSync(join(tmpdir(), 'marrowcount-bench-'));
const rows = [];
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const load = () => fmt(loadavg()[0], 1);
function row(model, crops, e2e, alone) {
  rows.push({ model, crops, e2e, alone, load: load() });
  console.log(
    `  ${model}: ${fmt(e2e.cells)} cells in ${fmt(e2e.seconds, 1)} s → ${fmt(e2e.cellsPerSecond)} cells/s end to end ` +
      `(${fmt(e2e.cpuMsPerCell, 1)} CPU-ms/cell)` +
      (alone ? `, model alone ${fmt(alone.cellsPerSecond)} cells/s (${fmt(alone.cpuMsPerCell, 2)} CPU-ms/cell)` : '') +
      `, peak RSS ${fmt(e2e.peakRssMb)} MB, load average ${load()}`,
  );
}
const sweepLine = (label, e2e) =>
  console.log(
    `  ${label}: ${fmt(e2e.cellsPerSecond)} cells/s end to end, ${fmt(e2e.cpuMsPerCell, 1)} CPU-ms/cell, peak RSS ${fmt(e2e.peakRssMb)} MB, load average ${load()}`,
  );

try {
  const batch = 32;
  const smallCount = quick ? 500 : 2000;
  console.log(`bench: load average ${load()} (other programs on the machine slow every figure but CPU-ms/cell)`);
  console.log(`bench: database ${database.description}`);
  console.log(
    `bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), available parallelism ${availableParallelism()}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}`,
  );
  console.log(`bench: copying ${fmt(smallCount)} crops from ${dataDir} …`);
  const small = buildCropFolder(dataDir, join(work, `case-${smallCount}`), smallCount);

  console.log(`bench: ${referenceName}, batch ${batch}`);
  row(referenceName, smallCount, measure('e2e', referenceModel, small, batch, '', 0, postgresUrl), measure('model', referenceModel, batch));

  if (args.has('--batch-sweep')) {
    for (const size of [1, 8, 16, 32, 64]) sweepLine(`batch ${size}`, measure('e2e', referenceModel, small, size, '', 0, postgresUrl));
    for (const threads of [1, 2, 4]) sweepLine(`${threads} onnxruntime thread(s)`, measure('e2e', referenceModel, small, batch, threads, 0, postgresUrl));
  }
  if (args.has('--spin-sweep')) {
    for (const spin of [0, 1]) {
      sweepLine(`spinning ${spin ? 'on' : 'off'}`, measure('e2e', referenceModel, small, batch, '', spin, postgresUrl));
      const alone = measure('model', referenceModel, batch, '', spin);
      console.log(`    model alone: ${fmt(alone.cellsPerSecond)} cells/s, ${fmt(alone.cpuMsPerCell, 2)} CPU-ms/cell`);
    }
  }

  if (!args.has('--skip-resnext') && ensureResnext()) {
    console.log(`bench: ResNeXt-50 32x4d 224 px (random weights), batch ${batch}`);
    row('ResNeXt-50 32x4d 224 px', smallCount, measure('e2e', resnext, small, batch, '', 0, postgresUrl), measure('model', resnext, batch));
  }
  rmSync(small, { recursive: true, force: true });

  if (!args.has('--skip-20k')) {
    const bigCount = quick ? 2000 : 20000;
    console.log(`bench: copying ${fmt(bigCount)} crops (distinct copies of the ${fmt(6121)} marrow crops) …`);
    const big = buildCropFolder(dataDir, join(work, `case-${bigCount}`), bigCount);
    console.log(`bench: ${referenceName}, ${fmt(bigCount)} crops`);
    row(referenceName, bigCount, measure('e2e', referenceModel, big, batch, '', 0, postgresUrl), null);
    rmSync(big, { recursive: true, force: true });
  }

  let review = null;
  let storedDecisions = null;
  if (!args.has('--skip-review')) {
    console.log('bench: review decisions, 5 stations at once through the lab server (scripts/bench-server.ts) …');
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'scripts/bench-server.ts'),
        '--cells',
        quick ? '200' : '500',
        '--decisions',
        '200',
        ...(database.url ? ['--db', database.url] : []),
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (result.status !== 0) throw new Error(`bench-server failed (exit ${result.status}):\n${result.stdout}`);
    for (const line of result.stdout.trim().split('\n')) if (line.trim() !== '') console.log(`  ${line}`);
    review = result.stdout.split('\n').find((l) => l.startsWith('2. ')) ?? null;
    if (database.url) {
      console.log('bench: review decisions stored by PostgreSQL, 5 connections at once (scripts/bench-pg-review.ts) …');
      const stored = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench-pg-review.ts'), '200', '--db', database.url], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (stored.status !== 0) throw new Error(`bench-pg-review failed (exit ${stored.status}):\n${stored.stdout}`);
      for (const line of stored.stdout.trim().split('\n')) if (line.trim() !== '') console.log(`  ${line}`);
      storedDecisions = stored.stdout.split('\n').find((l) => l.includes('separate cases: addReview')) ?? null;
    }
  }

  console.log('\n| Model | Crops | End to end (cells/s) | CPU-ms per cell | Model alone (cells/s) | Peak RSS (MB) | Wall time (s) | Load avg |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${fmt(r.crops)} | ${fmt(r.e2e.cellsPerSecond)} | ${fmt(r.e2e.cpuMsPerCell, 1)} | ${r.alone ? fmt(r.alone.cellsPerSecond) : '—'} | ` +
        `${fmt(r.e2e.peakRssMb)} | ${fmt(r.e2e.seconds, 1)} | ${r.load} |`,
    );
  }
  if (review !== null) console.log(`\nReview decisions: ${review.slice(3)}, load average ${load()}`);
  if (storedDecisions !== null) console.log(`Review decisions stored by PostgreSQL (5 connections): ${storedDecisions.trim()}`);
  console.log(`\nMachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), batch ${batch}, onnxruntime threads = cores.`);
  console.log(`Database: ${database.description}.`);
} finally {
  rmSync(work, { recursive: true, force: true });
  database.stop();
}
