// The lab's review layout on both engines (migration 0008), through the contract: saved and read back, every change
// in the audit log, and the rules SQL holds (every class once, known classes, no two classes in use on one key)
// refused for any writer.
import { describe, expect, it } from 'vitest';
import { DEFAULT_REVIEW_LAYOUT, type ReviewLayout } from '../../../src/shared/review-layout';
import { ENGINES } from './engines';
import { expectRejection, storesForEngines } from './store-for-engine';

const stores = storesForEngines();
const copy = (layout: ReviewLayout): ReviewLayout => ({ keys: { ...layout.keys }, order: [...layout.order], hidden: [...layout.hidden] });

describe.each(ENGINES)('review layout storage on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    it('reads the built-in layout until one is saved, then the saved one, with the change audited', async () => {
      const s = await stores.openReposFor(engine);
      expect(await s.reviewLayout.getReviewLayout()).toEqual(DEFAULT_REVIEW_LAYOUT);
      const mine = copy(DEFAULT_REVIEW_LAYOUT);
      mine.keys.BLA = '1';
      mine.order = [...mine.order.slice(1), mine.order[0]!];
      mine.hidden = ['FGC'];
      expect(await s.reviewLayout.saveReviewLayout(mine, 'Alex Technician')).toEqual(mine);
      expect(await s.reviewLayout.getReviewLayout()).toEqual(mine);
      const [row] = await s.audit.listAuditLog({ limit: 1 });
      expect(row).toMatchObject({ actor: 'Alex Technician', action: 'review_layout_changed', caseId: null });
      expect(row!.detail).toMatchObject({ keys: { BLA: { from: 'b', to: '1' } }, hidden: { from: [], to: ['FGC'] } });
      // Saving the same layout again changes nothing and writes no audit row.
      await s.reviewLayout.saveReviewLayout(mine, 'Alex Technician');
      expect((await s.audit.listAuditLog()).filter((r) => r.action === 'review_layout_changed')).toHaveLength(1);
    });

    it('refuses, in SQL, two classes in use on one key, an order without every class, and an unknown class', async () => {
      const s = await stores.openReposFor(engine);
      const insert = (layout: { keys: unknown; order: unknown; hidden: unknown }) =>
        s.sql('INSERT INTO review_layout (id, class_keys, class_order, hidden_classes, updated_at, updated_by) VALUES (1, ?, ?, ?, ?, ?)', [
          JSON.stringify(layout.keys),
          JSON.stringify(layout.order),
          JSON.stringify(layout.hidden),
          'now',
          'Writer',
        ]);
      const sameKey = copy(DEFAULT_REVIEW_LAYOUT);
      sameKey.keys.LYT = 'b';
      await expect(insert(sameKey)).rejects.toThrow(/\[constraint\] two classes in use share a review key/);
      // The same key is allowed when one of the two classes is hidden.
      await expect(insert({ ...sameKey, hidden: ['LYT'] })).resolves.toEqual([]);
      await s.sql('DELETE FROM review_layout');
      await expect(insert({ ...DEFAULT_REVIEW_LAYOUT, order: DEFAULT_REVIEW_LAYOUT.order.slice(1) })).rejects.toThrow(/every class once/);
      await expect(insert({ ...DEFAULT_REVIEW_LAYOUT, order: [...DEFAULT_REVIEW_LAYOUT.order.slice(1), 'BLA', 'BLA'] })).rejects.toThrow(/every class once/);
      await expect(insert({ ...DEFAULT_REVIEW_LAYOUT, hidden: ['XYZ'] })).rejects.toThrow(/\[unknown_class\]/);
      await expectRejection(s.reviewLayout.saveReviewLayout(sameKey, 'Writer'), 'constraint');
    });
  });
});
