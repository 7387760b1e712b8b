// The review keyboard map: one key per cell class, chosen to be mnemonic where the letters allow (b blast,
// e eosinophil, l lymphocyte …) and never shared between classes. The same table drives the on-screen legend and
// each tile's hint, so what is shown is what the keys do.
import { CELL_CLASS_CODES, type CellClassCode } from '../../../shared/cell-classes';

export const CLASS_KEYS: Readonly<Record<CellClassCode, string>> = Object.freeze({
  ABE: 'a', // abnormal eosinophil
  ART: 'x', // artefact: x for "reject"
  BAS: 'w', // basophil (b is blast)
  BLA: 'b', // blast
  EBO: 't', // erythroblast
  EOS: 'e', // eosinophil
  FGC: 'f', // faggot cell
  HAC: 'h', // hairy cell
  KSC: 'k', // smudge cell (Kernschatten)
  LYI: 'i', // immature lymphocyte
  LYT: 'l', // lymphocyte
  MMZ: 'z', // metamyelocyte (MMZ)
  MON: 'c', // monocyte (m is myelocyte)
  MYB: 'm', // myelocyte
  NGB: 'd', // band neutrophil
  NGS: 's', // segmented neutrophil
  NIF: 'n', // not identifiable
  OTH: 'o', // other
  PEB: 'r', // proerythroblast
  PLM: 'q', // plasma cell (p is promyelocyte)
  PMO: 'p', // promyelocyte
});

const CLASS_BY_KEY: ReadonlyMap<string, CellClassCode> = new Map(
  CELL_CLASS_CODES.map((code) => [CLASS_KEYS[code], code] as const),
);

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

/**
 * Keys that are commands, not classes: v enlarges the selected cell, / goes to the find-by-file field, u goes to the
 * next unreviewed cell of the selected cell's class. No class may use them (the lab's key map is checked against this).
 */
export const COMMAND_KEYS: Readonly<Record<'enlarge' | 'find' | 'next-of-class', string>> = Object.freeze({
  enlarge: 'v',
  find: '/',
  'next-of-class': 'u',
});

const COMMAND_BY_KEY: ReadonlyMap<string, ReviewAction> = new Map(
  (Object.keys(COMMAND_KEYS) as (keyof typeof COMMAND_KEYS)[]).map((type) => [COMMAND_KEYS[type], { type }] as const),
);

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
export function actionForKey(input: KeyInput): ReviewAction | null {
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
  const code = CLASS_BY_KEY.get(input.key.toLowerCase());
  return code === undefined ? null : { type: 'reclassify', code };
}

export function keyForClass(code: CellClassCode): string {
  return CLASS_KEYS[code];
}
