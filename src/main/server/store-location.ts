// Where the lab server keeps its data: one place decides, from --db or MARROWCOUNT_DATABASE_URL, so that the store
// can change (PostgreSQL) without touching the rest of the server. This build has the SQLite store only; a
// PostgreSQL URL is refused with that said, never quietly replaced by a local file.
import { isAbsolute, join, resolve } from 'node:path';

export type StoreLocation = { engine: 'sqlite'; path: string };

export class StoreLocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreLocationError';
  }
}

/**
 * --db wins over the environment; neither given: marrowcount.sqlite in the data folder.
 * Accepted: a file path, or a sqlite:/file: URL. postgres:// and postgresql:// are refused in this build.
 */
export function resolveStoreLocation(dbFlag: string | null, env: Readonly<Record<string, string | undefined>>, dataDir: string): StoreLocation {
  const given = dbFlag ?? env.MARROWCOUNT_DATABASE_URL ?? null;
  const source = dbFlag !== null ? '--db' : 'MARROWCOUNT_DATABASE_URL';
  if (given === null || given.trim() === '') return { engine: 'sqlite', path: join(resolve(dataDir), 'marrowcount.sqlite') };
  if (/^postgres(ql)?:\/\//i.test(given)) {
    throw new StoreLocationError(
      `${source} names a PostgreSQL database, which is not supported yet in this build of the lab server: its PostgreSQL store is still being written. Give a SQLite file (--db /var/lib/marrowcount/marrowcount.sqlite) for now.`,
    );
  }
  const fileUrl = /^(sqlite|file):(\/\/)?(.*)$/i.exec(given);
  const path = fileUrl ? fileUrl[3]! : given;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given) && !fileUrl) {
    throw new StoreLocationError(`${source} "${given.slice(0, 80)}" is neither a SQLite file nor a PostgreSQL URL.`);
  }
  if (path === '') throw new StoreLocationError(`${source} names no file.`);
  return { engine: 'sqlite', path: isAbsolute(path) ? path : resolve(path) };
}
