import { describe, expect, it } from 'vitest';
import type { CellView } from '../../../src/shared/api';
import { nextPageOffset, previousPageOffset, replaceCells } from '../../../src/renderer/src/review/paging';

const decided = { decision: { label: 'BLA' as const, reviewer: 'A', at: '2026-01-01T00:00:00Z', note: null } };
const open = { decision: null };

describe('review paging', () => {
  it('in the unreviewed scope, starts the next page after the cells still undecided', () => {
    // 3 of 4 cells decided: they left the unreviewed set on the server, so only 1 cell is skipped.
    expect(nextPageOffset('unreviewed', 0, [decided, decided, open, decided])).toBe(1);
    expect(nextPageOffset('unreviewed', 10, [decided, decided])).toBe(10);
  });

  it('in the other scopes, starts the next page after the whole page', () => {
    expect(nextPageOffset('flagged', 0, [decided, open, decided])).toBe(3);
    expect(nextPageOffset('all', 40, [open, open])).toBe(42);
  });

  it('never goes before the first cell', () => {
    expect(previousPageOffset(10, 40)).toBe(0);
    expect(previousPageOffset(80, 40)).toBe(40);
  });

  it('replaces updated cells in place and ignores cells not on the page', () => {
    const cell = (imageId: number, file: string) => ({ imageId, file }) as CellView;
    const page = [cell(1, 'a'), cell(2, 'b'), cell(3, 'c')];
    const result = replaceCells(page, [cell(2, 'B'), cell(9, 'z')]);
    expect(result.map((c) => c.file)).toEqual(['a', 'B', 'c']);
  });
});
