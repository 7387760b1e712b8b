// What the README's "PostgreSQL for the lab's IT" section tells a lab to do, done on a real server: a role that is
// neither superuser nor able to create databases or roles, owning its one database, is all MarrowCount needs (it
// migrates the schema itself); the connection is encrypted and the server's certificate checked
// (`sslmode=verify-full&sslrootcert=…`), and a server whose certificate the lab's CA did not sign is refused with a
// message that names the database but never the password; so is a server that offers no TLS when the URL asks for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../../src/main/db';
import { PG_MIGRATIONS } from '../../../src/main/db/postgres/migrations';
import { closePostgresDatabase, openPostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgSettingsRepository } from '../../../src/main/db/postgres/settings';
import { makeSelfSignedCertificate } from '../../../src/main/server/tls';
import { postgresUnavailable, startPgCluster, type PgCluster } from '../../helpers/pg-cluster';

const unavailable = postgresUnavailable();
const APP_PASSWORD = 'app-secret-Xq7';

describe.skipIf(unavailable !== null)('PostgreSQL as a lab runs it: a least-privilege role over verified TLS', () => {
  let cluster: PgCluster;
  let certDir: string;
  let labCa: string;
  let strangerCa: string;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'marrowcount-pg-tls-'));
    const server = await makeSelfSignedCertificate(join(certDir, 'server'), ['127.0.0.1', 'localhost']);
    labCa = server.certFile;
    strangerCa = (await makeSelfSignedCertificate(join(certDir, 'stranger'), ['127.0.0.1'])).certFile;
    cluster = await startPgCluster({ tls: server });
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    try {
      // The README's commands, as SQL: a login role with nothing more, and a database it owns.
      await admin.query(`CREATE ROLE marrowcount_app LOGIN PASSWORD '${APP_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
      await admin.query('CREATE DATABASE marrowcount OWNER marrowcount_app');
    } finally {
      await admin.end();
    }
  }, 120_000);
  afterAll(() => {
    cluster?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  const appUrl = (ca: string) =>
    `postgres://marrowcount_app:${APP_PASSWORD}@127.0.0.1:${cluster.port}/marrowcount?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

  it('migrates and works as the database owner without superuser rights, over an encrypted, verified connection', async () => {
    const db = await openPostgresDatabase(appUrl(labCa));
    try {
      expect(db.schemaVersion).toBe(PG_MIGRATIONS.at(-1)!.version);
      expect(db.where).not.toContain(APP_PASSWORD);
      const { rows } = await db.pool.query<{ ssl: boolean; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(
        `SELECT s.ssl, r.rolsuper, r.rolcreatedb, r.rolcreaterole
           FROM pg_stat_ssl AS s, pg_roles AS r
          WHERE s.pid = pg_backend_pid() AND r.rolname = current_user`,
      );
      expect(rows[0]).toEqual({ ssl: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false });
      const saved = await pgSettingsRepository({ db, client: null }).saveSettings({ labName: 'Haematology' }, 'IT check');
      expect(saved.labName).toBe('Haematology');
    } finally {
      await closePostgresDatabase(db);
    }
  });

  it('refuses a server without TLS when the URL requires it', async () => {
    const plain = await startPgCluster();
    try {
      const refused = await openPostgresDatabase(`${plain.url()}?sslmode=verify-full&sslrootcert=${encodeURIComponent(labCa)}`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(DatabaseError);
      expect((refused as DatabaseError).kind).toBe('io');
      expect((refused as DatabaseError).message).toMatch(/does not offer TLS/);
    } finally {
      plain.stop();
    }
  }, 60_000);

  it('refuses a server whose certificate the given CA did not sign, naming the database and not the password', async () => {
    const refused = await openPostgresDatabase(appUrl(strangerCa)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(DatabaseError);
    const error = refused as DatabaseError;
    expect(error.kind).toBe('io');
    expect(error.message).toContain(`127.0.0.1:${cluster.port}/marrowcount`);
    expect(error.message).not.toContain(APP_PASSWORD);
    expect(error.message).toMatch(/certificate was not accepted.*sslrootcert/);
  });
});
