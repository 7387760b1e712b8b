// Chooses how the PostgreSQL repositories write (issue 22): 20,000 predictions of a 21-class model stored in one
// transaction, through every trigger and constraint of the migrated schema, by each candidate approach, beside the
// SQLite repository doing the same. Prints figures; asserts only that every approach stored every row and that the
// trigger-maintained counts agree, so that a fast figure cannot come from a write that did not happen. The
// 'pg repository' rows time the PostgreSQL repository's own insertPredictions (its checks, unnest batches and audit).
//
//   sh scripts/with-node.sh npx tsx scripts/bench-pg-insert.ts [cells] [--db postgres://user@host:port/db] [--only text]
//
// Without --db a throw-away cluster is started (durable settings: fsync on, as a lab's server runs) and removed
// after. With --db each approach gets its own new database created beside the given one (the role needs CREATEDB).
// The Kysely rows run only where the `kysely` package is installed (it is not a dependency: `npm install --no-save
// kysely` to measure it).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CELL_CLASS_CODES } from '../src/shared/cell-classes';
import {
  beginAnalysis,
  closeDatabase,
  createCase,
  insertImages,
  insertPredictions,
  openDatabase,
  registerModel,
  upsertPatient,
  type NewPrediction,
} from '../src/main/db';
import { closePostgresDatabase, openPostgresDatabase, type PostgresDatabase } from '../src/main/db/postgres/connection';
import { pgPredictionRepository } from '../src/main/db/postgres/predictions';
import { startPgCluster, type PgCluster } from '../test/helpers/pg-cluster';

const args = process.argv.slice(2);
const dbFlag = args.indexOf('--db');
const givenUrl = dbFlag >= 0 ? args[dbFlag + 1] : undefined;
const onlyFlag = args.indexOf('--only');
/** Runs only the approaches whose label contains this text (e.g. --only unnest). */
const only = onlyFlag >= 0 ? args[onlyFlag + 1] : undefined;
const CELLS = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--db' && args[i - 1] !== '--only') ?? 20_000);
const CLASSES = [...CELL_CLASS_CODES];

// Deterministic pseudo-random numbers (mulberry32), so that every approach stores the same rows.
function generator(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  imageId: number;
  predicted: string;
  probabilities: string;
  confidence: number;
  flagged: number;
  flagReasons: string;
}

function predictions(imageIds: readonly number[]): Row[] {
  const random = generator(42);
  return imageIds.map((imageId) => {
    const raw = CLASSES.map(() => random());
    const sum = raw.reduce((a, b) => a + b, 0);
    const p = raw.map((v) => Math.round((v / sum) * 1e6) / 1e6);
    const best = p.indexOf(Math.max(...p));
    const flagged = p[best]! < 0.08 ? 1 : 0;
    return {
      imageId,
      predicted: CLASSES[best]!,
      probabilities: JSON.stringify(p),
      confidence: p[best]!,
      flagged,
      // Flag reasons are data since migration 0010 ({kind, detail}); a trigger refuses bare strings.
      flagReasons: flagged ? JSON.stringify([{ kind: 'low_confidence', detail: `${p[best]!.toFixed(2)} < 0.08` }]) : '[]',
    };
  });
}

const INSERT_ONE = `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
  VALUES ($1, (SELECT case_id FROM images WHERE id = $1), $2, $3, $4, $5, $6, $7, $8) RETURNING id, case_id`;

interface Target {
  url: string;
  db: PostgresDatabase;
  pool: pg.Pool;
  modelId: number;
  caseId: number;
  rows: Row[];
  /** Set by the repository runs: the time of the call alone, without converting the rows. */
  repositoryMs?: number;
}

type Approach = (t: Target, client: pg.PoolClient) => Promise<void>;

const at = new Date().toISOString();

async function insertUnnest(t: Target, client: pg.PoolClient): Promise<void> {
  for (let start = 0; start < t.rows.length; start += 5000) {
    const batch = t.rows.slice(start, start + 5000);
    await client.query(
      `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
       SELECT u.image_id, i.case_id, $1, u.predicted_class, u.probabilities, u.confidence, u.flagged, u.flag_reasons, $2
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::double precision[], $7::integer[], $8::text[])
            AS u(image_id, predicted_class, probabilities, confidence, flagged, flag_reasons)
       JOIN images AS i ON i.id = u.image_id`,
      [
        t.modelId,
        at,
        batch.map((r) => r.imageId),
        batch.map((r) => r.predicted),
        batch.map((r) => r.probabilities),
        batch.map((r) => r.confidence),
        batch.map((r) => r.flagged),
        batch.map((r) => r.flagReasons),
      ],
    );
  }
}

