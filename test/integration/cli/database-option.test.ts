// Which database a CLI command opens (cli/database.ts over db/store.ts): --db beats MARROWCOUNT_DATABASE_URL beats
// MARROWCOUNT_DB beats the app's own file; a PostgreSQL server that cannot be reached is one line, without the URL's
// password and without touching any file (the CLI on a real PostgreSQL: cli-users.test.ts). Run in-process through
// runCli, as a user would type it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli';
import type { CliIo } from '../../../src/main/cli/analyze';
import { cliDatabaseLocation } from '../../../src/main/cli/database';
import { unreachablePostgresUrl } from '../../helpers/pg-cluster';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { err(): string } {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdout: new PassThrough(), stderr, env, onInterrupt: () => () => undefined, err: () => err };
}

const root = mkdtempSync(join(tmpdir(), 'marrowcount-cli-db-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the CLI database option', () => {
  it('takes --db, else MARROWCOUNT_DATABASE_URL, else MARROWCOUNT_DB, else the per-user file', () => {
    const env = { XDG_CONFIG_HOME: '/home/x/.config', MARROWCOUNT_DATABASE_URL: '/srv/url.sqlite', MARROWCOUNT_DB: '/srv/old.sqlite' };
    expect(cliDatabaseLocation('/srv/flag.sqlite', env)).toBe('/srv/flag.sqlite');
    expect(cliDatabaseLocation(null, env)).toBe('/srv/url.sqlite');
    expect(cliDatabaseLocation(null, { ...env, MARROWCOUNT_DATABASE_URL: '' })).toBe('/srv/old.sqlite');
    expect(cliDatabaseLocation(undefined, { XDG_CONFIG_HOME: '/home/x/.config' })).toBe(join('/home/x/.config', 'MarrowCount', 'marrowcount.sqlite'));
  });

  it.each([
    ['analyze', (db: string[]) => ['analyze', root, ...db]],
    ['users list', (db: string[]) => ['users', 'list', ...db]],
    ['lab-model list', (db: string[]) => ['lab-model', 'list', ...db]],
  ])('%s says in one line that a PostgreSQL server cannot be reached, from --db or the environment, without its password', async (_name, argv) => {
    const url = await unreachablePostgresUrl('pa55word');
    const viaFlag = io({ XDG_CONFIG_HOME: join(root, 'config') });
    expect(await runCli(argv(['--db', url]), viaFlag)).toBe(3);
    expect(viaFlag.err()).toMatch(/^marrowcount [a-z -]+: .*postgres:\/\/lab:\*\*\*@127\.0\.0\.1:\d+\/marrowcount.*cannot be reached.*\n$/);
    const viaEnv = io({ XDG_CONFIG_HOME: join(root, 'config'), MARROWCOUNT_DATABASE_URL: url.replace(/^postgres:/, 'postgresql:') });
    expect(await runCli(argv([]), viaEnv)).toBe(3);
    expect(viaEnv.err()).toContain('postgresql://lab:***@127.0.0.1:');
    expect(viaFlag.err() + viaEnv.err()).not.toContain('pa55word');
    // Nothing was opened instead: no per-user database appeared.
    expect(existsSync(join(root, 'config'))).toBe(false);
  });
});
