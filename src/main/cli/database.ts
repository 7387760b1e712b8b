// The database a CLI command works on: `--db <url or file>`, else MARROWCOUNT_DATABASE_URL, else the older
// MARROWCOUNT_DB, else the desktop app's own file (db/store.ts resolveDatabaseLocation). A location this build
// cannot open (a PostgreSQL URL for now, an unknown URL scheme) is said in one line, never a stack trace.
import { join } from 'node:path';
import { DATABASE_FILE_NAME } from '../files/locations';
import { resolveDatabaseLocation, StoreLocationError } from '../db/store';
import { createMarrowService, type CreateServiceExtras, type MarrowService, type MarrowServiceOptions } from '../service/marrow-service';
import type { CliIo } from './analyze';
import { userDataDir } from './paths';

export function cliDatabaseLocation(dbOption: string | null | undefined, env: NodeJS.ProcessEnv): string {
  return resolveDatabaseLocation({
    cliOption: dbOption ?? null,
    env,
    // MARROWCOUNT_DB, the CLI's name for it before PostgreSQL: still honoured, below the shared variable.
    setting: env['MARROWCOUNT_DB'] ?? null,
    default: join(userDataDir(env), DATABASE_FILE_NAME),
  }).location;
}

/**
 * The service on the command's database, or null (with the reason written to stderr) when the location cannot be
 * opened by this build. Other failures to open (a damaged file, a newer schema) propagate as before.
 */
export async function openCliService(
  io: CliIo,
  command: string,
  dbOption: string | null | undefined,
  options: Omit<MarrowServiceOptions, 'databaseLocation'>,
  extras?: CreateServiceExtras,
): Promise<MarrowService | null> {
  try {
    return await createMarrowService({ ...options, databaseLocation: cliDatabaseLocation(dbOption, io.env) }, extras);
  } catch (e) {
    if (!(e instanceof StoreLocationError)) throw e;
    io.stderr.write(`marrowcount ${command}: ${e.message}\n`);
    return null;
  }
}