const APPROACHES: Record<string, Approach> = {
  // The existing repository SQL, one statement per prediction (what a 1:1 port of predictions.ts does).
  'pg: one INSERT per row': async (t, client) => {
    for (const r of t.rows) {
      await client.query(INSERT_ONE, [r.imageId, t.modelId, r.predicted, r.probabilities, r.confidence, r.flagged, r.flagReasons, at]);
    }
  },
  // The same, as a named prepared statement: parsed and planned once per connection.
  'pg: one prepared INSERT per row': async (t, client) => {
    for (const r of t.rows) {
      await client.query({
        name: 'bench-insert-prediction',
        text: INSERT_ONE,
        values: [r.imageId, t.modelId, r.predicted, r.probabilities, r.confidence, r.flagged, r.flagReasons, at],
      });
    }
  },
  // 500 rows per statement (8 parameters a row: 4,000 of PostgreSQL's 65,535).
  'pg: multi-row VALUES, 500 a statement': async (t, client) => {
    for (let start = 0; start < t.rows.length; start += 500) {
      const batch = t.rows.slice(start, start + 500);
      const values: unknown[] = [];
      const tuples = batch.map((r, i) => {
        values.push(r.imageId, r.predicted, r.probabilities, r.confidence, r.flagged, r.flagReasons);
        const b = i * 6;
        return `($${b + 1}::bigint, (SELECT case_id FROM images WHERE id = $${b + 1}::bigint), ${t.modelId}, $${b + 2}, $${b + 3}, $${b + 4}::double precision, $${b + 5}::integer, $${b + 6}, '${at}')`;
      });
      await client.query(
        `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at) VALUES ${tuples.join(', ')}`,
        values,
      );
    }
  },
  // One statement per 5,000 rows: each column sent as one array parameter.
  'pg: INSERT ... SELECT FROM unnest(arrays), 5,000 a statement': insertUnnest,
  // Attribution only, never a way to write: the same with the per-row rule trigger switched off in this throw-away
  // database, to show what the PL/pgSQL checks cost (the derived-count trigger still runs, so the check holds).
  'pg: unnest, rule trigger off (what the checks cost)': async (t, client) => {
    await client.query('ALTER TABLE predictions DISABLE TRIGGER predictions_insert_rules');
    await insertUnnest(t, client);
    await client.query('ALTER TABLE predictions ENABLE TRIGGER predictions_insert_rules');
  },
  // Attribution only: the derived-count trigger off, its counts then written once from the stored rows.
  'pg: unnest, count trigger off (what the per-row upsert costs)': async (t, client) => {
    await client.query('ALTER TABLE predictions DISABLE TRIGGER predictions_count');
    await insertUnnest(t, client);
    await client.query('ALTER TABLE predictions ENABLE TRIGGER predictions_count');
    await client.query(
      `INSERT INTO prediction_counts (case_id, model_id, predicted_class, cells, flagged)
       SELECT case_id, model_id, predicted_class, count(*), sum(flagged) FROM predictions WHERE case_id = $1 GROUP BY 1, 2, 3`,
      [t.caseId],
    );
  },
};

/** The part of Kysely's API the benchmark uses (typed here: kysely is not a dependency). */
interface KyselyLike {
  transaction(): { execute<T>(fn: (trx: KyselyLike) => Promise<T>): Promise<T> };
  insertInto(table: string): { values(v: unknown): { execute(): Promise<unknown> } };
  selectFrom(table: string): unknown;
  destroy(): Promise<void>;
}
interface KyselyModule {
  Kysely: new (config: { dialect: unknown }) => KyselyLike;
  PostgresDialect: new (config: { pool: pg.Pool }) => unknown;
  sql: (strings: TemplateStringsArray, ...values: unknown[]) => unknown;
}

async function loadKysely(): Promise<KyselyModule | null> {
  const name = 'kysely';
  try {
    return (await import(name)) as KyselyModule;
  } catch {
    return null;
  }
}

