// Where a benchmark stores what it measures, from its `--db` option (issue 22, "Measured": the same benchmarks on
// both engines):
//   absent                   a SQLite file in the benchmark's temporary folder (what the desktop station uses);
//   postgres | postgresql    a throw-away PostgreSQL cluster started for the run with a lab server's durability
//                            settings (fsync and synchronous commit on: test/helpers/pg-cluster.ts), stopped after;
//   postgres://…             that PostgreSQL server. Each measurement gets a database of its own, created next to
//                            the URL's database and dropped after, so the role needs CREATEDB and nothing of the
//                            lab's is touched.
// A SQLite path is refused: the benchmarks measure a fresh database, never an existing file.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { isPostgresUrl, redactDatabaseUrl } from '../../src/main/db/postgres/connection';
import { startPgCluster, type PgCluster } from '../../test/helpers/pg-cluster';

export interface BenchServer {
  /** A PostgreSQL URL whose server the measurements create their databases on; null: SQLite. */
  readonly url: string | null;
  /** For the printed header: engine and where (the URL without its password). */
  readonly description: string;
  stop(): void;
}

/** Resolves `--db`: starts the throw-away cluster when asked for one. */
export async function benchServer(option: string | undefined): Promise<BenchServer> {
  if (option === undefined || option === '' || option === 'sqlite') return { url: null, description: 'SQLite (a fresh file per measurement)', stop: () => {} };
  if (option === 'postgres' || option === 'postgresql') {
    const cluster: PgCluster = await startPgCluster({ durable: true });
    return {
      url: cluster.url(),
      description: `PostgreSQL ${cluster.version}, a throw-away cluster on 127.0.0.1:${cluster.port} (fsync and synchronous_commit on)`,
      stop: () => cluster.stop(),
    };
  }
  if (isPostgresUrl(option)) return { url: option, description: `PostgreSQL at ${redactDatabaseUrl(option)}`, stop: () => {} };
  throw new Error(`--db ${option}: give a postgres:// URL, or "postgres" for a throw-away cluster (absent: SQLite)`);
}

export interface BenchDatabase {
  /** What openStore / the service / the lab server is given. */
  readonly location: string;
  drop(): Promise<void>;
}

/** The same URL naming another database of its server. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A new, empty database for one measurement: a SQLite file under `workDir`, or a database on the server. */
export async function freshBenchDatabase(serverUrl: string | null, workDir: string): Promise<BenchDatabase> {
  if (serverUrl === null) return { location: join(workDir, 'bench.sqlite'), drop: async () => {} };
  const name = `marrowcount_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (e) {
    await admin.end();
    throw new Error(
      `cannot create the benchmark's database on ${redactDatabaseUrl(serverUrl)} (the role needs CREATEDB): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  await admin.end();
  return {
    location: withDatabase(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
