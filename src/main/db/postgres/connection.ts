// Opening, checking, migrating and closing a MarrowCount database on a PostgreSQL server
// (MARROWCOUNT_DATABASE_URL=postgres://user:pass@host:port/db). The asynchronous twin of ../connection.ts: the same
// history check before any write, the same typed errors; a pool of connections instead of one file handle.
import pg from 'pg';
import { DatabaseError } from '../errors';
import { classifyPostgresError } from './errors';
import { migratePostgres, type PostgresMigrateOptions } from './migrate';

export interface PostgresDatabase {
  readonly engine: 'postgres';
  /** The URL without its password, for messages and logs. */
  readonly where: string;
  readonly readonly: boolean;
  readonly schemaVersion: number;
  /** For src/main/db/postgres only. Other layers call repository functions. */
  readonly pool: pg.Pool;
}

export interface PostgresOpenOptions extends Pick<PostgresMigrateOptions, 'upTo' | 'migrations'> {
  /** Every transaction read-only (the server refuses writes) and no migration. */
  readonly?: boolean;
  /** Connections the pool may hold (default 10). */
  maxConnections?: number;
}

/** PostgreSQL 13 is the oldest with everything the migrations use (identity columns, EXECUTE FUNCTION, ...). */
const MINIMUM_SERVER_VERSION = 130000;

/** The URL as it may be shown: user, host, port and database, never the password. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the PostgreSQL database (unreadable URL)';
  }
}

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

const INT8_OID = 20;
/**
 * Ids and counts are bigint; node-postgres returns them as strings by default. The repositories' contract is
 * JavaScript numbers (as better-sqlite3 gives), exact up to 2^53, far above any id or count a lab reaches; a value
 * beyond that is refused rather than rounded.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} from the database is beyond JavaScript's exact range`);
  return n;
}
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPostgresDatabase(url: string, options: PostgresOpenOptions = {}): Promise<PostgresDatabase> {
  const where = redactDatabaseUrl(url);
  const readonly = options.readonly === true;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    types: TYPES,
    application_name: 'marrowcount',
    ...(readonly ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  // An idle connection the server drops (restart, network) must not crash the app; the next query reconnects.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
      const version = Number(rows[0]!.v);
      if (version < MINIMUM_SERVER_VERSION) {
        throw new DatabaseError('io', `${where} runs PostgreSQL ${version}; MarrowCount needs PostgreSQL 13 or newer.`);
      }
      const schemaVersion = await migratePostgres(client, where, { readonly, upTo: options.upTo, migrations: options.migrations });
      return { engine: 'postgres', where, readonly, schemaVersion, pool };
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end();
    throw classifyPostgresError(e, `Opening the database ${where}`) ?? e;
  }
}

export async function closePostgresDatabase(db: PostgresDatabase): Promise<void> {
  if (!db.pool.ended) await db.pool.end();
}

/**
 * Runs fn on one connection inside one transaction; any error rolls all of it back and is classified. The isolation
 * is READ COMMITTED plus the row locks the triggers and repositories take; `serializable` is for the few places
 * where two stations race on a read-then-write (the caller retries on 'locked'). `snapshot` is a read of several
 * statements that must agree (REPEATABLE READ READ ONLY, the twin of SQLite's readSnapshot), allowed read-only too.
 */
export async function pgTransaction<T>(
  db: PostgresDatabase,
  context: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: { serializable?: boolean; snapshot?: boolean } = {},
): Promise<T> {
  if (db.readonly && options.snapshot !== true) throw new DatabaseError('read_only', `${context}: the database ${db.where} is open read-only.`);
  let client: pg.PoolClient;
  try {
    client = await db.pool.connect();
  } catch (e) {
    throw classifyPostgresError(e, context) ?? e;
  }
  try {
    await client.query(
      options.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : options.serializable ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN',
    );
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (e) {
    // A connection that cannot even roll back is broken: released with the error, the pool discards it.
    const broken = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: unknown) => (rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))),
    );
    client.release(broken);
    throw classifyPostgresError(e, context) ?? e;
  }
}
