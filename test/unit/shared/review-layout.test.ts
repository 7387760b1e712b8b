import { describe, expect, it } from 'vitest';
import { CELL_CLASS_CODES } from '../../../src/shared/cell-classes';
import { DEFAULT_REVIEW_LAYOUT, REVIEW_COMMAND_KEYS, reviewLayoutProblem, visibleClasses, type ReviewLayout } from '../../../src/shared/review-layout';

const copy = (layout: ReviewLayout): ReviewLayout => ({ keys: { ...layout.keys }, order: [...layout.order], hidden: [...layout.hidden] });

describe('a lab review layout: the conflict check', () => {
  it('accepts the built-in layout: 21 classes, 21 distinct keys, none a command key', () => {
    expect(reviewLayoutProblem(DEFAULT_REVIEW_LAYOUT)).toBeNull();
    expect(new Set(Object.values(DEFAULT_REVIEW_LAYOUT.keys)).size).toBe(CELL_CLASS_CODES.length);
  });

  it('names the second class given a key already taken', () => {
    const layout = copy(DEFAULT_REVIEW_LAYOUT);
    layout.keys.LYT = 'b';
    expect(reviewLayoutProblem(layout)).toEqual({ field: 'keys.LYT', message: 'The key b is given to both BLA and LYT; each class needs its own key.' });
    // Hidden, LYT needs no key and conflicts with nothing.
    expect(reviewLayoutProblem({ ...layout, hidden: ['LYT'] })).toBeNull();
  });

  it('refuses a command key, an empty key, a key that is not one letter or digit', () => {
    for (const key of [REVIEW_COMMAND_KEYS.enlarge, REVIEW_COMMAND_KEYS['next-of-class'], '/', '', 'bb', 'B', ' ', 'é']) {
      const layout = copy(DEFAULT_REVIEW_LAYOUT);
      layout.keys.EOS = key;
      expect(reviewLayoutProblem(layout), JSON.stringify(key)).toMatchObject({ field: 'keys.EOS' });
    }
    const digit = copy(DEFAULT_REVIEW_LAYOUT);
    digit.keys.EOS = '7';
    expect(reviewLayoutProblem(digit)).toBeNull();
  });

  it('refuses an order that misses or repeats a class, and hiding every class', () => {
    expect(reviewLayoutProblem({ ...DEFAULT_REVIEW_LAYOUT, order: DEFAULT_REVIEW_LAYOUT.order.slice(1) })).toMatchObject({ field: 'order' });
    const repeated = [...DEFAULT_REVIEW_LAYOUT.order];
    repeated[1] = repeated[0]!;
    expect(reviewLayoutProblem({ ...DEFAULT_REVIEW_LAYOUT, order: repeated })).toMatchObject({ field: 'order' });
    expect(reviewLayoutProblem({ ...DEFAULT_REVIEW_LAYOUT, hidden: [...CELL_CLASS_CODES] })).toMatchObject({ field: 'hidden' });
  });

  it('lists the visible classes in the lab order', () => {
    const layout = { ...DEFAULT_REVIEW_LAYOUT, order: [...DEFAULT_REVIEW_LAYOUT.order].reverse(), hidden: ['FGC' as const, 'HAC' as const] };
    const shown = visibleClasses(layout);
    expect(shown).toHaveLength(19);
    expect(shown[0]).toBe(DEFAULT_REVIEW_LAYOUT.order[20]);
    expect(shown).not.toContain('FGC');
  });
});
