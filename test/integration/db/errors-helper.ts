import { expect } from 'vitest';
import { DatabaseError, type DatabaseErrorKind } from '../../../src/main/db';

/** Runs fn, expects a DatabaseError of this kind, and returns it for checks of its message. */
export function expectDbError(fn: () => unknown, kind: DatabaseErrorKind): DatabaseError {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected a DatabaseError of kind ${kind}`).toBeInstanceOf(DatabaseError);
  expect((thrown as DatabaseError).kind).toBe(kind);
  return thrown as DatabaseError;
}

/** Runs raw SQL that a trigger must reject; returns the SQLite error message. */
export function expectSqlRejected(fn: () => unknown, message: RegExp): void {
  expect(fn).toThrow(message);
}
