// Applies the numbered migrations at open, inside one transaction, and refuses databases it cannot vouch for:
// written by a newer MarrowCount, or with a migration history that differs from this build's.
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { DatabaseError } from './errors';
import { MIGRATIONS, type Migration } from './migrations';

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`;

function hasTable(raw: Database.Database, name: string): boolean {
  return raw.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function userObjectCount(raw: Database.Database): number {
  const row = raw.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`).get() as { n: number };
  return row.n;
}

/** What a message calls the database: a SQLite file, or a PostgreSQL database. */
export type StoredIn = 'file' | 'database';

/** A database with tables but no migration history: another application's, never written to. */
export function foreignSchemaError(where: string, storedIn: StoredIn): DatabaseError {
  const what = storedIn === 'file' ? 'it has tables' : 'its schema has tables';
  const instead = storedIn === 'file' ? 'Choose another file.' : 'Choose another database or schema.';
  return new DatabaseError('migration_history', `${where} is not a MarrowCount database (${what} but no migration history). ${instead}`);
}

/**
 * The history check both engines run before any write: the recorded migrations (in version order) against this
 * build's. Returns how many of them are applied; throws 'newer_schema' or 'migration_history'.
 */
export function checkAppliedHistory(applied: readonly AppliedMigration[], migrations: readonly Migration[], where: string, storedIn: StoredIn): number {
  const latestKnown = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const newest = applied.length === 0 ? 0 : applied[applied.length - 1]!.version;
  if (newest > latestKnown) {
    throw new DatabaseError(
      'newer_schema',
      `${where} was written by a newer version of MarrowCount (database schema version ${newest}; this version ` +
        `understands up to ${latestKnown}). Update MarrowCount to open it; the ${storedIn} was not changed.`,
    );
  }
  applied.forEach((row, i) => {
    const expected = migrations[i];
    if (expected === undefined || row.version !== expected.version || row.name !== expected.name) {
      throw new DatabaseError(
        'migration_history',
        `${where} has an out-of-order migration history: position ${i + 1} is ${row.version} "${row.name}", expected ` +
          `${expected ? `${expected.version} "${expected.name}"` : 'nothing'}. The ${storedIn} was not changed; restore a backup.`,
      );
    }
    if (row.checksum !== migrationChecksum(expected)) {
      throw new DatabaseError(
        'migration_history',
        `${where} was migrated with a different text of migration ${row.version} "${row.name}" than this version ` +
          `of MarrowCount ships. The ${storedIn} was not changed; restore a backup or use the matching MarrowCount.`,
      );
    }
  });
  return applied.length;
}

/**
 * The migrations an open must apply, given how many are applied: none when the database is current (its version
 * returned), else the pending ones and the version they lead to; a read-only open that would need them is refused.
 */
export function pendingMigrations(
  all: readonly Migration[],
  appliedCount: number,
  where: string,
  options: Pick<MigrateOptions, 'readonly' | 'upTo'>,
): { current: number; targetVersion: number; pending: readonly Migration[] } {
  const target = all.filter((m) => options.upTo === undefined || m.version <= options.upTo);
  const targetVersion = target.length === 0 ? 0 : target[target.length - 1]!.version;
  const current = appliedCount === 0 ? 0 : all[appliedCount - 1]!.version;
  if (current >= targetVersion) return { current, targetVersion: current, pending: [] };
  if (options.readonly) {
    throw new DatabaseError(
      'read_only',
      `${where} needs upgrading to schema version ${targetVersion} (it is at ${current}), which a read-only open ` +
        'cannot do. Open it once with write access.',
    );
  }
  return { current, targetVersion, pending: target };
}

/**
 * Checks the recorded history against this build's migrations and returns how many of them are applied.
 * Throws 'newer_schema' or 'migration_history'.
 */
export function verifyHistory(raw: Database.Database, path: string, migrations: readonly Migration[] = MIGRATIONS): number {
  if (!hasTable(raw, 'schema_migrations')) {
    if (userObjectCount(raw) > 0) throw foreignSchemaError(path, 'file');
    return 0;
  }
  const applied = raw.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as AppliedMigration[];
  return checkAppliedHistory(applied, migrations, path, 'file');
}

export interface MigrateOptions {
  readonly?: boolean;
  /** For tests of upgrades: stop after this version. */
  upTo?: number;
  /** For tests: a different migration list. */
  migrations?: readonly Migration[];
}

/** Returns the schema version after migrating. */
export function migrate(raw: Database.Database, path: string, options: MigrateOptions = {}): number {
  const all = options.migrations ?? MIGRATIONS;
  const { targetVersion, pending } = pendingMigrations(all, verifyHistory(raw, path, all), path, options);
  if (pending.length === 0) return targetVersion;
  const apply = raw.transaction(() => {
    // Re-read inside the write lock: another process may have migrated between the check and BEGIN.
    const already = verifyHistory(raw, path, all);
    raw.exec(CREATE_HISTORY);
    const record = raw.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
    for (const migration of pending.slice(already)) {
      raw.exec(migration.sql);
      record.run(migration.version, migration.name, migrationChecksum(migration), new Date().toISOString());
    }
    // foreign_keys cannot be switched inside a transaction, so a migration that rebuilds a table runs with them
    // on; this check catches a migration that left dangling references all the same.
    const violations = raw.pragma('foreign_key_check') as unknown[];
    if (violations.length > 0) {
      throw new DatabaseError('migration_history', `Migrating ${path} left ${violations.length} broken references; nothing was changed.`);
    }
  });
  apply.immediate();
  return targetVersion;
}
