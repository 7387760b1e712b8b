// The PostgreSQL engine's migration history: the same check as ../migrate.ts (a newer schema or a foreign history
// refused before any write, an edited migration found by its checksum), then the pending migrations in one
// transaction. PostgreSQL's DDL is transactional, so a failed migration leaves the database as it was; an advisory
// lock makes two stations opening a new database at once migrate it once.
import type { PoolClient } from 'pg';
import { checkAppliedHistory, foreignSchemaError, migrationChecksum, pendingMigrations, type AppliedMigration } from '../migrate';
import type { Migration } from '../migrations';
import { PG_MIGRATIONS } from './migrations';

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
    if ((await userObjectCount(client)) > 0) throw foreignSchemaError(where, 'database');
    return 0;
  }
  const { rows: applied } = await client.query<AppliedMigration>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  return checkAppliedHistory(applied, migrations, where, 'database');
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
  const { targetVersion, pending } = pendingMigrations(all, await verifyPostgresHistory(client, where, all), where, options);
  if (pending.length === 0) return targetVersion;
  await client.query('BEGIN');
  try {
    await client.query(MIGRATION_LOCK);
    // Re-read under the lock: another station may have migrated between the check and the lock.
    const already = await verifyPostgresHistory(client, where, all);
    await client.query(CREATE_HISTORY);
    for (const migration of pending.slice(already)) {
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
