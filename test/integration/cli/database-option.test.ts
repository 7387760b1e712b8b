// Which database a CLI command opens (cli/database.ts over db/store.ts): --db beats MARROWCOUNT_DATABASE_URL beats
// MARROWCOUNT_DB beats the app's own file, and a PostgreSQL URL is refused by openStore in one line (exit 3), without
// its password and without touching any file. Run in-process through runCli, as a user would type it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli';
import type { CliIo } from '../../../src/main/cli/analyze';
import { cliDatabaseLocation } from '../../../src/main/cli/database';

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
  ])('%s refuses a PostgreSQL database in one line, from --db or the environment, without its password', async (_name, argv) => {
    const viaFlag = io({ XDG_CONFIG_HOME: join(root, 'config') });
    expect(await runCli(argv(['--db', 'postgres://lab:pa55word@db.lab/marrowcount']), viaFlag)).toBe(3);
    expect(viaFlag.err()).toMatch(
      /^marrowcount [a-z -]+: PostgreSQL stores are not supported by this build yet: postgres:\/\/lab:\*\*\*@db\.lab\/marrowcount\n$/,
    );
    const viaEnv = io({ XDG_CONFIG_HOME: join(root, 'config'), MARROWCOUNT_DATABASE_URL: 'postgresql://lab:pa55word@db.lab/marrowcount' });
    expect(await runCli(argv([]), viaEnv)).toBe(3);
    expect(viaEnv.err()).toContain('PostgreSQL stores are not supported by this build yet: postgresql://lab:***@db.lab/marrowcount');
    expect(viaFlag.err() + viaEnv.err()).not.toContain('pa55word');
    // Nothing was opened instead: no per-user database appeared.
    expect(existsSync(join(root, 'config'))).toBe(false);
  });
});
