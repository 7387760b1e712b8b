// A throw-away PostgreSQL cluster for tests and benchmarks: initdb in a fresh temporary folder, a server on a free
// loopback port, stopped and removed after. A real server (Debian's postgresql package), never an imitation.
//
// PostgreSQL refuses to run as root, so when this process is root the server binaries run as the `postgres` user
// (runuser) on a folder it owns; otherwise they run as the current user. Only 127.0.0.1 is listened on, with trust
// authentication: the cluster lives as long as one test file and holds nothing but test rows.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const POSTGRES_ROOT = '/usr/lib/postgresql';
/** The superuser role the tests connect as (not `postgres`, so that nothing relies on the default name). */
export const TEST_ROLE = 'marrowcount';

export interface PgCluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  readonly version: string;
  /** A connection URL for a database of this cluster (default: the `postgres` database initdb creates). */
  url(database?: string): string;
  stop(): void;
}

interface Installation {
  binDir: string;
  version: string;
}

/** The newest PostgreSQL under /usr/lib/postgresql with initdb and pg_ctl, or why there is none. */
export function findPostgres(root = POSTGRES_ROOT): Installation | { reason: string } {
  if (!existsSync(root)) {
    return { reason: `PostgreSQL is not installed (no ${root}); install Debian's postgresql package` };
  }
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  const newest = versions[0];
  if (newest === undefined) return { reason: `no initdb/pg_ctl under ${root}/*/bin; install Debian's postgresql package` };
  if (isRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return { reason: 'running as root and there is no `postgres` user to run the server as' };
  }
  return { binDir: join(root, newest, 'bin'), version: newest };
}

/**
 * Why PostgreSQL tests cannot run here, or null when they can. Under CI (CI set) a missing PostgreSQL is a
 * failure, not a skip: CI installs it, so its absence there means the engine went untested.
 */
export function postgresUnavailable(root = POSTGRES_ROOT): string | null {
  const found = findPostgres(root);
  if (!('reason' in found)) return null;
  if (process.env['CI']) throw new Error(`PostgreSQL tests cannot run on CI: ${found.reason}`);
  console.warn(`PostgreSQL tests skipped: ${found.reason}`);
  return found.reason;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function idOf(flag: '-u' | '-g', user: string): number {
  const out = spawnSync('id', [flag, user], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`no user ${user}: ${out.stderr}`);
  return Number(out.stdout.trim());
}

function runServerBinary(binDir: string, tool: string, args: string[]): void {
  const command = isRoot() ? 'runuser' : join(binDir, tool);
  const fullArgs = isRoot() ? ['-u', 'postgres', '--', join(binDir, tool), ...args] : args;
  const result = spawnSync(command, fullArgs, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} failed (exit ${result.status}): ${result.stderr || result.stdout}`);
  }
}

/** A port the kernel just handed out on 127.0.0.1 (closed again, so that the server can take it). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ClusterOptions {
  /**
   * false (tests): no fsync, which a throw-away cluster does not need and which makes each test commit cost a
   * disk flush. true (benchmarks): the durability settings a lab's server runs with, so the figures mean something.
   */
  durable?: boolean;
  /**
   * Serve TLS with this certificate and key (PEM files; copied into the cluster's folder, owned by its user, as
   * PostgreSQL requires of a key): what a lab's server does, for the tests of `sslmode` in the connection URL.
   */
  tls?: { certFile: string; keyFile: string };
}

const started = new Set<PgCluster>();
// A test runner that dies between start and stop must not leave a server behind.
process.once('exit', () => {
  for (const cluster of started) cluster.stop();
});

export async function startPgCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  const found = findPostgres();
  if ('reason' in found) throw new Error(`cannot start PostgreSQL: ${found.reason}`);
  const dir = mkdtempSync(join(tmpdir(), 'marrowcount-pg-'));
  try {
    if (isRoot()) chownSync(dir, idOf('-u', 'postgres'), idOf('-g', 'postgres'));
    runServerBinary(found.binDir, 'initdb', ['-D', dir, '-A', 'trust', '-U', TEST_ROLE, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    const tlsSettings: string[] = [];
    if (options.tls) {
      for (const [from, to] of [
        [options.tls.certFile, 'server.crt'],
        [options.tls.keyFile, 'server.key'],
      ] as const) {
        copyFileSync(from, join(dir, to));
        chmodSync(join(dir, to), 0o600);
        if (isRoot()) chownSync(join(dir, to), idOf('-u', 'postgres'), idOf('-g', 'postgres'));
      }
      tlsSettings.push('-c ssl=on', `-c ssl_cert_file=${join(dir, 'server.crt')}`, `-c ssl_key_file=${join(dir, 'server.key')}`);
    }
    const settings = [
      ...tlsSettings,
      '-c listen_addresses=127.0.0.1',
      `-k ${dir}`,
      '-c max_connections=40',
      '-c shared_buffers=32MB',
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ];
    let lastError: unknown;
    // The port is free when chosen but another process may take it before the server binds: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freeLoopbackPort();
      try {
        runServerBinary(found.binDir, 'pg_ctl', [
          '-D',
          dir,
          '-l',
          join(dir, 'server.log'),
          '-o',
          `-p ${port} ${settings.join(' ')}`,
          '-w',
          '-t',
          '60',
          'start',
        ]);
      } catch (e) {
        lastError = new Error(`${e instanceof Error ? e.message : String(e)}\n${serverLog(dir)}`);
        continue;
      }
      let stopped = false;
      const cluster: PgCluster = {
        host: '127.0.0.1',
        port,
        user: TEST_ROLE,
        dir,
        version: found.version,
        url: (database = 'postgres') => `postgres://${TEST_ROLE}@127.0.0.1:${port}/${database}`,
        stop: () => {
          if (stopped) return;
          stopped = true;
          started.delete(cluster);
          try {
            // immediate: the cluster is thrown away, nothing needs a clean checkpoint.
            runServerBinary(found.binDir, 'pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      };
      started.add(cluster);
      return cluster;
    }
    throw lastError;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function serverLog(dir: string): string {
  const log = join(dir, 'server.log');
  return existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
}
