// Choosing and opening the store (db/store.ts): --db beats MARROWCOUNT_DATABASE_URL beats the setting beats the
// default file; a SQLite path opens a migrated store; a PostgreSQL URL opens the PostgreSQL engine, and a server that
// cannot be reached is a typed error without the URL's password, with nothing created for it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../../src/main/db';
import { openStore, resolveDatabaseLocation, StoreLocationError } from '../../../src/main/db/store';
import { unreachablePostgresUrl } from '../../helpers/pg-cluster';
import { usePostgres } from './engines';
import { tempDir } from './helpers';

const pgSetup = usePostgres();

describe('resolveDatabaseLocation', () => {
  const env = (value: string | undefined) => (value === undefined ? {} : { MARROWCOUNT_DATABASE_URL: value });

  it('takes --db, else MARROWCOUNT_DATABASE_URL, else the setting, else the default file', () => {
    const all = { cliOption: '/a.sqlite', env: env('/b.sqlite'), setting: '/c.sqlite', default: '/d.sqlite' };
    expect(resolveDatabaseLocation(all)).toEqual({ location: '/a.sqlite', source: '--db' });
    expect(resolveDatabaseLocation({ ...all, cliOption: null })).toEqual({ location: '/b.sqlite', source: 'MARROWCOUNT_DATABASE_URL' });
    expect(resolveDatabaseLocation({ ...all, cliOption: null, env: env(undefined) })).toEqual({ location: '/c.sqlite', source: 'setting' });
    expect(resolveDatabaseLocation({ ...all, cliOption: null, env: env(undefined), setting: null })).toEqual({ location: '/d.sqlite', source: 'default' });
  });

  it('treats an empty value as not given, keeps a PostgreSQL URL as it is and makes a file path absolute', () => {
    expect(resolveDatabaseLocation({ cliOption: '  ', env: env(''), default: 'rel/d.sqlite' })).toEqual({
      location: join(process.cwd(), 'rel/d.sqlite'),
      source: 'default',
    });
    expect(resolveDatabaseLocation({ env: env('postgresql://lab:pw@db:5432/mc'), default: '/d.sqlite' }).location).toBe('postgresql://lab:pw@db:5432/mc');
    expect(resolveDatabaseLocation({ cliOption: 'file:///srv/x.sqlite', default: '/d.sqlite' }).location).toBe('/srv/x.sqlite');
    expect(resolveDatabaseLocation({ cliOption: 'lab.sqlite', default: '/d.sqlite' }).location).toBe(join(process.cwd(), 'lab.sqlite'));
  });

  it('refuses another URL scheme, naming where it came from', () => {
    expect(() => resolveDatabaseLocation({ env: env('mysql://db/mc'), default: '/d.sqlite' })).toThrow(StoreLocationError);
    expect(() => resolveDatabaseLocation({ env: env('mysql://db/mc'), default: '/d.sqlite' })).toThrow(
      /MARROWCOUNT_DATABASE_URL "mysql:\/\/db\/mc" is neither a SQLite file nor a PostgreSQL URL/,
    );
  });
});

describe('openStore', () => {
  it('opens a SQLite file as a migrated store, creating its folder when asked, and says where it is', async () => {
    const path = join(tempDir(), 'new', 'folder', 'marrowcount.sqlite');
    const store = await openStore(path, { createFolder: true });
    try {
      expect(store.engine).toBe('sqlite');
      expect(store.where).toBe(path);
      expect(store.schemaVersion).toBeGreaterThanOrEqual(11);
      expect(await store.cases.listCases({})).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(pgSetup.unavailable !== null)('opens a PostgreSQL URL as the PostgreSQL store, shown without its password', async () => {
    const url = new URL(await pgSetup.freshUrl());
    url.password = 's3cret';
    const store = await openStore(url.toString(), { createFolder: true });
    try {
      expect(store.engine).toBe('postgres');
      expect(store.where).toContain(`127.0.0.1:${url.port}`);
      expect(store.where).not.toContain('s3cret');
      expect(store.schemaVersion).toBeGreaterThanOrEqual(11);
      expect(await store.cases.listCases({})).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('answers a PostgreSQL server that cannot be reached with a typed error that leaves the password out', async () => {
    const url = await unreachablePostgresUrl('s3cret');
    for (const given of [url, url.replace(/^postgres:/, 'POSTGRESQL:')]) {
      const refusal = await openStore(given, { createFolder: true }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refusal).toBeInstanceOf(DatabaseError);
      expect((refusal as DatabaseError).kind).toBe('io');
      expect((refusal as Error).message).toMatch(/cannot be reached/);
      expect((refusal as Error).message).toContain('127.0.0.1');
      expect((refusal as Error).message).not.toContain('s3cret');
    }
    expect(existsSync('postgres:')).toBe(false);
  });
});
