// Opening, checking, migrating, closing and backing up the one SQLite file that holds everything the lab produces.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { DatabaseError, classifyDatabaseError } from './errors';
import { migrate, verifyHistory } from './migrate';

/** The open database. Repositories take it as their first argument; nothing outside src/main/db runs SQL on it. */
export interface MarrowDatabase {
  readonly path: string;
  readonly readonly: boolean;
  /** Highest applied migration. */
  readonly schemaVersion: number;
  /** The better-sqlite3 handle: for src/main/db only. Other layers call repository functions. */
  readonly raw: Database.Database;
}

export interface OpenOptions {
  /** Opens without writing anything (no migration); fails with 'newer_schema'/'migration_history' as usual. */
  readonly?: boolean;
  /** Milliseconds a writer waits for another process's lock before failing with 'locked'. Default 5000. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** File name of the database inside Electron's userData folder (the caller chooses the folder). */
export const DATABASE_FILE_NAME = 'marrowcount.sqlite';

export function openDatabase(path: string, options: OpenOptions = {}): MarrowDatabase {
  const readonly = options.readonly === true;
  if (readonly && path !== ':memory:' && !existsSync(path)) {
    throw new DatabaseError('not_found', `No database at ${path}.`);
  }
  let raw: Database.Database;
  try {
    raw = new Database(path, { readonly, fileMustExist: readonly });
  } catch (e) {
    if (e instanceof TypeError && /directory does not exist/.test(e.message)) {
      throw new DatabaseError('io', `Cannot open the database ${path}: its folder does not exist.`, { cause: e });
    }
    throw classifyDatabaseError(e, `Opening the database ${path}`) ?? e;
  }
  try {
    raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
    // The integrity check runs before anything is written (journal mode, migrations): a damaged file is left
    // exactly as it was found, for a person to restore or inspect.
    checkIntegrity(raw, path);
    // Likewise a database from a newer MarrowCount or with a foreign history is refused before the first write.
    verifyHistory(raw, path);
    if (!readonly) {
      const mode = raw.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal' && path !== ':memory:') {
        throw new DatabaseError('io', `The database ${path} could not be switched to WAL mode (got ${String(mode)}).`);
      }
      // FULL: every commit is on disk before it returns, so a power cut cannot lose a review or a sign-off the
      // user saw saved (NORMAL could lose the last commits). It costs one WAL fsync per transaction, which batched
      // prediction writes and one-keystroke reviews both afford.
      raw.pragma('synchronous = FULL');
    }
    raw.pragma('foreign_keys = ON');
    const schemaVersion = migrate(raw, path, { readonly });
    return { path, readonly, schemaVersion, raw };
  } catch (e) {
    raw.close();
    throw classifyDatabaseError(e, `Opening the database ${path}`) ?? e;
  }
}

function checkIntegrity(raw: Database.Database, path: string): void {
  let problems: string[];
  try {
    // quick_check is O(N) like integrity_check but skips index-content verification, which keeps opening a
    // large database fast; it still catches the damage a crash or a bad copy causes.
    problems = (raw.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
  } catch (e) {
    const classified = classifyDatabaseError(e);
    if (classified !== null && classified.kind !== 'corrupt') throw classified;
    throw new DatabaseError(
      'corrupt',
      `${path} is not a readable MarrowCount database (${e instanceof Error ? e.message : String(e)}). ` +
        'Nothing was written to it. Restore the latest backup, or move the file away to start an empty database.',
      { cause: e },
    );
  }
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw new DatabaseError(
      'corrupt',
      `${path} failed SQLite's integrity check. Nothing was written to it. Restore the latest backup, or move the ` + 'file away to start an empty database.',
      { detail: problems.slice(0, 20).join('\n') },
    );
  }
}

export function closeDatabase(db: MarrowDatabase): void {
  if (!db.raw.open) return;
  if (!db.readonly) {
    // Folds the WAL back into the main file so that a copied .sqlite file is complete on its own.
    try {
      db.raw.pragma('wal_checkpoint(TRUNCATE)');
    } catch (e) {
      const classified = classifyDatabaseError(e, `Closing the database ${db.path}`);
      // Another process still reading keeps the WAL; that is harmless, the next open checkpoints it.
      if (classified === null || classified.kind !== 'locked') throw classified ?? e;
    }
  }
  db.raw.close();
}

/**
 * Copies the live database to destPath with SQLite's online backup API: consistent even while the app writes,
 * and the result is a complete single file (no WAL) that openDatabase accepts.
 */
export async function backupDatabase(db: MarrowDatabase, destPath: string): Promise<void> {
  try {
    await db.raw.backup(destPath);
  } catch (e) {
    const classified = classifyDatabaseError(e, `Backing up the database to ${destPath}`);
    if (classified !== null) throw classified;
    if (e instanceof TypeError && /directory does not exist/.test(e.message)) {
      throw new DatabaseError('io', `Cannot write the backup ${destPath}: its folder does not exist.`, { cause: e });
    }
    throw e;
  }
}

/**
 * Runs fn in one IMMEDIATE transaction (the write lock is taken up front, so a concurrent writer waits at BEGIN
 * instead of failing half-way); any error rolls the whole of it back.
 */
export function inTransaction<T>(db: MarrowDatabase, context: string, fn: () => T): T {
  assertWritable(db, context);
  try {
    return db.raw.transaction(fn).immediate();
  } catch (e) {
    throw classifyDatabaseError(e, context) ?? e;
  }
}

export function assertWritable(db: MarrowDatabase, context: string): void {
  if (db.readonly) {
    throw new DatabaseError('read_only', `${context}: the database ${db.path} is open read-only.`);
  }
}

/**
 * For the service: several repository calls as one atomic unit (e.g. read the differential and sign with it as its
 * snapshot). Repository calls inside nest as savepoints; an error anywhere rolls everything back.
 */
export function transaction<T>(db: MarrowDatabase, fn: () => T): T {
  return inTransaction(db, 'Saving', fn);
}

/**
 * A read of several statements from one snapshot (a deferred transaction: in WAL mode it never blocks writers),
 * so that e.g. a page of cells and its total agree even while the analysis worker writes.
 */
export function readSnapshot<T>(db: MarrowDatabase, context: string, fn: () => T): T {
  try {
    return db.raw.transaction(fn).deferred();
  } catch (e) {
    throw classifyDatabaseError(e, context) ?? e;
  }
}

/** Runs a read and classifies its SQLite errors. */
export function read<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw classifyDatabaseError(e, context) ?? e;
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** A prepared statement, cached per connection (preparing costs more than running the small statements here). */
export function sql(db: MarrowDatabase, text: string): Database.Statement {
  let cache = statementCache.get(db.raw);
  if (cache === undefined) {
    cache = new Map();
    statementCache.set(db.raw, cache);
  }
  let statement = cache.get(text);
  if (statement === undefined) {
    statement = db.raw.prepare(text);
    cache.set(text, statement);
  }
  return statement;
}
