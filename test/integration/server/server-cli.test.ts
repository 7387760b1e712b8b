// `marrowcount server` on the command line, in process: init-tls makes a certificate and prints its fingerprint
// loudly; the store comes from --db or MARROWCOUNT_DATABASE_URL, and a PostgreSQL server that cannot be reached is
// one line without the URL's password, never replaced by a local file.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli';
import type { CliIo } from '../../../src/main/cli/analyze';
import { parseListen } from '../../../src/main/cli/server';
import { resolveDatabaseLocation } from '../../../src/main/db/store';
import { unreachablePostgresUrl } from '../../helpers/pg-cluster';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdout, stderr, env, onInterrupt: () => () => undefined, out: () => out, err: () => err };
}

const root = mkdtempSync(join(tmpdir(), 'marrowcount-server-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('marrowcount server (command line)', () => {
  it('init-tls makes a self-signed certificate with openssl and prints its SHA-256 fingerprint', async () => {
    const cli = io();
    const code = await runCli(['server', 'init-tls', '--out', join(root, 'tls'), '--name', 'marrow.lab.local'], cli);
    expect(code).toBe(0);
    const cert = new X509Certificate(readFileSync(join(root, 'tls', 'marrowcount-server.crt')));
    expect(cli.out()).toContain(`SHA-256 FINGERPRINT  ${cert.fingerprint256}`);
    expect(cert.subjectAltName).toContain('DNS:marrow.lab.local');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(statSync(join(root, 'tls', 'marrowcount-server.key')).mode & 0o077).toBe(0);
  });

  it('init-tls refuses to overwrite a certificate (stations have pinned it)', async () => {
    const cli = io();
    expect(await runCli(['server', 'init-tls', '--out', join(root, 'tls')], cli)).toBe(3);
    expect(cli.err()).toMatch(/already exists/);
  });

  it('says in one line that the PostgreSQL server of --db or the environment cannot be reached, without its password', async () => {
    const tls = [
      '--tls-cert',
      join(root, 'tls', 'marrowcount-server.crt'),
      '--tls-key',
      join(root, 'tls', 'marrowcount-server.key'),
      '--data',
      join(root, 'data'),
      '--listen',
      '127.0.0.1:0',
    ];
    const url = await unreachablePostgresUrl('secret');
    const viaFlag = io();
    expect(await runCli(['server', ...tls, '--db', url], viaFlag)).toBe(3);
    expect(viaFlag.err()).toMatch(
      /^marrowcount server: Opening the database postgres:\/\/lab:\*\*\*@127\.0\.0\.1:\d+\/marrowcount: the database server cannot be reached/,
    );
    expect(viaFlag.err()).not.toContain('secret');
    const viaEnv = io({ MARROWCOUNT_DATABASE_URL: url.replace('lab:secret@', 'lab@') });
    expect(await runCli(['server', ...tls], viaEnv)).toBe(3);
    expect(viaEnv.err()).toContain('postgres://lab@127.0.0.1:');
    expect(viaEnv.err()).toContain('cannot be reached');
  });

  it('needs a certificate and a data folder, and names a bad --listen', async () => {
    const noTls = io();
    expect(await runCli(['server', '--data', root], noTls)).toBe(1);
    expect(noTls.err()).toMatch(/--tls-cert and --tls-key/);
    expect(() => parseListen('8443')).toThrow(/host:port/);
    expect(parseListen('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
  });

  it('takes the database from --db, else the environment, else the data folder', () => {
    const at = (cliOption: string | null, env: Record<string, string>) => resolveDatabaseLocation({ cliOption, env, default: '/data/marrowcount.sqlite' });
    expect(at('/srv/a.sqlite', { MARROWCOUNT_DATABASE_URL: '/srv/b.sqlite' })).toEqual({ location: '/srv/a.sqlite', source: '--db' });
    expect(at(null, { MARROWCOUNT_DATABASE_URL: 'sqlite:///srv/b.sqlite' })).toEqual({ location: '/srv/b.sqlite', source: 'MARROWCOUNT_DATABASE_URL' });
    expect(at(null, { MARROWCOUNT_DATABASE_URL: 'postgres://lab@db/mc' })).toEqual({ location: 'postgres://lab@db/mc', source: 'MARROWCOUNT_DATABASE_URL' });
    expect(at('postgresql://lab@db/mc', { MARROWCOUNT_DATABASE_URL: '/srv/b.sqlite' }).location).toBe('postgresql://lab@db/mc');
    expect(at(null, { MARROWCOUNT_DATABASE_URL: '' })).toEqual({ location: '/data/marrowcount.sqlite', source: 'default' });
    expect(at(null, {})).toEqual({ location: '/data/marrowcount.sqlite', source: 'default' });
    expect(() => at('mysql://x/y', {})).toThrow(/neither a SQLite file nor a PostgreSQL URL/);
  });
});
