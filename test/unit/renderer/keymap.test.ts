import { describe, expect, it } from 'vitest';
import { CELL_CLASS_CODES } from '../../../src/shared/cell-classes';
import { actionForKey, CLASS_KEYS, keyForClass } from '../../../src/renderer/src/review/keymap';
import { DEFAULT_REVIEW_LAYOUT } from '../../../src/shared/review-layout';

describe('review keymap', () => {
  it('gives each of the 21 classes its own single lower-case letter', () => {
    const keys = CELL_CLASS_CODES.map((code) => CLASS_KEYS[code]);
    expect(keys).toHaveLength(21);
    expect(new Set(keys).size).toBe(21);
    for (const key of keys) expect(key).toMatch(/^[a-z]$/);
  });

  it('maps every class key back to its class, upper case too', () => {
    for (const code of CELL_CLASS_CODES) {
      expect(actionForKey({ key: keyForClass(code)! })).toEqual({ type: 'reclassify', code });
      expect(actionForKey({ key: keyForClass(code)!.toUpperCase(), shiftKey: true })).toEqual({ type: 'reclassify', code });
    }
  });

  it('uses b for blasts and l for lymphocytes', () => {
    expect(actionForKey({ key: 'b' })).toEqual({ type: 'reclassify', code: 'BLA' });
    expect(actionForKey({ key: 'l' })).toEqual({ type: 'reclassify', code: 'LYT' });
  });

  it('confirms the prediction with Enter or Space', () => {
    expect(actionForKey({ key: 'Enter' })).toEqual({ type: 'confirm' });
    expect(actionForKey({ key: ' ' })).toEqual({ type: 'confirm' });
  });

  it('undoes with Backspace, Ctrl+Z and Cmd+Z but not Ctrl+Shift+Z', () => {
    expect(actionForKey({ key: 'Backspace' })).toEqual({ type: 'undo' });
    expect(actionForKey({ key: 'z', ctrlKey: true })).toEqual({ type: 'undo' });
    expect(actionForKey({ key: 'z', metaKey: true })).toEqual({ type: 'undo' });
    expect(actionForKey({ key: 'Z', ctrlKey: true, shiftKey: true })).toBeNull();
  });

  it('does not reclassify on a letter typed with Ctrl, Cmd or Alt (browser and menu shortcuts)', () => {
    expect(actionForKey({ key: 'b', ctrlKey: true })).toBeNull();
    expect(actionForKey({ key: 'p', metaKey: true })).toBeNull();
    expect(actionForKey({ key: 'b', altKey: true })).toBeNull();
  });

  it('moves with the arrow keys, Home and End', () => {
    expect(actionForKey({ key: 'ArrowLeft' })).toEqual({ type: 'move', direction: 'left' });
    expect(actionForKey({ key: 'ArrowRight' })).toEqual({ type: 'move', direction: 'right' });
    expect(actionForKey({ key: 'ArrowUp' })).toEqual({ type: 'move', direction: 'up' });
    expect(actionForKey({ key: 'ArrowDown' })).toEqual({ type: 'move', direction: 'down' });
    expect(actionForKey({ key: 'Home' })).toEqual({ type: 'move', direction: 'home' });
    expect(actionForKey({ key: 'End' })).toEqual({ type: 'move', direction: 'end' });
  });

  it('pages with PageDown and PageUp', () => {
    expect(actionForKey({ key: 'PageDown' })).toEqual({ type: 'page', to: 'next' });
    expect(actionForKey({ key: 'PageUp' })).toEqual({ type: 'page', to: 'previous' });
  });

  it('ignores keys outside the map', () => {
    for (const key of ['g', 'j', 'y', '1', 'Tab', 'Escape', 'F5', 'Shift']) expect(actionForKey({ key })).toBeNull();
  });

  it('enlarges with v, finds a file with / and goes to the next unreviewed cell of the class with u', () => {
    expect(actionForKey({ key: 'v' })).toEqual({ type: 'enlarge' });
    expect(actionForKey({ key: 'V', shiftKey: true })).toEqual({ type: 'enlarge' });
    expect(actionForKey({ key: '/' })).toEqual({ type: 'find' });
    expect(actionForKey({ key: 'u' })).toEqual({ type: 'next-of-class' });
  });

  it('follows a lab layout: its own keys, no key for a hidden class', () => {
    const layout = { ...DEFAULT_REVIEW_LAYOUT, keys: { ...DEFAULT_REVIEW_LAYOUT.keys, BLA: '1', LYT: 'b' }, hidden: ['FGC' as const] };
    expect(actionForKey({ key: '1' }, layout)).toEqual({ type: 'reclassify', code: 'BLA' });
    expect(actionForKey({ key: 'b' }, layout)).toEqual({ type: 'reclassify', code: 'LYT' });
    expect(actionForKey({ key: 'l' }, layout)).toBeNull();
    expect(actionForKey({ key: 'f' }, layout)).toBeNull();
    expect(keyForClass('FGC', layout)).toBeNull();
    expect(keyForClass('BLA', layout)).toBe('1');
  });
});
