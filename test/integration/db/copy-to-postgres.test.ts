// `db copy` against a real PostgreSQL server: a SQLite database written through the real repositories is copied
// whole (counts, hashes, a differential read by the same SQL on both), a non-empty target and a target at another
// schema version are refused with nothing written, the rules are back on afterwards, and the CLI prints the summary
// or one line of error without the password.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli';
import { copySqliteToPostgres, DatabaseCopyError, rowsDigest } from '../../../src/main/db/copy-to-postgres';
import { openDatabase } from '../../../src/main/db';
import { usePostgres } from './engines';
import { buildCopyFixture } from './copy-fixture';
import { tempDir, track } from './helpers';

const pgSetup = usePostgres();

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  pgSetup.track(client);
  return client;
}

/** The effective label counts of a case (its decision in force, else its model's prediction), in plain SQL both engines run. */
const DIFFERENTIAL = `SELECT coalesce(d.label, p.predicted_class) AS label, count(*) AS n
  FROM images AS i JOIN cases AS c ON c.id = i.case_id
  JOIN predictions AS p ON p.image_id = i.id AND p.model_id = c.model_id
  LEFT JOIN current_decisions AS d ON d.image_id = i.id
  WHERE i.case_id = ? GROUP BY 1 ORDER BY 1`;

