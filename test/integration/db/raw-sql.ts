// A second connection to a database by its location (a SQLite file or a postgres:// URL), for tests that check
// stored rows, or write past the application as another station or a script would, on either engine with the same
// statement: `?` placeholders (numbered for PostgreSQL), bigint ids and counts as numbers on both. `store()` opens
// the application's own store on the same location for reads through the repository contract.
import Database from 'better-sqlite3';
import pg from 'pg';
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
  let sqlite: Database.Database | null = null;
  let pool: pg.Pool | null = null;
  let store: Promise<Store> | null = null;
  return {
    async sql<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      if (!isPostgresUrl(location)) {
        if (sqlite === null) {
          sqlite = new Database(location);
          // The application writes on its own connection; wait for it as another station would.
          sqlite.pragma('busy_timeout = 5000');
        }
        const statement = sqlite.prepare(text);
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
      sqlite?.close();
      await pool?.end();
    },
  };
}
