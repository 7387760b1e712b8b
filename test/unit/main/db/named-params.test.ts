// The PostgreSQL repositories reuse the SQLite repositories' SQL, whose parameters are named (@caseId).
import { describe, expect, it } from 'vitest';
import { named } from '../../../../src/main/db/postgres/named';

describe('named SQL parameters as PostgreSQL positions', () => {
  it('numbers each name once, in order of first use, and reuses the number', () => {
    expect(named('SELECT * FROM p WHERE case_id = @caseId AND model_id = @modelId OR @caseId IS NULL', { caseId: 4, modelId: 7 })).toEqual({
      text: 'SELECT * FROM p WHERE case_id = $1 AND model_id = $2 OR $1 IS NULL',
      values: [4, 7],
    });
  });

  it('leaves strings, quoted identifiers, comments and the @> operator alone', () => {
    const sql = `SELECT '@notParam', "@col", x @> y -- @comment\nFROM t WHERE a = @a AND b = 'it''s @b'`;
    expect(named(sql, { a: 1 })).toEqual({ text: `SELECT '@notParam', "@col", x @> y -- @comment\nFROM t WHERE a = $1 AND b = 'it''s @b'`, values: [1] });
  });

  it('names a parameter that has no value', () => {
    expect(() => named('SELECT @limit', {})).toThrow('SQL parameter @limit has no value');
  });
});
