// How long a reviewer waits for a decision to be stored on PostgreSQL when several stations decide at once (issue
// 22 target: p95 of addReview < 50 ms with 5 concurrent connections). Each station is its own pool of one
// connection, deciding one cell after the other through the PostgreSQL review repository (postgres/reviews.ts: the
// case share-locked, the cell locked, the version checked, the review, the audit row, the derived table's trigger),
// every decision against the version the station last saw:
//
//   separate cases: each station reviews a case of its own (the normal day: no two stations on one cell);
//   one case, 20 cells: all stations on the same 20 cells (the worst case: they queue on each other's cell locks, and
//     a decision on a version another station changed meanwhile is refused 'stale', which is timed as well).
//
//   sh scripts/with-node.sh npx tsx scripts/bench-pg-review.ts [decisions per station] [--stations n] [--db postgres://…]
//
// Without --db a throw-away cluster is started (fsync on) and removed after; with --db a new database is created
// beside the given one (the role needs CREATEDB). Prints figures; asserts only that every accepted decision was
// stored, so a fast figure cannot come from a decision that was not written.
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { CELL_CLASS_CODES } from '../src/shared/cell-classes';
import { DatabaseError } from '../src/main/db';
import { closePostgresDatabase, openPostgresDatabase, type PostgresDatabase } from '../src/main/db/postgres/connection';
import { pgReviewRepository } from '../src/main/db/postgres/reviews';
import { startPgCluster, type PgCluster } from '../test/helpers/pg-cluster';
import { seedReviewCase, type ReviewCase } from '../test/helpers/pg-review-case';
import { Rng } from '../test/helpers/seeded-random';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const givenUrl = flag('--db');
const STATIONS = Number(flag('--stations') ?? 5);
const DECISIONS = Number(args.find((a, i) => /^\d+$/.test(a) && !['--db', '--stations'].includes(args[i - 1] ?? '')) ?? 300);
/** Calls per station left out of the figures: the first connection, the first plans. */
const WARM_UP = 10;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(label: string, ms: number[], wallMs: number): string {
  const s = [...ms].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(7);
  return `${label.padEnd(30)} n=${String(s.length).padStart(5)}  p50 ${f(percentile(s, 50))}  p95 ${f(percentile(s, 95))}  p99 ${f(percentile(s, 99))}  max ${f(s[s.length - 1] ?? NaN)} ms  ${(s.length / (wallMs / 1000)).toFixed(0).padStart(5)}/s`;
}

interface Outcome {
  accepted: number[];
  refused: number[];
  storedIds: number[];
}

/** Each station decides DECISIONS times on its case's cells, in parallel with the others; returns the timings. */
async function run(
  stations: PostgresDatabase[],
  caseOf: (station: number) => ReviewCase,
  cellsOf: (c: ReviewCase) => number[],
): Promise<Outcome & { wallMs: number }> {
  const out: Outcome = { accepted: [], refused: [], storedIds: [] };
  const started = performance.now();
  await Promise.all(
    stations.map(async (db, s) => {
      const reviews = pgReviewRepository({ db, client: null });
      const rng = new Rng(1000 + s);
      const c = caseOf(s);
      const cells = cellsOf(c);
      const seen = new Map<number, number>();
      for (let n = 0; n < DECISIONS + WARM_UP; n++) {
        const imageId = rng.pick(cells);
        const t0 = performance.now();
        try {
          const row = await reviews.addReview({
            caseId: c.caseId,
            imageId,
            label: rng.pick(CELL_CLASS_CODES),
            reviewer: `Station ${s}`,
            seenVersion: seen.get(imageId) ?? 0,
          });
          const ms = performance.now() - t0;
          seen.set(imageId, row.id);
          out.storedIds.push(row.id);
          if (n >= WARM_UP) out.accepted.push(ms);
        } catch (e) {
          if (!(e instanceof DatabaseError) || e.kind !== 'stale') throw e;
          const ms = performance.now() - t0;
          if (n >= WARM_UP) out.refused.push(ms);
          // The station looks again (as the review grid does after a refusal) and learns the current version.
          const latest = (await reviews.listReviews(c.caseId, imageId)).at(-1);
          seen.set(imageId, latest?.id ?? 0);
        }
      }
    }),
  );
  return { ...out, wallMs: performance.now() - started };
}

async function main(): Promise<void> {
  let cluster: PgCluster | null = null;
  let baseUrl = givenUrl;
  if (baseUrl === undefined) {
    cluster = await startPgCluster({ durable: true });
    baseUrl = cluster.url();
  }
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  const name = `marrowcount_bench_review_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const opened: PostgresDatabase[] = [];
  try {
    const seeding = await openPostgresDatabase(url.toString());
    opened.push(seeding);
    const stations = await Promise.all(Array.from({ length: STATIONS }, () => openPostgresDatabase(url.toString(), { maxConnections: 1 })));
    opened.push(...stations);
    const own = await Promise.all(stations.map((_, s) => seedReviewCase(seeding.pool, 1000, `BENCH-OWN-${s}`)));
    const shared = await seedReviewCase(seeding.pool, 20, 'BENCH-SHARED');
    const server = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const fsync = (await admin.query<{ v: string }>("SELECT current_setting('fsync') AS v")).rows[0]!.v;
    console.log(
      `PostgreSQL ${server} (fsync ${fsync}) on ${cluster === null ? 'the given server' : 'a throw-away loopback cluster'}; ${STATIONS} stations, one connection each; ` +
        `${DECISIONS} timed decisions per station after ${WARM_UP} warm-up; ${cpus().length} CPUs, load ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
    const separate = await run(
      stations,
      (s) => own[s]!,
      (c) => c.imageIds,
    );
    console.log(summary('separate cases: addReview', separate.accepted, separate.wallMs));
    const contended = await run(
      stations,
      () => shared,
      (c) => c.imageIds,
    );
    console.log(summary('one case, 20 cells: accepted', contended.accepted, contended.wallMs));
    console.log(summary('one case, 20 cells: stale', contended.refused, contended.wallMs));
    // Every accepted decision is stored, once.
    const stored = await seeding.pool.query<{ n: number }>('SELECT count(*) AS n FROM reviews');
    const expected = separate.storedIds.length + contended.storedIds.length;
    if (stored.rows[0]!.n !== expected || new Set([...separate.storedIds, ...contended.storedIds]).size !== expected) {
      throw new Error(`stored ${stored.rows[0]!.n} reviews, accepted ${expected}`);
    }
    console.log(
      `load after: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    for (const db of opened) await closePostgresDatabase(db);
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
    cluster?.stop();
  }
}

await main();
