// The database a CLI command works on: `--db <url or file>`, else MARROWCOUNT_DATABASE_URL, else the older
// MARROWCOUNT_DB, else the desktop app's own file (db/store.ts resolveDatabaseLocation). A location that cannot be
// opened (an unknown URL scheme, a PostgreSQL server out of reach, a damaged file, a newer schema) is said in one
// line, never a stack trace.
import { join } from 'node:path';
import { DATABASE_FILE_NAME } from '../files/locations';
import { DatabaseError } from '../db/errors';
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
 * The service on the command's database, or null (with the reason written to stderr) when the database cannot be
 * opened: the location is not one this build knows, or the database refused (DatabaseError: unreachable, damaged,
 * newer schema, another application's). The messages name the database and never a password.
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
    if (!(e instanceof StoreLocationError || e instanceof DatabaseError)) throw e;
    io.stderr.write(`marrowcount ${command}: ${e.message}\n`);
    return null;
  }
}
