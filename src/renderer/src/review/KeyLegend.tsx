import { CELL_CLASSES, CELL_CLASS_DISPLAY_ORDER, type CellClassCode } from '../../../shared/cell-classes';
import { keyForClass } from './keymap';

interface Props {
  disabled: boolean;
  onReclassify: (code: CellClassCode) => void;
}

/** The keyboard map on screen; each entry is also a button that reclassifies the selected cell. */
export function KeyLegend({ disabled, onReclassify }: Props) {
  return (
    <div className="legend" data-testid="review-legend">
      <h3>Reclassify the selected cell</h3>
      <div className="legend-grid">
        {CELL_CLASS_DISPLAY_ORDER.map((code) => (
          <button
            key={code}
            type="button"
            className="legend-key"
            disabled={disabled}
            title={CELL_CLASSES[code].name}
            data-testid={`review-reclassify-${code}`}
            onClick={() => onReclassify(code)}
          >
            <kbd>{keyForClass(code)}</kbd>
            <span className="code">{code}</span>
            <span className="legend-name">{CELL_CLASSES[code].name}</span>
          </button>
        ))}
      </div>
      <p className="small muted">
        <kbd>Enter</kbd>/<kbd>Space</kbd> confirm · <kbd>←↑→↓</kbd> move · <kbd>Backspace</kbd>/<kbd>Ctrl+Z</kbd> undo · <kbd>PgDn</kbd>/<kbd>PgUp</kbd> next/previous cells
      </p>
    </div>
  );
}
