// How fast `marrowcount db copy` moves a station's database to PostgreSQL (issue 22): a SQLite file with `cells`
// analysed cells (default 20,000: images, predictions of the bundled model's 13 classes, 160-feature embeddings, the
// derived counts, a few hundred reviews) written through the real repositories, then copied into a throw-away
// PostgreSQL cluster with durable settings (fsync on). Prints the copy's rows/s; the copy itself verifies every
// table (count and SHA-256), so a fast figure cannot come from rows that did not arrive.
//
//   sh scripts/with-node.sh npx tsx scripts/bench-db-copy.ts [cells]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { CellClassCode } from '../src/shared/cell-classes';
import {
  addReviews,
  beginAnalysis,
  closeDatabase,
  createCase,
  insertImages,
  insertPredictions,
  openDatabase,
  registerModel,
  setCaseStatus,
  upsertPatient,
  type NewPrediction,
} from '../src/main/db';
import { copySqliteToPostgres } from '../src/main/db/copy-to-postgres';
import { startPgCluster } from '../test/helpers/pg-cluster';

const CELLS = Number(process.argv[2] ?? 20_000);
const CASES = Math.max(1, Math.round(CELLS / 500));
const CLASSES: CellClassCode[] = ['ART', 'BLA', 'EOS', 'LYT', 'MON', 'NGS', 'NIF', 'PMO', 'BAS', 'EBO', 'MMZ', 'MYB', 'NGB'];
const DIM = 160;

function generator(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dir = mkdtempSync(join(tmpdir(), 'marrowcount-bench-copy-'));
const path = join(dir, 'station.sqlite');
const random = generator(22);
const db = openDatabase(path);
const model = registerModel(db, { modelId: 'marrowcount-ref', version: '1.3.0', sha256: 'e'.repeat(64), name: 'Reference', classes: CLASSES });
let written = 0;
for (let c = 0; c < CASES; c++) {
  const n = Math.min(500, CELLS - written);
  if (n <= 0) break;
  const patient = upsertPatient(db, { labId: `MRN-${c}`, name: `Patient ${c}`, birthDate: '1960-01-01' });
  const row = createCase(db, { patientId: patient.id, accession: `BM-${c}`, specimen: 'bone_marrow_aspirate', folder: `/cases/${c}`, actor: 'tech' });
  const ids = insertImages(
    db,
    row.id,
    Array.from({ length: n }, (_, i) => ({
      relativePath: `cell-${i}.jpg`,
      sha256: (written + i + 1).toString(16).padStart(64, '0'),
      bytes: 14_000 + i,
      width: 250,
      height: 250,
      importError: null,
    })),
  ).inserted.map((r) => r.id);
  beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
  insertPredictions(
    db,
    model.id,
    ids.map((imageId): NewPrediction => {
      const raw = CLASSES.map(() => random() ** 3);
      const sum = raw.reduce((a, b) => a + b, 0);
      const probabilities = raw.map((p) => p / sum);
      const best = probabilities.indexOf(Math.max(...probabilities));
      return {
        imageId,
        predicted: CLASSES[best]!,
        probabilities,
        confidence: probabilities[best]!,
        flagged: probabilities[best]! < 0.6,
        flagReasons: probabilities[best]! < 0.6 ? [{ kind: 'low_confidence', detail: 'below 0.60' }] : [],
        embedding: Float32Array.from({ length: DIM }, () => random() * 4 - 2),
        openSetScore: random() * 10,
      };
    }),
  );
  setCaseStatus(db, row.id, 'in_review', 'tech');
  addReviews(
    db,
    ids.slice(0, 20).map((imageId) => ({ caseId: row.id, imageId, label: 'LYT' as const, reviewer: 'Dr Bench' })),
  );
  written += n;
}
closeDatabase(db);

const cluster = await startPgCluster({ durable: true });
try {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE copy_target');
  await admin.end();
  const result = await copySqliteToPostgres(path, cluster.url('copy_target'));
  const byTable = Object.fromEntries(result.tables.map((t) => [t.table, t.rows]));
  console.log(
    `db copy of ${written} cells (${CASES} cases): ${result.rows} rows in ${result.seconds.toFixed(1)} s = ${Math.round(result.rows / result.seconds)} rows/s ` +
      `(predictions ${byTable['predictions']}, embeddings ${byTable['prediction_embeddings']}, images ${byTable['images']}, audit ${byTable['audit_log']}); ` +
      `PostgreSQL ${cluster.version}, fsync on, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}; the time includes opening/migrating the target and the read-back verification`,
  );
} finally {
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
