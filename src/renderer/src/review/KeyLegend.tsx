import { CELL_CLASSES, type CellClassCode } from '../../../shared/cell-classes';
import { visibleClasses, type ReviewLayout } from '../../../shared/review-layout';
import { COMMAND_KEYS, keyForClass } from './keymap';

interface Props {
  disabled: boolean;
  /** The lab's keys, class order and hidden classes. */
  layout: ReviewLayout;
  onReclassify: (code: CellClassCode) => void;
}

/** The keyboard map on screen, in the lab's order and without its hidden classes; each entry also reclassifies. */
export function KeyLegend({ disabled, layout, onReclassify }: Props) {
  return (
    <div className="legend" data-testid="review-legend">
      <h3>Reclassify the selected cell</h3>
      <div className="legend-grid">
        {visibleClasses(layout).map((code) => (
          <button
            key={code}
            type="button"
            className="legend-key"
            disabled={disabled}
            title={CELL_CLASSES[code].name}
            data-testid={`review-reclassify-${code}`}
            onClick={() => onReclassify(code)}
          >
            <kbd data-testid={`review-key-${code}`}>{keyForClass(code, layout)}</kbd>
            <span className="code">{code}</span>
            <span className="legend-name">{CELL_CLASSES[code].name}</span>
          </button>
        ))}
      </div>
      <p className="small muted">
        <kbd>Enter</kbd>/<kbd>Space</kbd> confirm · <kbd>←↑→↓</kbd> move · <kbd>Backspace</kbd>/<kbd>Ctrl+Z</kbd> undo · <kbd>PgDn</kbd>/<kbd>PgUp</kbd>{' '}
        next/previous cells · <kbd>{COMMAND_KEYS.enlarge}</kbd> enlarge · <kbd>{COMMAND_KEYS.find}</kbd> find a file ·{' '}
        <kbd>{COMMAND_KEYS['next-of-class']}</kbd> next unreviewed of the class
      </p>
    </div>
  );
}
