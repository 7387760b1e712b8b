// The review keyboard map: one key per class (the lab's own map, stored in the database, or the built-in one), the
// review commands and the movement keys. The same layout drives the on-screen legend and each tile's hint, so what
// is shown is what the keys do.
import type { CellClassCode } from '../../../shared/cell-classes';
import { DEFAULT_CLASS_KEYS, DEFAULT_REVIEW_LAYOUT, REVIEW_COMMAND_KEYS, type ReviewLayout } from '../../../shared/review-layout';

/** The built-in keys (the lab may change them in Settings). */
export const CLASS_KEYS: Readonly<Record<CellClassCode, string>> = DEFAULT_CLASS_KEYS;

export type Direction = 'left' | 'right' | 'up' | 'down' | 'home' | 'end';

export type ReviewAction =
  | { type: 'reclassify'; code: CellClassCode }
  | { type: 'confirm' }
  | { type: 'undo' }
  | { type: 'move'; direction: Direction }
  | { type: 'page'; to: 'next' | 'previous' }
  | { type: 'enlarge' }
  | { type: 'find' }
  | { type: 'next-of-class' };

/** Keys that are commands, not classes (v enlarge, / find a file, u next unreviewed of the class). */
export const COMMAND_KEYS = REVIEW_COMMAND_KEYS;

const COMMAND_BY_KEY: ReadonlyMap<string, ReviewAction> = new Map(
  (Object.keys(COMMAND_KEYS) as (keyof typeof COMMAND_KEYS)[]).map((type) => [COMMAND_KEYS[type], { type }] as const),
);

// One lookup table per layout object (layouts are replaced, never mutated).
const classByKeyCache = new WeakMap<ReviewLayout, ReadonlyMap<string, CellClassCode>>();

function classByKey(layout: ReviewLayout): ReadonlyMap<string, CellClassCode> {
  let map = classByKeyCache.get(layout);
  if (map === undefined) {
    const hidden = new Set(layout.hidden);
    map = new Map(layout.order.filter((code) => !hidden.has(code)).map((code) => [layout.keys[code], code] as const));
    classByKeyCache.set(layout, map);
  }
  return map;
}

/** The parts of a KeyboardEvent the map looks at; lets the map be tested without a DOM. */
export interface KeyInput {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
}

const MOVES: Readonly<Record<string, Direction>> = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
  Home: 'home',
  End: 'end',
};

/** Maps a key press to a review action, or null when the key is not part of the review map. */
export function actionForKey(input: KeyInput, layout: ReviewLayout = DEFAULT_REVIEW_LAYOUT): ReviewAction | null {
  const command = input.ctrlKey === true || input.metaKey === true;
  if (command) {
    // Ctrl+Z / Cmd+Z undo; every other shortcut belongs to the browser or the shell.
    return input.key.toLowerCase() === 'z' && input.shiftKey !== true ? { type: 'undo' } : null;
  }
  if (input.altKey === true) return null;
  if (input.key === 'Backspace') return { type: 'undo' };
  if (input.key === 'Enter' || input.key === ' ') return { type: 'confirm' };
  if (input.key === 'PageDown') return { type: 'page', to: 'next' };
  if (input.key === 'PageUp') return { type: 'page', to: 'previous' };
  const direction = MOVES[input.key];
  if (direction !== undefined) return { type: 'move', direction };
  if (input.key.length !== 1) return null;
  const commandAction = COMMAND_BY_KEY.get(input.key.toLowerCase());
  if (commandAction !== undefined) return commandAction;
  const code = classByKey(layout).get(input.key.toLowerCase());
  return code === undefined ? null : { type: 'reclassify', code };
}

/** The key that reclassifies to `code`, or null for a class the lab has hidden. */
export function keyForClass(code: CellClassCode, layout: ReviewLayout = DEFAULT_REVIEW_LAYOUT): string | null {
  return layout.hidden.includes(code) ? null : layout.keys[code];
}
