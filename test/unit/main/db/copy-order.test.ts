// The pure parts of `db copy`: the foreign-key order of the tables (a cycle or a dangling reference is refused by
// name), the row digest (the same values give the same hash whichever driver read them), and the positional
// placeholders of the statements both engines share.
import { describe, expect, it } from 'vitest';
import { foreignKeyOrder, rowsDigest, type TableShape } from '../../../../src/main/db/copy-to-postgres';
import { positional } from '../../../../src/main/db/postgres/named';

const table = (name: string, ...references: string[]): TableShape => ({ name, columns: ['id'], key: ['id'], references });

describe('db copy: table order', () => {
  it('puts every table after the tables it references, alphabetically among equals', () => {
    const order = foreignKeyOrder([
      table('reviews', 'cases', 'images'),
      table('images', 'cases'),
      table('cases', 'patients'),
      table('patients'),
      table('audit_log', 'cases'),
    ]);
    expect(order).toEqual(['patients', 'cases', 'audit_log', 'images', 'reviews']);
  });

  it('refuses a cycle and a reference to a table that is not there, naming them', () => {
    expect(() => foreignKeyOrder([table('a', 'b'), table('b', 'a')])).toThrow('cycle (a -> b -> a)');
    expect(() => foreignKeyOrder([table('a', 'ghost')])).toThrow('Table a references ghost, which is not in the schema.');
  });
});

describe('db copy: row digest', () => {
  it('hashes numbers, text, nulls and bytes so that the two drivers agree, and tells apart what differs', () => {
    const rows = [
      [1, 'BLA', null, Buffer.from([0, 255])],
      [2, 'text with "quotes" and \n', 0.1 + 0.2, new Uint8Array([1])],
    ];
    const same = [
      [1, 'BLA', null, new Uint8Array([0, 255])],
      [2n, 'text with "quotes" and \n', 0.30000000000000004, Buffer.from([1])],
    ];
    expect(rowsDigest(same as unknown[][])).toBe(rowsDigest(rows));
    expect(rowsDigest([[1, 'BLA', null, Buffer.from([0, 254])]])).not.toBe(rowsDigest([rows[0]!]));
    expect(rowsDigest([['1']])).not.toBe(rowsDigest([[1]]));
    expect(rowsDigest([[null]])).not.toBe(rowsDigest([['']]));
    expect(rowsDigest([['a', 'b']])).not.toBe(rowsDigest([['a,b']]));
    expect(rowsDigest([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('positional placeholders', () => {
  it('numbers each ? outside quotes', () => {
    expect(positional(`SELECT * FROM t WHERE a = ? AND b = '?' AND "c?" = ? AND d = 'it''s ?'`)).toBe(
      `SELECT * FROM t WHERE a = $1 AND b = '?' AND "c?" = $2 AND d = 'it''s ?'`,
    );
  });
});
