// Choosing and opening the lab's store (issue 22, "Selecting"): a postgres:// or postgresql:// URL is a PostgreSQL
// database, anything else a SQLite file. Every entry point (desktop app, CLI, lab server, browser host) and every
// worker thread opens its store here, so the choice of engine is made in one place.
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { OpenOptions } from './connection';
import type { Store } from './contract';
import { isPostgresUrl, redactDatabaseUrl } from './postgres/connection';
import { openPostgresStore } from './postgres/store';
import { openSqliteStore } from './sqlite-repositories';

/** The environment variable that names the database: a SQLite file or a PostgreSQL URL. */
export const DATABASE_URL_ENV = 'MARROWCOUNT_DATABASE_URL';

/** A location the build cannot open (an engine it lacks, a URL scheme it does not know, an empty name). */
export class StoreLocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreLocationError';
  }
}

export interface OpenStoreOptions extends OpenOptions {
  /** SQLite: create the file's folder when missing (the service does; a read-only tool must not). */
  createFolder?: boolean;
}

/** Where a location is, as a message may show it: a file path, or the URL without its password. */
export function describeDatabaseLocation(location: string): string {
  return isPostgresUrl(location) ? redactDatabaseUrl(location) : location;
}

/**
 * Opens the store at `location`: a PostgreSQL URL (its database must exist; the schema is migrated in it), or a
 * SQLite file (created and migrated when missing). Either way the same history check runs before any write.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { createFolder, ...openOptions } = options;
  if (isPostgresUrl(location)) {
    // A SQLite busy timeout has no meaning on a server; lock waits there end in 'locked' (errors.ts).
    return openPostgresStore(location, openOptions.readonly === undefined ? {} : { readonly: openOptions.readonly });
  }
  if (createFolder === true && location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
  return openSqliteStore(location, openOptions);
}

export interface DatabaseLocationSources {
  /** `--db <url or file>` as given on the command line; null or undefined when absent. */
  cliOption?: string | null;
  /** The process environment: MARROWCOUNT_DATABASE_URL. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A setting kept outside the database it selects (launch options, a host's own configuration); optional. */
  setting?: string | null;
  /** The file used when nothing names one (the desktop app's user-data folder, the lab server's data folder). */
  default: string;
}

export interface DatabaseLocation {
  /** A PostgreSQL URL as given, or an absolute SQLite file path. */
  location: string;
  /** What chose it, for messages. */
  source: '--db' | typeof DATABASE_URL_ENV | 'setting' | 'default';
}

const SOURCE_ORDER = ['--db', DATABASE_URL_ENV, 'setting'] as const;

/**
 * `--db` beats MARROWCOUNT_DATABASE_URL beats the setting beats the default file (an empty value counts as not
 * given, as a shell leaves `MARROWCOUNT_DATABASE_URL=` behind). Accepted: a PostgreSQL URL (kept as given), a file
 * path, or a sqlite:/file: URL of one (made absolute); any other URL scheme is refused naming where it came from.
 */
export function resolveDatabaseLocation(sources: DatabaseLocationSources): DatabaseLocation {
  const given: Record<(typeof SOURCE_ORDER)[number], string | null | undefined> = {
    '--db': sources.cliOption,
    [DATABASE_URL_ENV]: sources.env?.[DATABASE_URL_ENV],
    setting: sources.setting,
  };
  for (const source of SOURCE_ORDER) {
    const value = given[source];
    if (value === null || value === undefined || value.trim() === '') continue;
    return { location: normalise(value.trim(), source), source };
  }
  return { location: resolve(sources.default), source: 'default' };
}

function normalise(value: string, source: string): string {
  if (isPostgresUrl(value)) return value;
  const fileUrl = /^(sqlite|file):(\/\/)?(.*)$/i.exec(value);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !fileUrl) {
    throw new StoreLocationError(`${source} "${value.slice(0, 80)}" is neither a SQLite file nor a PostgreSQL URL.`);
  }
  const path = fileUrl ? fileUrl[3]! : value;
  if (path === '') throw new StoreLocationError(`${source} names no file.`);
  return isAbsolute(path) ? path : resolve(path);
}
