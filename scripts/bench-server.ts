// The lab server measured on loopback (HTTPS, real service, real model):
//   1. a 2,000-cell case uploaded from a station (per-file PUT with SHA-256, 4 at a time), then analysed: seconds for
//      each and end to end;
//   2. 5 stations (5 technicians, each its own session and connection) reviewing that case at once: the decision
//      round trip (reviewCell request to answer) at p50 / p95 / p99, and decisions per second overall;
//   3. how long another station's live event takes to arrive after a decision is answered (median, p95).
//   sh scripts/with-node.sh npx tsx scripts/bench-server.ts [--cells 2000] [--decisions 200]
// Crops come from ../shared/data (as scripts/bench.mjs); the bundled model, or the tiny test model when it is absent.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLabServer } from '../src/main/server/lab-server';
import { makeSelfSignedCertificate } from '../src/main/server/tls';
import type { CellClassCode } from '../src/shared/cell-classes';
import { Station } from '../test/helpers/station-client';
import { buildCropFolder } from './bench/crops.mjs';

const root = resolve(import.meta.dirname, '..');
const dataDir = join(root, '..', 'shared', 'data');
const { values } = parseArgs({ options: { cells: { type: 'string', default: '2000' }, decisions: { type: 'string', default: '200' } } });
const CELLS = Number(values.cells);
const DECISIONS = Number(values.decisions);
const STATIONS = 5;

if (!existsSync(join(dataDir, 'matek-bm'))) {
  console.log(`bench-server: ${dataDir} is not here (it holds the real crops); nothing to measure.`);
  process.exit(0);
}
const bundled = join(root, 'resources/models/marrowcount-ref');
const modelDir = existsSync(join(bundled, 'model.onnx')) ? bundled : join(root, 'test/fixtures/models/tiny');

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;

const work = mkdtempSync(join(tmpdir(), 'marrowcount-bench-server-'));
const server = await startLabServer({
  host: '127.0.0.1',
  port: 0,
  tls: (await makeSelfSignedCertificate(join(work, 'tls'), ['localhost'])).tls,
  databaseLocation: join(work, 'data', 'marrowcount.sqlite'),
  dataDir: join(work, 'data'),
  casesRoot: null,
  modelDir,
  rendererDir: null,
  appVersion: 'bench',
  loginLimits: { perAddress: { max: 1000, windowMs: 60_000 }, perLogin: { max: 100, windowMs: 60_000 } },
});
const cert = readFileSync(join(work, 'tls', 'marrowcount-server.crt'));
try {
  console.log(
    `lab server ${server.url}, model ${relative(root, modelDir)}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const admin = server.service.forSession({ transport: 'cli', token: null });
  await admin.createFirstAdmin({ login: 'admin', displayName: 'Bench Admin', password: 'bench-admin-password' });
  const stations: Station[] = [];
  for (let i = 1; i <= STATIONS; i++) {
    await admin.createUser({ login: `tech${i}`, displayName: `Technician ${i}`, password: `tech-password-${i}x`, roles: ['technician'] });
    const station = new Station(server.url, cert, `tech${i}`);
    await station.login(`tech${i}`, `tech-password-${i}x`);
    stations.push(station);
  }

  // 1. Upload and analysis.
  const source = buildCropFolder(dataDir, join(work, 'source'), CELLS);
  const files: { path: string; bytes: Buffer; sha256: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const bytes = readFileSync(full);
        files.push({ path: relative(source, full), bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
      }
    }
  };
  walk(source);
  const uploader = stations[0]!;
  const t0 = performance.now();
  const begun = JSON.parse(
    (
      await uploader.request('/uploads', {
        method: 'POST',
        body: JSON.stringify({ files: files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.bytes.length })) }),
      })
    ).body.toString(),
  ) as { ok: true; value: { uploadId: string; folder: string } };
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        const answer = await uploader.request(`/uploads/${begun.value.uploadId}/${f.path.split('/').map(encodeURIComponent).join('/')}`, {
          method: 'PUT',
          body: f.bytes,
          headers: { 'X-Content-SHA256': f.sha256 },
        });
        if (answer.status !== 201) throw new Error(`upload of ${f.path}: HTTP ${answer.status} ${answer.body.toString()}`);
      }
    }),
  );
  const uploaded = performance.now();
  const megabytes = files.reduce((n, f) => n + f.bytes.length, 0) / 1e6;
  const created = await uploader.api.createCase({
    patient: { labId: 'BENCH' },
    accession: 'BENCH-1',
    specimen: 'bone_marrow_aspirate',
    folder: begun.value.folder,
  });
  await uploader.api.startAnalysis(created.id);
  for (;;) {
    const progress = await uploader.api.getAnalysisProgress(created.id);
    if (progress !== null && progress.phase !== 'importing' && progress.phase !== 'classifying') {
      if (progress.phase !== 'done') throw new Error(`analysis ended ${progress.phase}: ${progress.message ?? ''}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const analysed = performance.now();
  console.log(
    `\n1. ${files.length} cells (${megabytes.toFixed(1)} MB) uploaded in ${((uploaded - t0) / 1000).toFixed(1)} s, analysed in ${((analysed - uploaded) / 1000).toFixed(1)} s: ${((analysed - t0) / 1000).toFixed(1)} s end to end (${(files.length / ((analysed - t0) / 1000)).toFixed(0)} cells/s)`,
  );

  // 2. Five stations deciding at once; 3. a sixth station watching the live events.
  const cells = (await uploader.api.listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells;
  const watcher = new Station(server.url, cert, 'watcher');
  await watcher.login('tech1', 'tech-password-1x');
  const events = await watcher.subscribe();
  const answeredAt: number[] = [];
  const roundTrips: number[] = [];
  const labels: CellClassCode[] = ['BLA', 'LYT', 'MON', 'NGS', 'EOS', 'PMO', 'EBO'];
  const started = performance.now();
  await Promise.all(
    stations.map(async (station, s) => {
      for (let i = 0; i < DECISIONS; i++) {
        const cell = cells[(s * 7919 + i * 104729) % cells.length]!;
        const sent = performance.now();
        const { result } = await station.call('reviewCell', [{ caseId: created.id, imageId: cell.imageId, label: labels[(s + i) % labels.length] }]);
        const now = performance.now();
        if (!result.ok) throw new Error(`decision refused: ${result.error.message}`);
        roundTrips.push(now - sent);
        answeredAt.push(Date.now());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  events.close();
  roundTrips.sort((a, b) => a - b);
  console.log(
    `\n2. ${STATIONS} stations x ${DECISIONS} decisions at once: round trip p50 ${ms(percentile(roundTrips, 50))}, p95 ${ms(percentile(roundTrips, 95))}, p99 ${ms(percentile(roundTrips, 99))}, max ${ms(roundTrips[roundTrips.length - 1]!)}; ${(roundTrips.length / seconds).toFixed(0)} decisions/s`,
  );
  const received = events.received.filter((e) => e.type === 'case').map((e) => e.at);
  answeredAt.sort((a, b) => a - b);
  const lags = received.map((at, i) => at - answeredAt[i]!).sort((a, b) => a - b);
  console.log(
    `3. live events received ${received.length} of ${answeredAt.length}; arrival after the answer (n-th event vs n-th answer): median ${lags.length ? ms(percentile(lags, 50)) : '-'}, p95 ${lags.length ? ms(percentile(lags, 95)) : '-'}`,
  );
  watcher.close();
  for (const s of stations) s.close();
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
