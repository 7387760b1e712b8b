import { CELL_CLASSES, type CellClassCode } from '../../../shared/cell-classes';
import { DEFAULT_REVIEW_LAYOUT, reviewLayoutProblem, type ReviewLayout } from '../../../shared/review-layout';
import type { DraftError } from './settingsDraft';

interface Props {
  draft: ReviewLayout;
  onChange: (draft: ReviewLayout) => void;
  /** The dialog's refusal when it is about this section ('keys.BLA', 'order', 'hidden'). */
  error: DraftError | null;
}

/**
 * The lab's review grid: the key of each class, the order of the legend and the class filter, and the classes the
 * lab never uses. The conflict check runs as the keys are typed (the same check the service makes on Save), and
 * Reset puts the built-in layout back into the form (saved, like every other edit, by the dialog's Save).
 */
export function ReviewLayoutSection({ draft, onChange, error }: Props) {
  const live = reviewLayoutProblem(draft);
  const marked = error?.field ?? live?.field ?? null;
  const hidden = new Set(draft.hidden);
  const move = (index: number, by: -1 | 1) => {
    const order = [...draft.order];
    const target = index + by;
    if (target < 0 || target >= order.length) return;
    [order[index], order[target]] = [order[target]!, order[index]!];
    onChange({ ...draft, order });
  };
  const setKey = (code: CellClassCode, key: string) => onChange({ ...draft, keys: { ...draft.keys, [code]: key.trim().toLowerCase().slice(-1) } });
  const setHidden = (code: CellClassCode, hide: boolean) =>
    onChange({ ...draft, hidden: hide ? [...draft.hidden, code] : draft.hidden.filter((other) => other !== code) });

  return (
    <fieldset className="form settings-section" data-testid="review-layout-settings">
      <legend>Review keys and classes</legend>
      <p className="small muted">
        The key that reclassifies a cell to each class, the order of the classes in the review legend and class filter, and the classes this laboratory never
        uses (hidden from both). v, / and u are review commands and cannot be class keys. A change is recorded in the audit log.
      </p>
      <table className="layout-table">
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Class</th>
            <th scope="col">Key</th>
            <th scope="col">Hidden</th>
          </tr>
        </thead>
        <tbody>
          {draft.order.map((code, index) => (
            <tr key={code} className={hidden.has(code) ? 'muted' : undefined} data-testid={`review-layout-row-${code}`}>
              <td className="layout-move">
                <button
                  type="button"
                  className="button-quiet"
                  aria-label={`Move ${code} up`}
                  disabled={index === 0}
                  data-testid={`review-layout-up-${code}`}
                  onClick={() => move(index, -1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="button-quiet"
                  aria-label={`Move ${code} down`}
                  disabled={index === draft.order.length - 1}
                  data-testid={`review-layout-down-${code}`}
                  onClick={() => move(index, 1)}
                >
                  ↓
                </button>
              </td>
              <td>
                <span className="code">{code}</span> {CELL_CLASSES[code].name}
              </td>
              <td className={marked === `keys.${code}` ? 'field-invalid' : undefined}>
                <input
                  name={`keys.${code}`}
                  className="layout-key"
                  value={draft.keys[code]}
                  maxLength={2}
                  aria-label={`Key for ${code}`}
                  aria-invalid={marked === `keys.${code}`}
                  disabled={hidden.has(code)}
                  data-testid={`review-layout-key-${code}`}
                  onChange={(event) => setKey(code, event.target.value)}
                />
              </td>
              <td>
                <input
                  type="checkbox"
                  name={`hidden.${code}`}
                  checked={hidden.has(code)}
                  aria-label={`Hide ${code}`}
                  data-testid={`review-layout-hidden-${code}`}
                  onChange={(event) => setHidden(code, event.target.checked)}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {live !== null && (
        <p className="form-error" role="status" data-testid="review-layout-conflict">
          {live.message}
        </p>
      )}
      <div className="form-actions">
        <button
          type="button"
          data-testid="review-layout-reset"
          onClick={() => onChange({ keys: { ...DEFAULT_REVIEW_LAYOUT.keys }, order: [...DEFAULT_REVIEW_LAYOUT.order], hidden: [] })}
        >
          Reset keys, order and hidden classes to the defaults
        </button>
      </div>
    </fieldset>
  );
}