describe.skipIf(pgSetup.unavailable !== null)('db copy: SQLite to PostgreSQL', () => {
  it('copies every table with its ids, verified by count and hash, and the data reads the same on both', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const url = await pgSetup.freshUrl();
    const progress: string[] = [];
    const result = await copySqliteToPostgres(fx.path, url, { batchRows: 3, onProgress: (p) => progress.push(`${p.table} ${p.copied}/${p.total}`) });

    const source = track(openDatabase(fx.path, { readonly: true }));
    const target = await connect(url);
    const byTable = new Map(result.tables.map((t) => [t.table, t]));
    // Every table of the schema is in the summary, with the source's row count, and the counts on the target agree.
    const tables = (
      source.raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name`).all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect([...byTable.keys()].sort()).toEqual(tables);
    for (const name of tables) {
      const n = (source.raw.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
      const { rows } = await target.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}"`);
      expect({ name, rows: Number(rows[0]!.n) }).toEqual({ name, rows: n });
      expect(byTable.get(name)!.rows).toBe(n);
    }
    // The fixture is not thin: the tables issue 22 names hold rows.
    for (const name of [
      'cases',
      'images',
      'predictions',
      'prediction_embeddings',
      'reviews',
      'current_decisions',
      'audit_log',
      'sign_offs',
      'amendments',
      'signatures',
      'lis_messages',
      'lis_deliveries',
      'lab_models',
      'users',
      'sessions',
      'analysis_cancellations',
      'case_specimen_dates',
    ]) {
      expect({ name, empty: byTable.get(name)!.rows === 0 }).toEqual({ name, empty: false });
    }
    expect(byTable.get('cell_classes')!.action).toBe('compared');
    expect(result.rows).toBe(result.tables.filter((t) => t.action === 'copied').reduce((n, t) => n + t.rows, 0));
    expect(progress).toContain('predictions 3/13');

    // The hash is the function of the rows, recomputed here independently on the target's embeddings (blobs).
    const embeddings = await target.query({
      text: 'SELECT prediction_id, dim, vector, open_set_score FROM prediction_embeddings ORDER BY prediction_id',
      rowMode: 'array',
    });
    expect(rowsDigest(embeddings.rows.map((r: unknown[]) => [Number(r[0]), r[1], r[2], r[3]]))).toBe(byTable.get('prediction_embeddings')!.sha256);
    const sourceEmbeddings = source.raw
      .prepare('SELECT prediction_id, dim, vector, open_set_score FROM prediction_embeddings ORDER BY prediction_id')
      .raw()
      .all() as unknown[][];
    expect(rowsDigest(sourceEmbeddings)).toBe(byTable.get('prediction_embeddings')!.sha256);

    // Semantic reads: the same differential of the signed (amended) case, the same frozen snapshot text.
    const sqliteDiff = source.raw.prepare(DIFFERENTIAL).all(fx.signedCaseId) as { label: string; n: number }[];
    const pgDiff = (await target.query<{ label: string; n: string }>(DIFFERENTIAL.replace('?', '$1'), [fx.signedCaseId])).rows.map((r) => ({
      label: r.label,
      n: Number(r.n),
    }));
    expect(pgDiff).toEqual(sqliteDiff);
    expect(sqliteDiff.length).toBeGreaterThan(1);
    const snapshot = await target.query<{ s: string }>('SELECT summary_snapshot AS s FROM sign_offs ORDER BY id');
    expect(snapshot.rows.map((r) => r.s)).toEqual(['{"BLA":1}', '{"BLA":0}']);
    const caseRow = await target.query<{ status: string }>('SELECT status FROM cases WHERE id = $1', [fx.cancelledCaseId]);
    expect(caseRow.rows[0]!.status).toBe('cancelled');
  });

  it('leaves the rules on: an UPDATE of a prediction and a review of the signed case are refused, new ids follow the copied ones', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const url = await pgSetup.freshUrl();
    await copySqliteToPostgres(fx.path, url);
    const target = await connect(url);
    await expect(target.query('UPDATE predictions SET confidence = 0.1 WHERE id = 1')).rejects.toThrow(/\[immutable\]/);
    await expect(target.query('TRUNCATE reviews CASCADE')).rejects.toThrow(/\[immutable\]/);
    const image = await target.query<{ id: string }>('SELECT id FROM images WHERE case_id = $1 ORDER BY id LIMIT 1', [fx.signedCaseId]);
    await expect(
      target.query(`INSERT INTO reviews (case_id, image_id, label, reviewer, created_at, kind) VALUES ($1, $2, 'BLA', 'x', '2026-01-01', 'decision')`, [
        fx.signedCaseId,
        image.rows[0]!.id,
      ]),
    ).rejects.toThrow(/\[signed_case\]|\[constraint\]/);
    const triggers = await target.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgenabled = 'D'`,
    );
    expect(Number(triggers.rows[0]!.n)).toBe(0);
    const max = await target.query<{ m: string }>('SELECT max(id) AS m FROM patients');
    const next = await target.query<{ id: string }>(
      `INSERT INTO patients (lab_id, name, created_at, updated_at) VALUES ('MRN-NEW', 'New', '2026-12-01', '2026-12-01') RETURNING id`,
    );
    expect(Number(next.rows[0]!.id)).toBe(Number(max.rows[0]!.m) + 1);
  });

  it('runs as a role that owns its database and nothing more (no superuser): switching the triggers of its own tables is an owner right', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const admin = await connect(pgSetup.cluster().url());
    await admin.query('CREATE ROLE copy_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE');
    await admin.query('CREATE DATABASE copy_owned OWNER copy_app');
    const url = pgSetup
      .cluster()
      .url('copy_owned')
      .replace(/\/\/[^@]+@/, '//copy_app@');
    const result = await copySqliteToPostgres(fx.path, url);
    expect(result.tables.find((t) => t.table === 'predictions')!.rows).toBe(13);
    const target = await connect(url);
    const { rows } = await target.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(rows[0]!.rolsuper).toBe(false);
    await expect(target.query('UPDATE predictions SET confidence = 0.1 WHERE id = 1')).rejects.toThrow(/\[immutable\]/);
  });

  it('refuses a target that holds any row, naming the table, and writes nothing', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const url = await pgSetup.freshUrl();
    await copySqliteToPostgres(fx.path, url);
    const target = await connect(url);
    const before = await target.query<{ n: string }>('SELECT count(*) AS n FROM audit_log');
    const error = await copySqliteToPostgres(fx.path, url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseCopyError);
    expect((error as DatabaseCopyError).reason).toBe('target_not_empty');
    expect((error as DatabaseCopyError).message).toMatch(/is not empty: table \w+ has \d+ row/);
    const after = await target.query<{ n: string }>('SELECT count(*) AS n FROM audit_log');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);

    // One settings row is enough.
    const other = await pgSetup.freshUrl();
    const client = await connect(other);
    await client.query(`INSERT INTO settings (key, value, updated_at) VALUES ('labName', 'Other lab', '2026-01-01')`);
    await expect(copySqliteToPostgres(fx.path, other)).rejects.toMatchObject({ reason: 'target_not_empty', table: 'settings' });
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM cases');
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('refuses a target at another schema version, a target that is not a PostgreSQL URL and a source that is one', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const url = await pgSetup.freshUrl();
    // The template is fully migrated; a new database migrated only to 10 stands for an older server schema.
    const admin = await connect(pgSetup.cluster().url());
    await admin.query('CREATE DATABASE older_schema');
    await expect(copySqliteToPostgres(fx.path, pgSetup.cluster().url('older_schema'), { targetOptions: { upTo: 10 } })).rejects.toMatchObject({
      reason: 'schema_mismatch',
      message: expect.stringMatching(/schema version 11 .* at 10/),
    });
    await expect(copySqliteToPostgres(fx.path, join(tempDir(), 'other.sqlite'))).rejects.toMatchObject({ reason: 'bad_target' });
    await expect(copySqliteToPostgres(url, url)).rejects.toMatchObject({ reason: 'bad_target' });
    // A newer target (a history this build does not know) is refused by the open, before anything is written.
    const client = await connect(url);
    await client.query(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', '2030-01-01')`);
    await expect(copySqliteToPostgres(fx.path, url)).rejects.toMatchObject({ kind: 'newer_schema' });
  });

  it('opens the source with the usual checks: a SQLite file from a newer MarrowCount or another application is refused', async () => {
    const url = await pgSetup.freshUrl();
    const newer = join(tempDir(), 'newer.sqlite');
    const db = openDatabase(newer);
    db.raw.prepare(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', '2030-01-01')`).run();
    db.raw.close();
    await expect(copySqliteToPostgres(newer, url)).rejects.toMatchObject({ kind: 'newer_schema', message: expect.stringContaining('schema version 99') });
    const foreign = join(tempDir(), 'foreign.sqlite');
    const other = new Database(foreign);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    other.close();
    await expect(copySqliteToPostgres(foreign, url)).rejects.toMatchObject({ kind: 'migration_history' });
    const client = await connect(url);
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_log');
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('refuses, before writing, two schemas that differ at the same version: a table or a column on one engine only', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const extraTable = await pgSetup.freshUrl();
    await (await connect(extraTable)).query('CREATE TABLE lis_archive (id bigint PRIMARY KEY)');
    await expect(copySqliteToPostgres(fx.path, extraTable)).rejects.toMatchObject({
      reason: 'schema_mismatch',
      table: 'lis_archive',
      message: expect.stringContaining('table lis_archive is missing on SQLite'),
    });
    const extraColumn = await pgSetup.freshUrl();
    const client = await connect(extraColumn);
    await client.query('ALTER TABLE settings ADD COLUMN note text');
    await expect(copySqliteToPostgres(fx.path, extraColumn)).rejects.toMatchObject({
      reason: 'schema_mismatch',
      message: expect.stringContaining('settings: column(s) note missing on SQLite'),
    });
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM cases');
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('rolls everything back when a table reads back differently, naming it', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const url = await pgSetup.freshUrl();
    const error = await copySqliteToPostgres(fx.path, url, {
      // Stands for a conversion that changed a value on the way (what the verification is there to catch).
      beforeVerify: async (client) => {
        await client.query(`UPDATE settings SET value = value || ' (changed)'`);
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'verification_failed', table: 'settings' });
    expect((error as Error).message).toMatch(/Table settings differs after the copy .* rolled back/);
    const target = await connect(url);
    const { rows } = await target.query<{ n: string }>('SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM settings) AS n');
    expect(Number(rows[0]!.n)).toBe(0);
    const disabled = await target.query<{ n: string }>(`SELECT count(*) AS n FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'`);
    expect(Number(disabled.rows[0]!.n)).toBe(0);
  });

  it('CLI: prints the per-table summary without the password, and a refusal as one line', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const url = await pgSetup.freshUrl();
    const withPassword = url.replace('marrowcount@', 'marrowcount:s3cret-pw@');
    const run = async (argv: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (c: Buffer) => (out += c.toString()));
      stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await runCli(argv, { stdout, stderr, env: {}, onInterrupt: () => () => undefined });
      return { code, out, err };
    };
    const ok = await run(['db', 'copy', '--from', fx.path, '--to', withPassword]);
    expect(ok.err).not.toContain('s3cret-pw');
    expect(ok.out).not.toContain('s3cret-pw');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^Copied .*station\.sqlite to postgres:\/\/marrowcount:\*\*\*@127\.0\.0\.1:\d+\/test_\d+ \(schema version 11\):/);
    expect(ok.out).toMatch(/\n {2}predictions +13 +copied +sha256 [0-9a-f]{16}\n/);
    expect(ok.out).toMatch(/\n {2}cell_classes +21 +compared/);
    expect(ok.err).toMatch(/\[\d+\/\d+\] predictions: 13\/13/);

    const again = await run(['db', 'copy', '--from', fx.path, '--to', withPassword]);
    expect(again.code).toBe(3);
    expect(again.err).toMatch(/^marrowcount: postgres:\/\/marrowcount:\*\*\*@.* is not empty: table \w+ has \d+ row\(s\)\. .*\n$/);
    expect(again.err.split('\n')).toHaveLength(2);
    expect(again.err).not.toContain('s3cret-pw');

    const usage = await run(['db', 'copy', '--from', fx.path, '--to', 'mysql://root:pw@host/db']);
    expect(usage.code).toBe(1);
    expect(usage.err).toMatch(/--to must be a postgres:\/\/ URL/);
    expect(usage.err).not.toContain(':pw@');
    const json = await run(['db', 'copy', '--from', fx.path, '--to', await pgSetup.freshUrl(), '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out) as { tables: { table: string; rows: number; action: string }[]; schemaVersion: number };
    expect(parsed.schemaVersion).toBe(11);
    expect(parsed.tables.find((t) => t.table === 'predictions')).toMatchObject({ rows: 13, action: 'copied' });
    expect(json.err).toBe('');
    const missing = await run(['db', 'copy', '--to', url]);
    expect(missing.err).toMatch(/db copy needs --from/);
  });
});
