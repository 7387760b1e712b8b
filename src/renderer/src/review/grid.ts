// Selection movement in the review grid. The grid wraps its tiles into rows of `columns`, so up and down move by
// one row; moving past either end stays on the last reachable tile rather than wrapping, so a held key never jumps
// from the last cell back to the first.
import type { Direction } from './keymap';

export function moveSelection(index: number, direction: Direction, count: number, columns: number): number {
  if (count <= 0) return -1;
  const cols = Math.max(1, Math.floor(columns));
  const current = Math.min(Math.max(index, 0), count - 1);
  switch (direction) {
    case 'left':
      return Math.max(0, current - 1);
    case 'right':
      return Math.min(count - 1, current + 1);
    case 'up':
      return current - cols >= 0 ? current - cols : current;
    case 'down':
      // On a short last row, down from the row above lands on the last tile instead of doing nothing.
      if (current + cols < count) return current + cols;
      return Math.floor(current / cols) < Math.floor((count - 1) / cols) ? count - 1 : current;
    case 'home':
      return 0;
    case 'end':
      return count - 1;
  }
}

/**
 * After a decision on the cell at `index`, the next cell to look at: the next one that still needs a decision
 * (searching forward, then from the start), or the following cell when every shown cell is decided.
 */
export function nextAfterDecision(index: number, decided: readonly boolean[]): number {
  const count = decided.length;
  if (count === 0) return -1;
  for (let step = 1; step < count; step += 1) {
    const candidate = (index + step) % count;
    if (decided[candidate] === false) return candidate;
  }
  return Math.min(index + 1, count - 1);
}

/** Columns of a CSS grid, measured from the rendered tiles' left offsets (tiles in the first row share a top). */
export function columnsFromOffsets(tops: readonly number[]): number {
  if (tops.length === 0) return 1;
  const first = tops[0];
  let columns = 0;
  for (const top of tops) {
    if (top !== first) break;
    columns += 1;
  }
  return Math.max(1, columns);
}
