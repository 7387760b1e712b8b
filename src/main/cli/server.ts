// `marrowcount server` and `marrowcount server init-tls`: the lab server's command line, a thin adapter over
// src/main/server. Strict like the other commands: an unknown flag or a missing value is a usage error naming it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startLabServer } from '../server/lab-server';
import { DATABASE_FILE_NAME } from '../files/locations';
import { isPostgresUrl } from '../db/postgres/connection';
import { DatabaseError } from '../db/errors';
import { resolveDatabaseLocation, StoreLocationError } from '../db/store';
import { loadTls, makeSelfSignedCertificate, TlsSetupError } from '../server/tls';
import { EXIT, type CliIo } from './analyze';
import { UsageError } from './args';
import { appRoot, appVersion, defaultModelDir } from './paths';

export { SERVER_USAGE } from './server-usage';

const SERVER_VALUE_FLAGS = new Set(['--listen', '--tls-cert', '--tls-key', '--db', '--data', '--cases-root', '--model']);
const INIT_TLS_VALUE_FLAGS = new Set(['--out', '--name']);

function parseFlags(argv: readonly string[], allowed: ReadonlySet<string>, repeatable: ReadonlySet<string> = new Set()): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const eq = token.indexOf('=');
    const name = eq < 0 ? token : token.slice(0, eq);
    if (!allowed.has(name)) throw new UsageError(token.startsWith('--') ? `Unknown option "${name}".` : `Unexpected argument "${token}".`);
    const value = eq >= 0 ? token.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${name} needs a value.`);
    const list = values.get(name) ?? [];
    if (list.length > 0 && !repeatable.has(name)) throw new UsageError(`${name} is given twice.`);
    values.set(name, [...list, value]);
  }
  return values;
}

export function parseListen(text: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen must be host:port (e.g. 0.0.0.0:8443), not "${text}".`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function loud(io: CliIo, lines: string[]): void {
  const bar = '='.repeat(78);
  io.stdout.write(`${bar}\n${lines.join('\n')}\n${bar}\n`);
}

async function initTls(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, INIT_TLS_VALUE_FLAGS, new Set(['--name']));
  const out = flags.get('--out')?.[0];
  if (out === undefined) throw new UsageError('server init-tls needs --out <folder> for the certificate and key.');
  try {
    const made = await makeSelfSignedCertificate(out, flags.get('--name') ?? []);
    loud(io, [
      'SELF-SIGNED CERTIFICATE FOR TRIALS (made with openssl)',
      `  certificate  ${made.certFile}`,
      `  private key  ${made.keyFile}   (keep it secret: readable by its owner only)`,
      `  subject      ${made.tls.subject.replace(/\n/g, ', ')}`,
      `  valid until  ${made.tls.validTo}`,
      '',
      `  SHA-256 FINGERPRINT  ${made.tls.fingerprint256}`,
      '',
      'Stations pin this fingerprint the first time they connect. Compare it with what the station shows',
      'before accepting; a different fingerprint later means another server or a replaced certificate.',
    ]);
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof TlsSetupError)) throw e;
    io.stderr.write(`marrowcount server init-tls: ${e.message}\n`);
    return EXIT.failed;
  }
}

export async function serverCommand(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === 'init-tls') return initTls(argv.slice(1), io);
  const flags = parseFlags(argv, SERVER_VALUE_FLAGS);
  const one = (name: string): string | null => flags.get(name)?.[0] ?? null;
  const certFile = one('--tls-cert');
  const keyFile = one('--tls-key');
  const data = one('--data');
  if (certFile === null || keyFile === null) {
    throw new UsageError('server needs --tls-cert and --tls-key (the lab server speaks HTTPS only). For a trial: marrowcount server init-tls --out <folder>.');
  }
  if (data === null) throw new UsageError('server needs --data <folder> for reports, the LIS outbox and uploads.');
  const listen = parseListen(one('--listen') ?? '127.0.0.1:8443');
  const dataDir = resolve(data);
  let database;
  let tls;
  try {
    database = resolveDatabaseLocation({ cliOption: one('--db'), env: io.env, default: join(dataDir, DATABASE_FILE_NAME) }).location;
    tls = loadTls(certFile, keyFile);
  } catch (e) {
    if (e instanceof StoreLocationError || e instanceof TlsSetupError) {
      io.stderr.write(`marrowcount server: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
  const casesRoot = one('--cases-root');
  if (casesRoot !== null && !existsSync(casesRoot)) {
    io.stderr.write(`marrowcount server: --cases-root ${casesRoot} does not exist.\n`);
    return EXIT.failed;
  }
  const rendererDir = join(appRoot(), 'out', 'renderer');
  const hasRenderer = existsSync(join(rendererDir, 'index.html'));
  let server;
  try {
    server = await startLabServer({
      host: listen.host,
      port: listen.port,
      tls,
      databaseLocation: database,
      dataDir,
      casesRoot: casesRoot === null ? null : resolve(casesRoot),
      modelDir: resolve(one('--model') ?? defaultModelDir(io.env)),
      rendererDir: hasRenderer ? rendererDir : null,
      appVersion: appVersion(),
    });
  } catch (e) {
    // The database refused to open (db/store.ts openStore): a PostgreSQL server out of reach, a damaged file, a
    // newer schema. One line naming it, never its password.
    if (!(e instanceof StoreLocationError || e instanceof DatabaseError)) throw e;
    io.stderr.write(`marrowcount server: ${e.message}\n`);
    return EXIT.failed;
  }
  loud(io, [
    `MarrowCount lab server listening on ${server.url}/`,
    `  database     ${server.service.databaseWhere} (${isPostgresUrl(database) ? 'PostgreSQL' : 'SQLite'})`,
    `  data         ${dataDir}`,
    `  cases root   ${casesRoot === null ? '(none: uploaded cases only)' : resolve(casesRoot)}`,
    `  app          ${hasRenderer ? rendererDir : 'NOT BUILT: stations get the API only (run npm run build)'}`,
    `  certificate  SHA-256 ${tls.fingerprint256}`,
  ]);
  await new Promise<void>((stop) => {
    const off = io.onInterrupt(() => stop());
    process.once('SIGTERM', () => {
      off();
      stop();
    });
  });
  io.stdout.write('Stopping the lab server...\n');
  await server.close();
  return EXIT.ok;
}
