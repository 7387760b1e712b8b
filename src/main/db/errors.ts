// Database failures sorted into the kinds the app acts on. The service maps a kind to its own error kind
// (e.g. 'signed_case' → 'locked', 'duplicate' → 'conflict'); the message is written for the person who reads it.

export type DatabaseErrorKind =
  | 'corrupt' // the file fails SQLite's integrity check or is not a database: restore a backup
  | 'newer_schema' // written by a newer MarrowCount: update the app
  | 'migration_history' // the recorded migrations do not match this build's: the file was edited or mixed up
  | 'locked' // another process holds the database (SQLITE_BUSY after the busy timeout)
  | 'read_only' // the file or folder is not writable, or the database was opened read-only
  | 'constraint' // a row broke a rule of the schema (foreign key, CHECK, immutability trigger)
  | 'not_found'
  | 'signed_case' // the case is signed: amend it first
  | 'duplicate' // a unique value (accession number, image, prediction) already exists
  | 'unknown_class' // a cell class code outside the Matek 2021 list
  | 'stale' // a decision made on a cell (or case) that changed since the person saw it: look again
  | 'io'; // the disk failed (full, unplugged, permission)

export class DatabaseError extends Error {
  readonly kind: DatabaseErrorKind;
  /** Technical detail (SQLite code, path) for logs and the "details" disclosure; never needed to act. */
  readonly detail: string | undefined;

  constructor(kind: DatabaseErrorKind, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DatabaseError';
    this.kind = kind;
    this.detail = options?.detail;
  }
}

/**
 * Trigger messages start with "[kind] " so that a rule enforced in SQL surfaces as the same typed error as the
 * one checked in TypeScript. Keep in sync with the RAISE(...) calls in migrations/ (and postgres/migrations/, whose
 * classifyPostgresError reads the same tags).
 */
export const TRIGGER_TAG = /^\[(signed_case|immutable|unknown_class|duplicate|constraint|not_found|stale)\]\s*/;

function sqliteCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const code = (e as { code: string }).code;
    return code.startsWith('SQLITE_') ? code : undefined;
  }
  return undefined;
}

/**
 * Maps an error thrown by better-sqlite3 (or by this module) to a DatabaseError; null when it is not a database
 * error (a programming error, which callers must let through unchanged).
 */
export function classifyDatabaseError(e: unknown, context?: string): DatabaseError | null {
  if (e instanceof DatabaseError) return e;
  const code = sqliteCode(e);
  if (code === undefined) return null;
  const raw = e instanceof Error ? e.message : String(e);
  const where = context ? `${context}: ` : '';
  const detail = `${code}: ${raw}`;

  const tagged = TRIGGER_TAG.exec(raw);
  if (tagged) {
    const tag = tagged[1];
    const text = raw.slice(tagged[0].length);
    const kind: DatabaseErrorKind = tag === 'immutable' ? 'constraint' : (tag as DatabaseErrorKind);
    return new DatabaseError(kind, `${where}${text}`, { detail, cause: e });
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new DatabaseError('duplicate', `${where}this record already exists (${raw}).`, { detail, cause: e });
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new DatabaseError('constraint', `${where}the change breaks a rule of the database (${raw}).`, {
      detail,
      cause: e,
    });
  }
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB') {
    return new DatabaseError('corrupt', `${where}the database file is damaged (${raw}). Close MarrowCount and restore the latest backup.`, {
      detail,
      cause: e,
    });
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_LOCKED_')) {
    return new DatabaseError('locked', `${where}the database is in use by another MarrowCount window or process. Close it and try again.`, {
      detail,
      cause: e,
    });
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
    return new DatabaseError(
      'read_only',
      `${where}the database cannot be written (read-only file, folder or mode). Check the permissions of the data folder.`,
      { detail, cause: e },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new DatabaseError('io', `${where}the disk is full. Free some space and try again.`, { detail, cause: e });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_') || code === 'SQLITE_PERM') {
    return new DatabaseError('io', `${where}the database file could not be read or written (${raw}).`, {
      detail,
      cause: e,
    });
  }
  // SQLITE_ERROR and the like are programming errors (bad SQL): let them through as they are.
  return null;
}
