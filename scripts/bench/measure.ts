// One benchmark measurement in its own process, so that its peak RSS is its own. Run by scripts/bench.mjs:
//   node --import tsx scripts/bench/measure.ts e2e   <modelDir> <cropsDir> <batchSize> [threads] [spin 0|1]
//   node --import tsx scripts/bench/measure.ts model <modelDir> <batchSize> [threads] [spin 0|1]
// Prints one JSON line on stdout.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { closeDatabase, createCase, openDatabase, upsertPatient } from '../../src/main/db';
import { loadModelPackage } from '../../src/main/inference/model-package';
import { AnalysisRunner } from '../../src/main/service/analysis-runner';

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

async function endToEnd(modelDir: string, cropsDir: string, batchSize: number, threads: number | undefined, spin: boolean): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'marrowcount-bench-db-'));
  const databasePath = join(work, 'bench.sqlite');
  try {
    const db = openDatabase(databasePath);
    const patient = upsertPatient(db, { labId: 'BENCH', actor: 'bench' });
    const caseId = createCase(db, { patientId: patient.id, accession: 'BENCH-1', specimen: 'bone_marrow_aspirate', folder: cropsDir, actor: 'bench' }).id;
    closeDatabase(db);

    const runner = new AnalysisRunner({
      databaseLocation: databasePath,
      modelDir,
      batchSize,
      allowSpinning: spin,
      ...(threads === undefined ? {} : { intraOpThreads: threads }),
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    runner.start(caseId);
    const result = await runner.whenFinished(caseId);
    const seconds = (performance.now() - started) / 1000;
    if (result.error) throw result.error;
    const cells = result.outcome?.classified ?? 0;
    console.log(
      JSON.stringify({
        mode: 'e2e',
        cells,
        failed: result.progress.failures.length,
        seconds,
        cellsPerSecond: cells / seconds,
        // CPU time of the whole process (main thread, worker, libuv and onnxruntime threads): unlike the rate, it
        // barely changes when other programs compete for the cores.
        cpuMsPerCell: (1000 * cpuSeconds(cpu)) / cells,
        peakRssMb: peakRssMb(),
        databaseMb: statSync(databasePath).size / 2 ** 20,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function modelAlone(modelDir: string, batchSize: number, threads: number | undefined, spin: boolean): Promise<void> {
  const model = await loadModelPackage(modelDir, { allowSpinning: spin, ...(threads === undefined ? {} : { intraOpThreads: threads }) });
  const { input } = model.manifest;
  const data = new Float32Array(batchSize * 3 * input.height * input.width);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 2;
  const tensor = new ort.Tensor('float32', data, [batchSize, 3, input.height, input.width]);
  const run = () => model.session.run({ [input.name]: tensor });
  await run(); // warm-up: the first run allocates and plans
  let cells = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < 8000 || cells < 4 * batchSize) {
    await run();
    cells += batchSize;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      mode: 'model',
      cells,
      seconds,
      cellsPerSecond: cells / seconds,
      cpuMsPerCell: (1000 * cpuSeconds(cpu)) / cells,
      peakRssMb: peakRssMb(),
      threads: model.intraOpThreads,
    }),
  );
  await model.session.release();
}

const [mode, ...rest] = process.argv.slice(2);
const threadsArg = (value: string | undefined): number | undefined => (value === undefined || value === '' ? undefined : Number(value));
if (mode === 'e2e') await endToEnd(rest[0]!, rest[1]!, Number(rest[2]), threadsArg(rest[3]), rest[4] === '1');
else if (mode === 'model') await modelAlone(rest[0]!, Number(rest[1]), threadsArg(rest[2]), rest[3] === '1');
else {
  console.error('usage: measure.ts e2e <modelDir> <cropsDir> <batch> [threads] | model <modelDir> <batch> [threads]');
  process.exitCode = 1;
}