function kyselyApproaches(k: KyselyModule): Record<string, (t: Target) => Promise<void>> {
  const row = (t: Target, r: Row) => ({
    image_id: r.imageId,
    // Kysely would write the sub-select as a builder expression; the raw fragment keeps the SQL identical.
    case_id: k.sql`(SELECT case_id FROM images WHERE id = ${r.imageId})`,
    model_id: t.modelId,
    predicted_class: r.predicted,
    probabilities: r.probabilities,
    confidence: r.confidence,
    flagged: r.flagged,
    flag_reasons: r.flagReasons,
    created_at: at,
  });
  const withKysely = async (t: Target, fn: (trx: KyselyLike) => Promise<void>) => {
    // Its own pool over the same database: Kysely's dialect ends the pool it is given on destroy().
    const pool = new pg.Pool({ connectionString: t.url, max: 2 });
    const db = new k.Kysely({ dialect: new k.PostgresDialect({ pool }) });
    try {
      await db.transaction().execute(fn);
    } finally {
      await db.destroy();
    }
  };
  return {
    'kysely: one insertInto per row': (t) =>
      withKysely(t, async (trx) => {
        for (const r of t.rows) await trx.insertInto('predictions').values(row(t, r)).execute();
      }),
    'kysely: insertInto with 500 rows': (t) =>
      withKysely(t, async (trx) => {
        for (let start = 0; start < t.rows.length; start += 500) {
          await trx
            .insertInto('predictions')
            .values(t.rows.slice(start, start + 500).map((r) => row(t, r)))
            .execute();
        }
      }),
  };
}

async function prepare(db: PostgresDatabase, url: string): Promise<Target> {
  const pool = db.pool;
  const client = await pool.connect();
  try {
    const patient = await client.query<{ id: number }>(`INSERT INTO patients (lab_id, created_at, updated_at) VALUES ('MRN-B', $1, $1) RETURNING id`, [at]);
    const model = await client.query<{ id: number }>(
      `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('bench', '1', $1, 'Bench', $2, $3, $4) RETURNING id`,
      ['b'.repeat(64), JSON.stringify(CLASSES), CLASSES.length, at],
    );
    const kase = await client.query<{ id: number }>(
      `INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES ($1, 'BENCH-1', 'bone_marrow_aspirate', '/b', $2) RETURNING id`,
      [patient.rows[0]!.id, at],
    );
    const caseId = kase.rows[0]!.id;
    await client.query(`UPDATE cases SET status = 'analysing', model_id = $1 WHERE id = $2`, [model.rows[0]!.id, caseId]);
    const images = await client.query<{ id: number }>(
      `INSERT INTO images (case_id, relative_path, sha256, bytes, width, height, created_at)
       SELECT $1, 'cell-' || n || '.jpg', lpad(to_hex(n), 64, '0'), 20000, 250, 250, $2 FROM generate_series(1, $3::integer) AS n
       RETURNING id`,
      [caseId, at, CELLS],
    );
    await client.query('ANALYZE');
    return { url, db, pool, modelId: model.rows[0]!.id, caseId, rows: predictions(images.rows.map((r) => r.id)) };
  } finally {
    client.release();
  }
}

async function check(t: Target): Promise<void> {
  const { rows } = await t.pool.query<{ stored: number; counted: number }>(
    `SELECT (SELECT count(*) FROM predictions WHERE case_id = $1) AS stored,
            (SELECT coalesce(sum(cells), 0)::bigint FROM prediction_counts WHERE case_id = $1) AS counted`,
    [t.caseId],
  );
  if (rows[0]!.stored !== CELLS || rows[0]!.counted !== CELLS) {
    throw new Error(`stored ${rows[0]!.stored} predictions and counted ${rows[0]!.counted}, expected ${CELLS}`);
  }
}

/** The benchmark's rows as the repositories take them. */
function asNewPredictions(rows: readonly Row[], embeddingLength = 0): NewPrediction[] {
  return rows.map((r) => ({
    imageId: r.imageId,
    predicted: r.predicted as NewPrediction['predicted'],
    probabilities: JSON.parse(r.probabilities) as number[],
    confidence: r.confidence,
    flagged: r.flagged === 1,
    flagReasons: JSON.parse(r.flagReasons) as NewPrediction['flagReasons'],
    ...(embeddingLength > 0
      ? { embedding: Float32Array.from({ length: embeddingLength }, (_, i) => Math.sin(r.imageId + i)), openSetScore: r.confidence * 10 }
      : {}),
  }));
}

/**
 * The PostgreSQL repository itself (db/postgres/predictions.ts): its checks, its unnest batches of 5,000 and its audit
 * rows, in its own transaction, as the analysis calls it. The rows are converted before the clock starts.
 */
