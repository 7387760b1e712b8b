// How long the main process's event loop is blocked while the service works: the window freezes for as long as
// the longest block, so this is the figure that shows analysis (in its worker) and reports stay off the main thread.
//   scripts/with-node.sh npx tsx scripts/bench-main-thread.ts [case-folder]
// Default case: the demo case when installed, else the fixture crops. Model: the bundled one, else the tiny one.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
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

const host = createMarrowService({
  databasePath: join(work, 'marrowcount.sqlite'),
  modelDir,
  reportsDir: join(work, 'reports'),
  cellImageUrl: (c, i) => `/cells/${c}/${i}`,
  appVersion: 'bench',
}, { allowWithoutAccounts: true });
// A new database without accounts: the benchmark runs as the demo CLI does, without a session.
const service = host.forSession({ transport: 'cli', token: null });

async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  await work();
  const wall = performance.now() - start;
  delay.disable();
  console.log(`${label.padEnd(34)} wall ${wall.toFixed(0).padStart(6)} ms   longest event-loop block ${(delay.max / 1e6).toFixed(1).padStart(6)} ms   p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`);
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
} finally {
  await host.close();
  rmSync(work, { recursive: true, force: true });
}
