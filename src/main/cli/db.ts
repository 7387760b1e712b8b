// `marrowcount db copy --from <file.sqlite> --to postgres://…`: the command-line adapter of db/copy-to-postgres.ts.
// Parsing, progress on stderr, the per-table summary on stdout; the copy and every rule about it live in db/.
import { resolve } from 'node:path';
import { copySqliteToPostgres, DatabaseCopyError, type CopyProgress, type CopyResult } from '../db/copy-to-postgres';
import { DatabaseError } from '../db/errors';
import { redactDatabaseUrl } from '../db/postgres/connection';
import { EXIT, type CliIo } from './analyze';
import { parseSubcommand, UsageError } from './args';

const SUBCOMMANDS = ['copy'] as const;
const VALUE_FLAGS = new Set(['--from', '--to']);

export interface DbCopyArgs {
  from: string;
  to: string;
  json: boolean;
}

export function parseDbArgs(argv: readonly string[]): DbCopyArgs {
  const { values, positional, json } = parseSubcommand('db', SUBCOMMANDS, argv, VALUE_FLAGS);
  if (positional.length > 0) throw new UsageError(`db copy takes no ${positional[0]}; give --from <file.sqlite> --to postgres://….`);
  const from = values.get('--from');
  const to = values.get('--to');
  if (from === undefined) throw new UsageError('db copy needs --from <file.sqlite>, the SQLite database to copy.');
  if (to === undefined) throw new UsageError('db copy needs --to postgres://user@host:port/database, the empty PostgreSQL database to fill.');
  if (!/^postgres(ql)?:\/\//i.test(to)) {
    // The argument may hold a password: never echoed whole.
    throw new UsageError(`--to must be a postgres:// URL (got "${to.includes('@') ? redactDatabaseUrl(to) : to}").`);
  }
  return { from: resolve(from), to, json };
}

export function copySummaryText(result: CopyResult): string {
  const width = Math.max(...result.tables.map((t) => t.table.length));
  const lines = result.tables.map(
    (t) => `  ${t.table.padEnd(width)}  ${String(t.rows).padStart(9)}  ${t.action === 'copied' ? 'copied  ' : 'compared'}  sha256 ${t.sha256.slice(0, 16)}`,
  );
  const rate = result.seconds > 0 ? Math.round(result.rows / result.seconds) : result.rows;
  return (
    `Copied ${result.from} to ${result.to} (schema version ${result.schemaVersion}):\n${lines.join('\n')}\n` +
    `${result.rows} rows in ${result.seconds.toFixed(1)} s (${rate} rows/s); every table's row count and SHA-256 match on both sides.\n`
  );
}

function progressWriter(io: CliIo): (p: CopyProgress) => void {
  let lastAt = Date.now();
  return (p) => {
    const now = Date.now();
    // A line per table when it is done, and for a big table every few seconds, so a long copy visibly moves.
    if (p.copied < p.total && now - lastAt < 2000) return;
    if (p.copied === 0 && p.total > 0) return;
    lastAt = now;
    io.stderr.write(`[${p.tableIndex}/${p.tableCount}] ${p.table}: ${p.copied}/${p.total}\n`);
  };
}

export async function dbCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseDbArgs(argv);
  try {
    const result = await copySqliteToPostgres(args.from, args.to, { onProgress: args.json ? undefined : progressWriter(io) });
    io.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : copySummaryText(result));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof DatabaseCopyError || error instanceof DatabaseError) {
      io.stderr.write(`marrowcount: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}