function repositoryApproach(embeddingLength: number): (t: Target) => Promise<void> {
  return async (t) => {
    const rows = asNewPredictions(t.rows, embeddingLength);
    const start = performance.now();
    await pgPredictionRepository({ db: t.db, client: null }).insertPredictions(t.modelId, rows, 'bench');
    t.repositoryMs = performance.now() - start;
    const { rows: stored } = await t.pool.query<{ n: number }>('SELECT count(*) AS n FROM prediction_embeddings');
    if (stored[0]!.n !== (embeddingLength > 0 ? CELLS : 0)) throw new Error(`stored ${stored[0]!.n} embeddings for ${CELLS} predictions`);
  };
}

function sqliteReference(): number {
  const dir = mkdtempSync(join(tmpdir(), 'marrowcount-bench-pg-'));
  try {
    const db = openDatabase(join(dir, 'bench.sqlite'));
    const patient = upsertPatient(db, { labId: 'MRN-B' });
    const kase = createCase(db, { patientId: patient.id, accession: 'BENCH-1', specimen: 'bone_marrow_aspirate', folder: '/b', actor: 'bench' });
    const model = registerModel(db, { modelId: 'bench', version: '1', sha256: 'b'.repeat(64), name: 'Bench', classes: CLASSES });
    const files = Array.from({ length: CELLS }, (_, i) => ({
      relativePath: `cell-${i + 1}.jpg`,
      sha256: (i + 1).toString(16).padStart(64, '0'),
      bytes: 20000,
      width: 250,
      height: 250,
      importError: null,
    }));
    const ids = insertImages(db, kase.id, files).inserted.map((r) => r.id);
    beginAnalysis(db, { caseId: kase.id, modelRowId: model.id, actor: 'bench' });
    const rows = asNewPredictions(predictions(ids));
    const start = performance.now();
    insertPredictions(db, model.id, rows);
    const ms = performance.now() - start;
    closeDatabase(db);
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let cluster: PgCluster | null = null;
  const baseUrl = givenUrl ?? (cluster = await startPgCluster({ durable: true })).url();
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  const server = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
  const fsync = (await admin.query<{ fsync: string }>('SHOW fsync')).rows[0]!.fsync;
  console.log(`${CELLS} predictions of a ${CLASSES.length}-class model in one transaction; PostgreSQL ${server} (fsync ${fsync}) on loopback;`);
  console.log(`${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)} at start; each figure is the median of 3 runs on a fresh database.\n`);
  let n = 0;
  const fresh = async () => {
    const name = `marrowcount_bench_${process.pid}_${++n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return { name, url: url.toString() };
  };
  const runs: [string, (t: Target) => Promise<void>][] = Object.entries(APPROACHES).map(([label, approach]) => [
    label,
    async (t: Target) => {
      const client = await t.pool.connect();
      try {
        await client.query('BEGIN');
        await approach(t, client);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
  ]);
  runs.push(['pg repository: insertPredictions (db/postgres/predictions.ts)', repositoryApproach(0)]);
  runs.push(['pg repository: insertPredictions, 160-value embeddings', repositoryApproach(160)]);
  const kysely = await loadKysely();
  if (kysely) runs.push(...Object.entries(kyselyApproaches(kysely)));
  else console.log('kysely is not installed: its rows are skipped (npm install --no-save kysely to measure them).\n');
  try {
    for (const [label, run] of runs.filter(([label]) => only === undefined || label.includes(only))) {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const target = await fresh();
        const db = await openPostgresDatabase(target.url);
        try {
          const t = await prepare(db, target.url);
          const start = performance.now();
          await run(t);
          times.push(t.repositoryMs ?? performance.now() - start);
          await check(t);
        } finally {
          await closePostgresDatabase(db);
          await admin.query(`DROP DATABASE ${target.name}`);
        }
      }
      const median = times.sort((a, b) => a - b)[1]!;
      console.log(
        `${label.padEnd(62)} ${(median / 1000).toFixed(2).padStart(6)} s  ${Math.round(CELLS / (median / 1000))
          .toString()
          .padStart(7)} rows/s`,
      );
    }
    if (only === undefined || 'sqlite: insertPredictions'.includes(only)) {
      const sqlite = [sqliteReference(), sqliteReference(), sqliteReference()].sort((a, b) => a - b)[1]!;
      console.log(
        `${'sqlite: insertPredictions (repository, one prepared statement a row)'.padEnd(62)} ${(sqlite / 1000).toFixed(2).padStart(6)} s  ${Math.round(
          CELLS / (sqlite / 1000),
        )
          .toString()
          .padStart(7)} rows/s`,
      );
    }
  } finally {
    await admin.end();
    cluster?.stop();
  }
}

await main();
