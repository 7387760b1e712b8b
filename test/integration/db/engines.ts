// The two storage engines behind one small raw-SQL interface, for the tests that hold the SQL rules themselves
// (triggers, constraints, derived tables) on both: the same statements, written with `?` placeholders, run against a
// fresh, fully migrated SQLite file or PostgreSQL database. One PostgreSQL cluster per test file (started in
// beforeAll), one database per test, copied from a migrated template so that each test starts from the same schema
// without re-running the migrations.
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { classifyDatabaseError, type DatabaseError } from '../../../src/main/db';
import { closePostgresDatabase, openPostgresDatabase } from '../../../src/main/db/postgres/connection';
import { classifyPostgresError } from '../../../src/main/db/postgres/errors';
import { postgresUnavailable, startPgCluster, type PgCluster } from '../../helpers/pg-cluster';
import { openTemp } from './helpers';

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres'];

export interface SqlEngine {
  readonly name: EngineName;
  /** Runs one statement; returns its rows (SELECT, or INSERT/UPDATE ... RETURNING), else []. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs several statements with no parameters. */
  exec(sql: string): Promise<void>;
  /** The typed error this engine's classifier makes of a thrown error (null: not a database error). */
  classify(e: unknown): DatabaseError | null;
}

/** `?` placeholders as PostgreSQL's $1, $2 ... (the test SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function sqliteEngine(): SqlEngine {
  const { db } = openTemp();
  return {
    name: 'sqlite',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const statement = db.raw.prepare(sql);
      if (statement.reader) return statement.all(...params) as T[];
      statement.run(...params);
      return [];
    },
    async exec(sql) {
      db.raw.exec(sql);
    },
    classify: (e) => classifyDatabaseError(e),
  };
}

const TEMPLATE = 'marrowcount_template';

/**
 * Starts the file's PostgreSQL cluster and its migrated template. Returns a getter for a fresh database per call
 * and registers the clean-up. Call at the top level of a test file; `unavailable` says why PostgreSQL tests skip
 * (under CI that is an error instead).
 */
export interface PostgresSetup {
  /** Why PostgreSQL tests skip here, or null. */
  unavailable: string | null;
  cluster(): PgCluster;
  /** A new database of the cluster, migrated (a copy of the template). */
  freshUrl(): Promise<string>;
  /** Ends this connection after the current test. */
  track(client: pg.Client): void;
}

export function usePostgres(): PostgresSetup {
  const unavailable = postgresUnavailable();
  let cluster: PgCluster | null = null;
  let admin: pg.Client | null = null;
  let counter = 0;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    if (unavailable !== null) return;
    cluster = await startPgCluster();
    admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    const migrated = await openPostgresDatabase(cluster.url(TEMPLATE));
    await closePostgresDatabase(migrated);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end();
  });
  afterAll(async () => {
    await admin?.end();
    cluster?.stop();
  });
  const freshUrl = async () => {
    if (cluster === null || admin === null) throw new Error('PostgreSQL cluster not started');
    const name = `test_${++counter}`;
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
    return cluster.url(name);
  };
  return {
    unavailable,
    cluster: () => {
      if (cluster === null) throw new Error('PostgreSQL cluster not started');
      return cluster;
    },
    freshUrl,
    track: (client) => {
      clients.push(client);
    },
  };
}

async function postgresEngine(pgSetup: PostgresSetup): Promise<SqlEngine> {
  const url = await pgSetup.freshUrl();
  // One connection (not a pool), so that a SAVEPOINT and what follows it run in the same session.
  const client = new pg.Client({
    connectionString: url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  await client.connect();
  pgSetup.track(client);
  return {
    name: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(numbered(sql), params as unknown[]);
      return (result.rows ?? []) as T[];
    },
    async exec(sql) {
      await client.query(sql);
    },
    classify: (e) => classifyPostgresError(e),
  };
}

/** A fresh migrated database on the named engine. */
export function engineFactory(pgSetup: PostgresSetup): (name: EngineName) => Promise<SqlEngine> {
  return async (name) => (name === 'sqlite' ? sqliteEngine() : postgresEngine(pgSetup));
}

/**
 * Runs the statements inside a savepoint and rolls them back: null when the engine accepted all of them, else the
 * typed error it raised. Lets one fixture try many refusals without one poisoning the next (PostgreSQL aborts the
 * whole transaction on an error; the savepoint keeps it usable).
 */
export async function attempt(engine: SqlEngine, run: () => Promise<unknown>): Promise<DatabaseError | null> {
  await engine.exec('BEGIN');
  await engine.exec('SAVEPOINT attempt');
  let error: DatabaseError | null = null;
  try {
    await run();
  } catch (e) {
    const classified = engine.classify(e);
    if (classified === null) throw e;
    error = classified;
  } finally {
    await engine.exec('ROLLBACK TO SAVEPOINT attempt');
    await engine.exec('RELEASE SAVEPOINT attempt');
    await engine.exec('COMMIT');
  }
  return error;
}
