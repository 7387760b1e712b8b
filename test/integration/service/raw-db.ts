// Raw SQL on the database a service test opened, whichever engine it is (a SQLite file or a postgres:// URL): for the
// checks that read rows past the API, or try a rule the schema holds against any writer. Statements use `?`
// placeholders (none inside string literals); ids and counts come back as numbers on both engines.
import { openRawSql } from '../db/raw-sql';

export interface RawDb {
  /** Runs one statement; its rows (a SELECT or … RETURNING), else []. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** The same second connection as `fx.sql` (db/raw-sql.ts), under the name the accounts and signature tests use. */
export async function openRaw(location: string): Promise<RawDb> {
  const raw = openRawSql(location);
  return { all: raw.sql, close: raw.close };
}
