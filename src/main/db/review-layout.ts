// The lab's review layout (migration 0008): keys, class order and hidden classes of the review grid.
import { CELL_CLASS_CODES, isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { DEFAULT_REVIEW_LAYOUT, type ReviewLayout } from '../../shared/review-layout';
import { appendAudit } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';

interface LayoutDbRow {
  class_keys: string;
  class_order: string;
  hidden_classes: string;
}

function readLayout(db: MarrowDatabase): ReviewLayout {
  const row = sql(db, 'SELECT class_keys, class_order, hidden_classes FROM review_layout WHERE id = 1').get() as LayoutDbRow | undefined;
  if (row === undefined) return { keys: { ...DEFAULT_REVIEW_LAYOUT.keys }, order: [...DEFAULT_REVIEW_LAYOUT.order], hidden: [] };
  const keys = JSON.parse(row.class_keys) as Partial<Record<CellClassCode, string>>;
  const order = (JSON.parse(row.class_order) as string[]).filter(isCellClassCode);
  return {
    // A class added by a later version of the class list gets its built-in key and goes last.
    keys: Object.fromEntries(CELL_CLASS_CODES.map((code) => [code, keys[code] ?? DEFAULT_REVIEW_LAYOUT.keys[code]])) as Record<CellClassCode, string>,
    order: [...order, ...CELL_CLASS_CODES.filter((code) => !order.includes(code))],
    hidden: (JSON.parse(row.hidden_classes) as string[]).filter(isCellClassCode),
  };
}

/** The stored layout, or the built-in one when the lab never saved its own. */
export function getReviewLayout(db: MarrowDatabase): ReviewLayout {
  return read('Reading the review layout', () => readLayout(db));
}

/**
 * Saves the layout (checked by the caller with reviewLayoutProblem; the triggers refuse what SQL can see). A change
 * of keys, order or hidden classes is recorded in the audit log with what it was and what it became.
 */
export function saveReviewLayout(db: MarrowDatabase, layout: ReviewLayout, actor: string): ReviewLayout {
  return inTransaction(db, 'Saving the review layout', () => {
    const before = readLayout(db);
    const changedKeys = CELL_CLASS_CODES.filter((code) => before.keys[code] !== layout.keys[code]);
    const orderChanged = JSON.stringify(before.order) !== JSON.stringify(layout.order);
    const hiddenChanged = JSON.stringify([...before.hidden].sort()) !== JSON.stringify([...layout.hidden].sort());
    if (changedKeys.length === 0 && !orderChanged && !hiddenChanged) return before;
    const at = nowIso();
    sql(
      db,
      `INSERT INTO review_layout (id, class_keys, class_order, hidden_classes, updated_at, updated_by) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET class_keys = excluded.class_keys, class_order = excluded.class_order,
         hidden_classes = excluded.hidden_classes, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    ).run(JSON.stringify(layout.keys), JSON.stringify(layout.order), JSON.stringify(layout.hidden), at, actor);
    const detail: Record<string, unknown> = {};
    if (changedKeys.length > 0) detail['keys'] = Object.fromEntries(changedKeys.map((code) => [code, { from: before.keys[code], to: layout.keys[code] }]));
    if (orderChanged) detail['order'] = { from: before.order, to: layout.order };
    if (hiddenChanged) detail['hidden'] = { from: before.hidden, to: layout.hidden };
    appendAudit(db, { actor, action: 'review_layout_changed', caseId: null, detail }, at);
    return readLayout(db);
  });
}
