// A second connection to a database by its location (a SQLite file or a postgres:// URL), for tests that check
// stored rows, or write past the application as another station or a script would, on either engine with the same
// statement: `?` placeholders (numbered for PostgreSQL), bigint ids and counts as numbers on both. `store()` opens
// the application's own store on the same location for reads through the repository contract.
import pg from 'pg';
import { closeDatabase, openDatabase, type MarrowDatabase } from '../../../src/main/db';
import type { Store } from '../../../src/main/db/contract';
import { isPostgresUrl } from '../../../src/main/db/postgres/connection';
import { openStore } from '../../../src/main/db/store';

export interface RawSql {
  /** One statement: its rows (a SELECT or `… RETURNING`), else []. */
  sql<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** The application's store on the same database, opened on first use. */
  store(): Promise<Store>;
  close(): Promise<void>;
}

/** `?` as PostgreSQL's $1, $2 … (the tests' SQL has no `?` inside string literals). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Opens nothing until the first call. */
export function openRawSql(location: string): RawSql {
  let sqlite: MarrowDatabase | null = null;
  let pool: pg.Pool | null = null;
  let store: Promise<Store> | null = null;
  return {
    async sql<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      if (!isPostgresUrl(location)) {
        // The application's own connection settings (foreign keys on, a busy timeout to wait for the application's
        // writes); opening runs SQLite's quick check, so a damaged file fails here as 'corrupt'.
        sqlite ??= openDatabase(location);
        const statement = sqlite.raw.prepare(text);
        if (statement.reader) return statement.all(...params) as T[];
        statement.run(...params);
        return [];
      }
      pool ??= new pg.Pool({
        connectionString: location,
        max: 2,
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
            oid === 20 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
      });
      return (await pool.query(numbered(text), params as unknown[])).rows as T[];
    },
    store: () => (store ??= openStore(location)),
    async close() {
      if (store !== null) await (await store).close();
      if (sqlite !== null) closeDatabase(sqlite);
      await pool?.end();
    },
  };
}
