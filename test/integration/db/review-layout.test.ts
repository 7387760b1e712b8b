// The lab's review layout in SQLite (migration 0008): saved and read back, every change in the audit log, and the
// rules SQL holds (every class once, known classes, no two classes in use on one key) refused for any writer.
import { describe, expect, it } from 'vitest';
import { getReviewLayout, listAuditLog, saveReviewLayout } from '../../../src/main/db';
import { DEFAULT_REVIEW_LAYOUT, type ReviewLayout } from '../../../src/shared/review-layout';
import { expectDbError } from './errors-helper';
import { openTemp } from './helpers';

const copy = (layout: ReviewLayout): ReviewLayout => ({ keys: { ...layout.keys }, order: [...layout.order], hidden: [...layout.hidden] });

describe('review layout storage', () => {
  it('reads the built-in layout until one is saved, then the saved one, with the change audited', () => {
    const { db } = openTemp();
    expect(getReviewLayout(db)).toEqual(DEFAULT_REVIEW_LAYOUT);
    const mine = copy(DEFAULT_REVIEW_LAYOUT);
    mine.keys.BLA = '1';
    mine.order = [...mine.order.slice(1), mine.order[0]!];
    mine.hidden = ['FGC'];
    expect(saveReviewLayout(db, mine, 'Alex Technician')).toEqual(mine);
    expect(getReviewLayout(db)).toEqual(mine);
    const [row] = listAuditLog(db, { limit: 1 });
    expect(row).toMatchObject({ actor: 'Alex Technician', action: 'review_layout_changed', caseId: null });
    expect(row!.detail).toMatchObject({ keys: { BLA: { from: 'b', to: '1' } }, hidden: { from: [], to: ['FGC'] } });
    // Saving the same layout again changes nothing and writes no audit row.
    saveReviewLayout(db, mine, 'Alex Technician');
    expect(listAuditLog(db).filter((r) => r.action === 'review_layout_changed')).toHaveLength(1);
  });

  it('refuses, in SQL, two classes in use on one key, an order without every class, and an unknown class', () => {
    const { db } = openTemp();
    const insert = (layout: { keys: unknown; order: unknown; hidden: unknown }) => () =>
      db.raw
        .prepare('INSERT INTO review_layout (id, class_keys, class_order, hidden_classes, updated_at, updated_by) VALUES (1, ?, ?, ?, ?, ?)')
        .run(JSON.stringify(layout.keys), JSON.stringify(layout.order), JSON.stringify(layout.hidden), 'now', 'Writer');
    const sameKey = copy(DEFAULT_REVIEW_LAYOUT);
    sameKey.keys.LYT = 'b';
    expect(insert(sameKey)).toThrow(/\[constraint\] two classes in use share a review key/);
    // The same key is allowed when one of the two classes is hidden.
    expect(insert({ ...sameKey, hidden: ['LYT'] })).not.toThrow();
    db.raw.prepare('DELETE FROM review_layout').run();
    expect(insert({ ...DEFAULT_REVIEW_LAYOUT, order: DEFAULT_REVIEW_LAYOUT.order.slice(1) })).toThrow(/every class once/);
    expect(insert({ ...DEFAULT_REVIEW_LAYOUT, order: [...DEFAULT_REVIEW_LAYOUT.order.slice(1), 'BLA', 'BLA'] })).toThrow(/every class once/);
    expect(insert({ ...DEFAULT_REVIEW_LAYOUT, hidden: ['XYZ'] })).toThrow(/\[unknown_class\]/);
    expectDbError(() => saveReviewLayout(db, sameKey, 'Writer'), 'constraint');
  });
});
