// `marrowcount users …` and `analyze --user` in-process through runCli: the first administrator without a login on
// an empty database, every later command as a logged-in person (password from the environment), and refusals with
// a clear message and exit code 4 for a missing or wrong login or a missing role. The same commands on a SQLite file
// and on a PostgreSQL database (`--db postgres://…`, a throw-away cluster): the analysis worker opens its own
// connection to whichever the command names.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserSummary } from '../../src/shared/api';
import { runCli } from '../../src/main/cli';
import { ENGINES, usePostgres } from './db/engines';
import { GOOD_CROPS, TINY_MODEL } from './service/helpers';

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const root = mkdtempSync(join(tmpdir(), 'marrowcount-cli-users-'));
const pgSetup = usePostgres();
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await runCli(args, { stdout, stderr, env: { MARROWCOUNT_MODEL_DIR: TINY_MODEL, ...env }, onInterrupt: () => () => undefined });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const ADA = { MARROWCOUNT_PASSWORD: 'ada-password-1' };

describe.each(ENGINES)('marrowcount users and analyze --user on %s', (engine) => {
  const skip = engine === 'postgres' && pgSetup.unavailable !== null;
  let db = '';
  let demoDb = '';
  beforeAll(async () => {
    if (skip) return;
    db = engine === 'sqlite' ? join(root, 'lab.sqlite') : await pgSetup.freshUrl();
    demoDb = engine === 'sqlite' ? join(root, 'demo.sqlite') : await pgSetup.freshUrl();
  });

  it.skipIf(skip)('creates the first administrator without a login on an empty database, and only an administrator', async () => {
    const list = await cli(['users', 'list', '--db', db]);
    expect(list.code).toBe(4);
    expect(list.stderr).toContain('This database has no user accounts yet. Create the first administrator with: marrowcount users add');
    const notAdmin = await cli(['users', 'add', 'ada', '--name', 'Ada Admin', '--role', 'technician', '--db', db], {
      MARROWCOUNT_NEW_PASSWORD: 'ada-password-1',
    });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('The first account must be an administrator');
    const noPassword = await cli(['users', 'add', 'ada', '--name', 'Ada Admin', '--role', 'admin', '--db', db]);
    expect(noPassword.code).toBe(4);
    expect(noPassword.stderr).toContain('set MARROWCOUNT_NEW_PASSWORD or run the command in a terminal');
    const first = await cli(['users', 'add', 'ada', '--name', 'Ada Admin', '--role', 'admin,technician', '--db', db], {
      MARROWCOUNT_NEW_PASSWORD: 'ada-password-1',
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('Created the first administrator ada (Ada Admin; admin, technician).\n');
  });

  it.skipIf(skip)('adds, lists, disables, enables and resets accounts as the logged-in administrator', async () => {
    const noUser = await cli(['users', 'add', 'tom', '--name', 'Tom Tech', '--role', 'technician', '--db', db], { MARROWCOUNT_NEW_PASSWORD: 'tom-password-1' });
    expect(noUser.code).toBe(4);
    expect(noUser.stderr).toContain('users add needs --user <login>');
    const wrong = await cli(['users', 'list', '--db', db, '--user', 'ada'], { MARROWCOUNT_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('Login as ada refused: Wrong login name or password.');
    const added = await cli(['users', 'add', 'tom', '--name', 'Tom Tech', '--role', 'technician', '--db', db, '--user', 'ada'], {
      ...ADA,
      MARROWCOUNT_NEW_PASSWORD: 'tom-password-1',
    });
    expect(added.code, added.stderr).toBe(0);
    const badRole = await cli(['users', 'add', 'x', '--name', 'X', '--role', 'boss', '--db', db, '--user', 'ada'], ADA);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('Unknown role "boss"; roles are technician, pathologist, admin.');
    // A technician is not an administrator: the role table refuses, naming the role needed.
    const byTech = await cli(['users', 'list', '--db', db, '--user', 'tom'], { MARROWCOUNT_PASSWORD: 'tom-password-1' });
    expect(byTech.code).toBe(4);
    expect(byTech.stderr).toContain('List users needs an administrator; Tom Tech is logged in as technician.');

    expect((await cli(['users', 'disable', 'tom', '--db', db, '--user', 'ada'], ADA)).stdout).toBe('tom is disabled; its records keep its name.\n');
    const disabledLogin = await cli(['users', 'list', '--db', db, '--user', 'tom'], { MARROWCOUNT_PASSWORD: 'tom-password-1' });
    expect(disabledLogin.stderr).toContain('The account tom is disabled. Ask an administrator.');
    expect((await cli(['users', 'enable', 'tom', '--db', db, '--user', 'ada'], ADA)).code).toBe(0);
    const reset = await cli(['users', 'reset-password', 'tom', '--db', db, '--user', 'ada'], { ...ADA, MARROWCOUNT_NEW_PASSWORD: 'tom-temporary-1' });
    expect(reset.stdout).toBe('The password of tom was reset; Tom Tech must choose a new one at the next login.\n');
    const list = await cli(['users', 'list', '--json', '--db', db, '--user', 'ada'], ADA);
    const users = JSON.parse(list.stdout) as UserSummary[];
    expect(users.map((u) => [u.login, u.roles, u.active, u.mustChangePassword])).toEqual([
      ['ada', ['admin', 'technician'], true, false],
      ['tom', ['technician'], true, true],
    ]);
    expect(list.stdout).not.toContain('password_hash');
    expect(list.stdout).not.toContain('scrypt');
  });

  it.skipIf(skip)(
    'analyses only as a logged-in technician once accounts exist',
    async () => {
      const folder = join(root, `case-${engine}`);
      cpSync(GOOD_CROPS, folder, { recursive: true });
      const common = [folder, '--db', db, '--model', TINY_MODEL, '--case', 'CLI-1', '--json'];
      const anonymous = await cli(['analyze', ...common]);
      expect(anonymous.code).toBe(4);
      expect(anonymous.stderr).toContain('This database has user accounts: analyze needs --user <login>');
      const mustChange = await cli(['analyze', ...common, '--user', 'tom'], { MARROWCOUNT_PASSWORD: 'tom-temporary-1' });
      expect(mustChange.code).toBe(4);
      expect(mustChange.stderr).toContain('tom must choose a new password first');
      const analysed = await cli(['analyze', ...common, '--user', 'ada'], ADA);
      expect(analysed.code, analysed.stderr).toBe(0);
      expect((JSON.parse(analysed.stdout) as { case: { accession: string } }).case.accession).toBe('CLI-1');
    },
    120_000,
  );

  it.skipIf(skip)(
    'runs analyze without a login on a database without accounts (the demo)',
    async () => {
      const folder = join(root, `demo-case-${engine}`);
      cpSync(GOOD_CROPS, folder, { recursive: true });
      const run = await cli(['analyze', folder, '--db', demoDb, '--model', TINY_MODEL, '--json']);
      expect(run.code, run.stderr).toBe(0);
    },
    120_000,
  );
});
