// The PostgreSQL engine's migrations: the same versions and names as SQLite's, the checked-in schema snapshot, every
// upgrade path ending at that schema, and the history check that refuses a newer or foreign schema before writing.
import pg from 'pg';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatabaseError, closeDatabase, openDatabase } from '../../../src/main/db';
import { MIGRATIONS } from '../../../src/main/db/migrations';
import { closePostgresDatabase, openPostgresDatabase, redactDatabaseUrl } from '../../../src/main/db/postgres/connection';
import { PG_MIGRATIONS } from '../../../src/main/db/postgres/migrations';
import { usePostgres } from './engines';
import { tempDir } from './helpers';
import { dumpPostgresSchema } from './pg-schema';

const SNAPSHOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/db/schema.postgres.sql');
const LATEST = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

describe('PostgreSQL migrations mirror the SQLite ones', () => {
  it('has one PostgreSQL migration per SQLite migration, with the same version and name', () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
  });

  it('never shows the password of a database URL', () => {
    expect(redactDatabaseUrl('postgres://lab:s3cret@db.lab.local:5432/marrow')).toBe('postgres://lab:***@db.lab.local:5432/marrow');
  });
});

const setup = usePostgres();

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database that has never been migrated (the template copies are migrated already). */
async function emptyDatabase(): Promise<string> {
  const url = await setup.freshUrl();
  const name = `${new URL(url).pathname.slice(1)}_empty`;
  await withClient(setup.cluster().url(), (c) => c.query(`CREATE DATABASE ${name}`));
  return setup.cluster().url(name);
}

async function expectRefused(url: string, kind: DatabaseError['kind']): Promise<DatabaseError> {
  const error = await openPostgresDatabase(url).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseError);
  expect((error as DatabaseError).kind).toBe(kind);
  return error as DatabaseError;
}

