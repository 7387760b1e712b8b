// The lab's review layout (migration 0008): keys, class order and hidden classes of the review grid.
import { CELL_CLASS_CODES, isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { DEFAULT_REVIEW_LAYOUT, type ReviewLayout } from '../../shared/review-layout';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';

/** The review_layout row as both engines return it (JSON text). */
export interface LayoutDbRow {
  class_keys: string;
  class_order: string;
  hidden_classes: string;
}

export const SELECT_REVIEW_LAYOUT = 'SELECT class_keys, class_order, hidden_classes FROM review_layout WHERE id = 1';

/** Portable SQL (the same text on both engines); parameters @keys, @order, @hidden (JSON), @at, @by. */
export const UPSERT_REVIEW_LAYOUT = `INSERT INTO review_layout (id, class_keys, class_order, hidden_classes, updated_at, updated_by) VALUES (1, @keys, @order, @hidden, @at, @by)
       ON CONFLICT (id) DO UPDATE SET class_keys = excluded.class_keys, class_order = excluded.class_order,
         hidden_classes = excluded.hidden_classes, updated_at = excluded.updated_at, updated_by = excluded.updated_by`;

/** The stored row as a layout, or the built-in one when the lab never saved its own. */
export function reviewLayoutOf(row: LayoutDbRow | undefined): ReviewLayout {
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

/**
 * What saving `layout` over `before` changes: null when nothing (no write, no audit row), else the row's values and
 * the audit entry with what each changed part was and what it became.
 */
export function reviewLayoutChange(
  before: ReviewLayout,
  layout: ReviewLayout,
  actor: string,
  at: string,
): { params: { keys: string; order: string; hidden: string; at: string; by: string }; entry: AuditEntry } | null {
  const changedKeys = CELL_CLASS_CODES.filter((code) => before.keys[code] !== layout.keys[code]);
  const orderChanged = JSON.stringify(before.order) !== JSON.stringify(layout.order);
  const hiddenChanged = JSON.stringify([...before.hidden].sort()) !== JSON.stringify([...layout.hidden].sort());
  if (changedKeys.length === 0 && !orderChanged && !hiddenChanged) return null;
  const detail: Record<string, unknown> = {};
  if (changedKeys.length > 0) detail['keys'] = Object.fromEntries(changedKeys.map((code) => [code, { from: before.keys[code], to: layout.keys[code] }]));
  if (orderChanged) detail['order'] = { from: before.order, to: layout.order };
  if (hiddenChanged) detail['hidden'] = { from: before.hidden, to: layout.hidden };
  return {
    params: { keys: JSON.stringify(layout.keys), order: JSON.stringify(layout.order), hidden: JSON.stringify(layout.hidden), at, by: actor },
    entry: { actor, action: 'review_layout_changed', caseId: null, detail },
  };
}

function readLayout(db: MarrowDatabase): ReviewLayout {
  return reviewLayoutOf(sql(db, SELECT_REVIEW_LAYOUT).get() as LayoutDbRow | undefined);
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
    const at = nowIso();
    const change = reviewLayoutChange(before, layout, actor, at);
    if (change === null) return before;
    sql(db, UPSERT_REVIEW_LAYOUT).run(change.params);
    appendAudit(db, change.entry, at);
    return readLayout(db);
  });
}
