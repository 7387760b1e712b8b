// The PostgreSQL engine's migration history: the same check as ../migrate.ts (a newer schema or a foreign history
// refused before any write, an edited migration found by its checksum), then the pending migrations in one
// transaction. PostgreSQL's DDL is transactional, so a failed migration leaves the database as it was; an advisory
// lock makes two stations opening a new database at once migrate it once.
import type { PoolClient } from 'pg';
import { DatabaseError } from '../errors';
import { migrationChecksum } from '../migrate';
import type { Migration } from '../migrations';
import { PG_MIGRATIONS } from './migrations';

interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at text NOT NULL
)`;

/** Any key: it only has to be the same for every MarrowCount that migrates this schema. */
const MIGRATION_LOCK = `SELECT pg_advisory_xact_lock(hashtext('marrowcount migrations ' || current_schema()))`;

async function hasHistory(client: PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema() AND c.relname = 'schema_migrations' AND c.relkind = 'r') AS found`,
  );
  return rows[0]!.found;
}

/** Tables, views, sequences and functions in the schema MarrowCount would migrate. */
async function userObjectCount(client: PoolClient): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f'))
          + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema()) AS n`,
  );
  return Number(rows[0]!.n);
}

/** Checks the recorded history against this build's migrations; returns how many are applied. */
export async function verifyPostgresHistory(client: PoolClient, where: string, migrations: readonly Migration[] = PG_MIGRATIONS): Promise<number> {
  if (!(await hasHistory(client))) {
    if ((await userObjectCount(client)) > 0) {
      throw new DatabaseError(
        'migration_history',
        `${where} is not a MarrowCount database (its schema has tables but no migration history). Choose another database or schema.`,
      );
    }
    return 0;
  }
  const { rows: applied } = await client.query<AppliedMigration>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  const latestKnown = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const newest = applied.length === 0 ? 0 : applied[applied.length - 1]!.version;
  if (newest > latestKnown) {
    throw new DatabaseError(
      'newer_schema',
      `${where} was written by a newer version of MarrowCount (database schema version ${newest}; this version ` +
        `understands up to ${latestKnown}). Update MarrowCount to open it; the database was not changed.`,
    );
  }
  applied.forEach((row, i) => {
    const expected = migrations[i];
    if (expected === undefined || row.version !== expected.version || row.name !== expected.name) {
      throw new DatabaseError(
        'migration_history',
        `${where} has an out-of-order migration history: position ${i + 1} is ${row.version} "${row.name}", expected ` +
          `${expected ? `${expected.version} "${expected.name}"` : 'nothing'}. The database was not changed; restore a backup.`,
      );
    }
    if (row.checksum !== migrationChecksum(expected)) {
      throw new DatabaseError(
        'migration_history',
        `${where} was migrated with a different text of migration ${row.version} "${row.name}" than this version ` +
          'of MarrowCount ships. The database was not changed; restore a backup or use the matching MarrowCount.',
      );
    }
  });
  return applied.length;
}

export interface PostgresMigrateOptions {
  readonly?: boolean;
  /** For tests of upgrades: stop after this version. */
  upTo?: number;
  /** For tests: a different migration list. */
  migrations?: readonly Migration[];
}

/** Returns the schema version after migrating. */
export async function migratePostgres(client: PoolClient, where: string, options: PostgresMigrateOptions = {}): Promise<number> {
  const all = options.migrations ?? PG_MIGRATIONS;
  const target = all.filter((m) => options.upTo === undefined || m.version <= options.upTo);
  const targetVersion = target.length === 0 ? 0 : target[target.length - 1]!.version;
  const appliedCount = await verifyPostgresHistory(client, where, all);
  const current = appliedCount === 0 ? 0 : all[appliedCount - 1]!.version;
  if (current >= targetVersion) return current;
  if (options.readonly) {
    throw new DatabaseError(
      'read_only',
      `${where} needs upgrading to schema version ${targetVersion} (it is at ${current}), which a read-only open ` +
        'cannot do. Open it once with write access.',
    );
  }
  await client.query('BEGIN');
  try {
    await client.query(MIGRATION_LOCK);
    // Re-read under the lock: another station may have migrated between the check and the lock.
    const already = await verifyPostgresHistory(client, where, all);
    await client.query(CREATE_HISTORY);
    for (const migration of target.slice(already)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)', [
        migration.version,
        migration.name,
        migrationChecksum(migration),
        new Date().toISOString(),
      ]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
  return targetVersion;
}
