// How a PostgreSQL repository reaches the database: through the pool (each call its own transaction), or through the
// one connection of a Store transaction (contract.ts), where a repository's own unit nests as a savepoint, the way
// better-sqlite3 nests the SQLite repositories' inTransaction.
import type pg from 'pg';
import { DatabaseError } from '../errors';
import { classifyPostgresError } from './errors';
import { pgTransaction, type PostgresDatabase } from './connection';

export interface PgScope {
  readonly db: PostgresDatabase;
  /** The connection of the enclosing Store transaction, or null outside one. */
  readonly client: pg.PoolClient | null;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

let savepoints = 0;

/** Runs fn atomically: a transaction of its own, or a savepoint inside the enclosing one. */
export async function pgUnit<T>(scope: PgScope, context: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = scope.client;
  if (client === null) return pgTransaction(scope.db, context, fn);
  const name = `unit_${++savepoints}`;
  await client.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn(client);
    await client.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (e) {
    await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
    await client.query(`RELEASE SAVEPOINT ${name}`);
    throw classifyPostgresError(e, context) ?? e;
  }
}

/** Runs a read and classifies its errors: on the transaction's connection when there is one, else on the pool. */
export async function pgRead<T>(scope: PgScope, context: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
  try {
    return await fn(scope.client ?? scope.db.pool);
  } catch (e) {
    throw classifyPostgresError(e, context) ?? e;
  }
}

/**
 * A row that a unique constraint said exists (ON CONFLICT DO NOTHING) but that the next read does not show: another
 * station's transaction that held it rolled back in between. Nothing was written; trying again succeeds.
 */
export function raceLost(context: string): DatabaseError {
  return new DatabaseError('locked', `${context}: another station changed the same records at the same time. Try again.`);
}

/**
 * Several reads from one snapshot (REPEATABLE READ READ ONLY), the twin of ../connection.ts's readSnapshot: on the
 * enclosing transaction's connection when there is one (its snapshot already), else on a connection of its own.
 */
export async function pgSnapshot<T>(scope: PgScope, context: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
  if (scope.client !== null) return pgRead(scope, context, fn);
  return pgTransaction(scope.db, context, fn, { snapshot: true });
}
