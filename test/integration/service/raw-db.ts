// Raw SQL on the database a service test opened, whichever engine it is (a SQLite file or a postgres:// URL): for the
// checks that read rows past the API, or try a rule the schema holds against any writer. Statements use `?`
// placeholders (none inside string literals); ids and counts come back as numbers on both engines.
import pg from 'pg';
import { closeDatabase, openDatabase } from '../../../src/main/db';
import { isPostgresUrl } from '../../../src/main/db/postgres/connection';

export interface RawDb {
  /** Runs one statement; its rows (a SELECT or … RETURNING), else []. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openRaw(location: string): Promise<RawDb> {
  if (!isPostgresUrl(location)) {
    const db = openDatabase(location);
    return {
      all: async <T>(sql: string, params: readonly unknown[] = []) => {
        const statement = db.raw.prepare(sql);
        if (statement.reader) return statement.all(...params) as T[];
        statement.run(...params);
        return [];
      },
      close: async () => closeDatabase(db),
    };
  }
  const client = new pg.Client({
    connectionString: location,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  await client.connect();
  return {
    all: async <T>(sql: string, params: readonly unknown[] = []) => {
      let n = 0;
      return (
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params as unknown[],
        )
      ).rows as T[];
    },
    close: () => client.end(),
  };
}
