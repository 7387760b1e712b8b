import { describe, expect, it } from 'vitest';
import { columnsFromOffsets, moveSelection, nextAfterDecision } from '../../../src/renderer/src/review/grid';

// A grid of 10 tiles in rows of 4:
//  0 1 2 3
//  4 5 6 7
//  8 9
describe('moveSelection', () => {
  it('moves left and right within bounds, without wrapping', () => {
    expect(moveSelection(5, 'left', 10, 4)).toBe(4);
    expect(moveSelection(5, 'right', 10, 4)).toBe(6);
    expect(moveSelection(0, 'left', 10, 4)).toBe(0);
    expect(moveSelection(9, 'right', 10, 4)).toBe(9);
  });

  it('moves up and down by one row', () => {
    expect(moveSelection(5, 'up', 10, 4)).toBe(1);
    expect(moveSelection(1, 'down', 10, 4)).toBe(5);
    expect(moveSelection(5, 'down', 10, 4)).toBe(9);
    expect(moveSelection(2, 'up', 10, 4)).toBe(2);
  });

  it('moves down onto the last tile when the row below is short', () => {
    expect(moveSelection(6, 'down', 10, 4)).toBe(9);
    expect(moveSelection(7, 'down', 10, 4)).toBe(9);
  });

  it('stays on the last row when moving down from it', () => {
    expect(moveSelection(8, 'down', 10, 4)).toBe(8);
  });

  it('jumps to the first and last tile with Home and End', () => {
    expect(moveSelection(5, 'home', 10, 4)).toBe(0);
    expect(moveSelection(5, 'end', 10, 4)).toBe(9);
  });

  it('returns -1 for an empty grid and clamps a stale index', () => {
    expect(moveSelection(0, 'right', 0, 4)).toBe(-1);
    expect(moveSelection(15, 'left', 10, 4)).toBe(8);
  });

  it('treats a zero or fractional column count as one column', () => {
    expect(moveSelection(3, 'down', 10, 0)).toBe(4);
    expect(moveSelection(3, 'up', 10, 0.5)).toBe(2);
  });
});

describe('nextAfterDecision', () => {
  it('moves to the next undecided cell', () => {
    expect(nextAfterDecision(1, [false, true, true, false, false])).toBe(3);
  });

  it('wraps to the first undecided cell before the current one', () => {
    expect(nextAfterDecision(3, [false, true, true, true])).toBe(0);
  });

  it('moves to the following cell when every cell is decided, stopping at the last', () => {
    expect(nextAfterDecision(1, [true, true, true])).toBe(2);
    expect(nextAfterDecision(2, [true, true, true])).toBe(2);
  });

  it('returns -1 for an empty page', () => {
    expect(nextAfterDecision(0, [])).toBe(-1);
  });
});

describe('columnsFromOffsets', () => {
  it('counts the tiles that share the first row', () => {
    expect(columnsFromOffsets([10, 10, 10, 220, 220])).toBe(3);
    expect(columnsFromOffsets([10])).toBe(1);
    expect(columnsFromOffsets([])).toBe(1);
  });
});