describe.skipIf(setup.unavailable !== null)('PostgreSQL migrations on a real server', () => {
  it('migrates an empty database to the latest version and records every migration in order', async () => {
    const db = await openPostgresDatabase(await emptyDatabase());
    try {
      expect(db.schemaVersion).toBe(LATEST);
      const { rows } = await db.pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(rows).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    } finally {
      await closePostgresDatabase(db);
    }
  });

  it('produces exactly the checked-in schema snapshot (set UPDATE_DB_SCHEMA_SNAPSHOT=1 to accept a change)', async () => {
    const url = await emptyDatabase();
    await closePostgresDatabase(await openPostgresDatabase(url));
    const schema = await withClient(url, dumpPostgresSchema);
    if (process.env.UPDATE_DB_SCHEMA_SNAPSHOT === '1' || !existsSync(SNAPSHOT)) writeFileSync(SNAPSHOT, schema);
    expect(schema).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });

  // Versions need only increase (main has 1-7 and 11 while 8-10 are written elsewhere): each previous version.
  it.each(PG_MIGRATIONS.map((_, i) => (i === 0 ? 0 : PG_MIGRATIONS[i - 1]!.version)))(
    'upgrades a database at version %i to the snapshot schema',
    async (from) => {
      const url = await emptyDatabase();
      if (from > 0) {
        const old = await openPostgresDatabase(url, { upTo: from });
        expect(old.schemaVersion).toBe(from);
        await closePostgresDatabase(old);
      }
      const db = await openPostgresDatabase(url);
      expect(db.schemaVersion).toBe(LATEST);
      await closePostgresDatabase(db);
      expect(await withClient(url, dumpPostgresSchema)).toBe(readFileSync(SNAPSHOT, 'utf8'));
    },
  );

  it('has the same tables, columns (in order) and named triggers as the SQLite schema', async () => {
    const sqlite = openDatabase(join(tempDir(), 'mirror.sqlite'));
    const sqliteTables = new Map<string, string[]>();
    for (const { name } of sqlite.raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {
      name: string;
    }[]) {
      sqliteTables.set(
        name,
        (sqlite.raw.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(name) as { name: string }[]).map((c) => c.name),
      );
    }
    const sqliteTriggers = (
      sqlite.raw.prepare(`SELECT tbl_name || '.' || name AS t FROM sqlite_master WHERE type = 'trigger' ORDER BY 1`).all() as { t: string }[]
    ).map((r) => r.t);
    closeDatabase(sqlite);

    const url = await setup.freshUrl();
    const { columns, triggers } = await withClient(url, async (c) => ({
      columns: (
        await c.query<{ table_name: string; column_name: string }>(
          `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
        )
      ).rows,
      triggers: (
        await c.query<{ t: string }>(
          `SELECT c.relname || '.' || t.tgname AS t FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
           JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal`,
        )
      ).rows.map((r) => r.t),
    }));
    const pgTables = new Map<string, string[]>();
    for (const { table_name, column_name } of columns) pgTables.set(table_name, [...(pgTables.get(table_name) ?? []), column_name]);
    expect(Object.fromEntries(pgTables)).toEqual(Object.fromEntries(sqliteTables));
    // Every SQLite trigger has its PostgreSQL namesake on the same table (PostgreSQL adds the TRUNCATE refusals).
    expect(sqliteTriggers.filter((t) => !triggers.includes(t))).toEqual([]);
  });

  it('refuses a database written by a newer MarrowCount, naming both versions, and changes nothing', async () => {
    const url = await setup.freshUrl();
    await withClient(url, (c) =>
      c.query(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, 'from-the-future', 'x', 't')`, [LATEST + 1]),
    );
    const before = await withClient(url, dumpPostgresSchema);
    const error = await expectRefused(url, 'newer_schema');
    expect(error.message).toContain(`schema version ${LATEST + 1}`);
    expect(error.message).toContain(`up to ${LATEST}`);
    expect(await withClient(url, dumpPostgresSchema)).toBe(before);
  });

  it('refuses a schema with tables but no migration history (another application) before creating anything', async () => {
    const url = await emptyDatabase();
    await withClient(url, (c) => c.query('CREATE TABLE invoices (id integer PRIMARY KEY)'));
    const error = await expectRefused(url, 'migration_history');
    expect(error.message).toMatch(/not a MarrowCount database/);
    const tables = await withClient(url, (c) => c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`));
    expect(tables.rows).toEqual([{ table_name: 'invoices' }]);
  });

  it('refuses a database migrated with an edited migration (checksum) or an out-of-order history', async () => {
    const edited = await setup.freshUrl();
    await withClient(edited, (c) => c.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3`));
    expect((await expectRefused(edited, 'migration_history')).message).toMatch(/different text of migration 3 "image-reimport"/);

    const reordered = await setup.freshUrl();
    await withClient(reordered, (c) => c.query(`UPDATE schema_migrations SET name = 'something-else' WHERE version = 2`));
    expect((await expectRefused(reordered, 'migration_history')).message).toMatch(/out-of-order migration history: position 2/);
  });

  it('refuses to migrate when opened read-only, and opens a migrated database read-only without writing', async () => {
    const empty = await emptyDatabase();
    const error = await openPostgresDatabase(empty, { readonly: true }).then(
      () => null,
      (e: unknown) => e as DatabaseError,
    );
    expect(error?.kind).toBe('read_only');
    const tables = await withClient(empty, (c) => c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = current_schema()`));
    expect(tables.rows[0]).toEqual({ n: 0 });

    const migrated = await openPostgresDatabase(await setup.freshUrl(), { readonly: true });
    try {
      expect(migrated.schemaVersion).toBe(LATEST);
      await expect(migrated.pool.query(`INSERT INTO settings (key, value, updated_at) VALUES ('labName', 'x', 't')`)).rejects.toThrow(/read-only transaction/);
    } finally {
      await closePostgresDatabase(migrated);
    }
  });

  it('migrates once when several stations open a new database at the same moment', async () => {
    const url = await emptyDatabase();
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openPostgresDatabase(url)));
    try {
      expect(dbs.map((d) => d.schemaVersion)).toEqual([LATEST, LATEST, LATEST, LATEST]);
      const { rows } = await dbs[0]!.pool.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r: { version: number }) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    } finally {
      await Promise.all(dbs.map(closePostgresDatabase));
    }
  });

  it('says the server cannot be reached, as an io error without the password', async () => {
    const port = setup.cluster().port;
    // The cluster's port with a database that does not exist, then a closed port.
    const missing = await expectRefused(`postgres://marrowcount:pw@127.0.0.1:${port}/no_such_database`, 'not_found');
    expect(missing.message).not.toContain(':pw@');
    const closed = await expectRefused('postgres://marrowcount:pw@127.0.0.1:1/marrow', 'io');
    expect(closed.message).toMatch(/cannot be reached/);
    expect(closed.message).not.toContain(':pw@');
  });
});
