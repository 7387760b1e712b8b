import { flagReasonText } from '../../../shared/flag-reasons';
import { useState } from 'react';
import type { CellView } from '../../../shared/api';
import { CELL_CLASSES } from '../../../shared/cell-classes';
import { Dialog } from '../components/Dialog';

type Scale = 1 | 2;

function percent(probability: number): string {
  return `${(probability * 100).toFixed(1)}%`;
}

/**
 * The selected cell at its own pixel size (the crops are 250 px; a tile shows it smaller) or at 2×, with what the
 * tile can only abbreviate: the file name, every flag reason and the two most probable classes. Opened with V or a
 * double click; Escape closes it and the review goes on where it was.
 */
export function CellZoom({ cell, onClose }: { cell: CellView; onClose: () => void }) {
  const [scale, setScale] = useState<Scale>(1);
  const [natural, setNatural] = useState<{ width: number; height: number } | null>(null);
  return (
    <Dialog title={`Cell ${cell.file}`} testId="cell-zoom" onClose={onClose} wide>
      <div className="zoom-controls" role="group" aria-label="Size">
        {([1, 2] as const).map((value) => (
          <button
            key={value}
            type="button"
            className={scale === value ? 'button-primary' : undefined}
            aria-pressed={scale === value}
            data-testid={`cell-zoom-${value}x`}
            onClick={() => setScale(value)}
          >
            {value === 1 ? 'Native size' : '2×'}
          </button>
        ))}
        <span className="muted" data-testid="cell-zoom-size">
          {natural === null ? '' : `${natural.width} × ${natural.height} px shown at ${natural.width * scale} × ${natural.height * scale} px`}
        </span>
        <span className="toolbar-spacer" />
        <button type="button" data-testid="cell-zoom-close" onClick={onClose}>
          Close (Esc)
        </button>
      </div>
      <div className="zoom-body">
        <div className="zoom-image">
          <img
            src={cell.imageUrl}
            alt={`Cell ${cell.file}, predicted ${CELL_CLASSES[cell.predicted].name}`}
            data-testid="cell-zoom-image"
            style={natural === null ? undefined : { width: natural.width * scale, height: natural.height * scale }}
            onLoad={(event) => setNatural({ width: event.currentTarget.naturalWidth, height: event.currentTarget.naturalHeight })}
          />
        </div>
        <dl className="facts zoom-facts">
          <dt>File</dt>
          <dd data-testid="cell-zoom-file">{cell.file}</dd>
          <dt>Model</dt>
          <dd data-testid="cell-zoom-top">
            {cell.top.slice(0, 2).map((entry, index) => (
              <div key={entry.code}>
                {index === 0 ? '1st' : '2nd'}: <span className="code">{entry.code}</span> {CELL_CLASSES[entry.code].name} {percent(entry.probability)}
              </div>
            ))}
          </dd>
          <dt>Flagged</dt>
          <dd data-testid="cell-zoom-reasons">
            {cell.flagReasons.length === 0 ? (
              'No'
            ) : (
              <ul className="plain-list">
                {cell.flagReasons.map((reason, index) => (
                  <li key={`${reason.kind}-${index}`}>{flagReasonText(reason)}</li>
                ))}
              </ul>
            )}
          </dd>
          <dt>Decision</dt>
          <dd data-testid="cell-zoom-decision">
            {cell.decision === null
              ? 'Not reviewed'
              : `${cell.decision.label === cell.predicted ? 'Confirmed' : `Reclassified as ${cell.decision.label} ${CELL_CLASSES[cell.decision.label].name}`} by ${cell.decision.reviewer}`}
          </dd>
        </dl>
      </div>
    </Dialog>
  );
}
