import { memo } from 'react';
import type { CellView } from '../../../shared/api';
import { CELL_CLASSES } from '../../../shared/cell-classes';
import type { ReviewLayout } from '../../../shared/review-layout';
import { keyForClass } from './keymap';

export type TileState = 'idle' | 'saving' | 'failed';

/** DOM id of a tile, for the grid's aria-activedescendant. */
export function tileElementId(imageId: number): string {
  return `review-cell-${imageId}`;
}

interface Props {
  cell: CellView;
  selected: boolean;
  state: TileState;
  /** The image failed to load: say so instead of a blank square that looks like a dark cell. */
  imageMissing: boolean;
  onSelect: (imageId: number) => void;
  /** Double click: the cell at its own pixel size, with its file name, reasons and top-2 classes. */
  onEnlarge: (imageId: number) => void;
  onImageError: (imageId: number) => void;
  /** The lab's keys: the hint shows the runner-up's key, or none for a class the lab has hidden. */
  layout: ReviewLayout;
}

function percent(probability: number): string {
  return `${Math.round(probability * 100)}%`;
}

export const CellTile = memo(function CellTile({ cell, selected, state, imageMissing, onSelect, onEnlarge, onImageError, layout }: Props) {
  const runnerUpKey = cell.top[1] === undefined ? null : keyForClass(cell.top[1].code, layout);
  const decided = cell.decision !== null;
  const changed = decided && cell.decision?.label !== cell.predicted;
  const runnerUp = cell.top[1];
  const classes = ['tile'];
  if (selected) classes.push('tile-selected');
  if (decided) classes.push(changed ? 'tile-reclassified' : 'tile-confirmed');
  if (state === 'saving') classes.push('tile-saving');
  if (state === 'failed') classes.push('tile-failed');
  return (
    <div
      className={classes.join(' ')}
      id={tileElementId(cell.imageId)}
      role="option"
      aria-selected={selected}
      data-selected={selected ? 'true' : 'false'}
      data-testid={`cell-tile-${cell.imageId}`}
      title={cell.file}
      onClick={() => onSelect(cell.imageId)}
      onDoubleClick={() => onEnlarge(cell.imageId)}
    >
      {imageMissing ? (
        <div className="tile-image-missing" role="img" aria-label={`Image of ${cell.file} not available`} data-testid={`cell-image-missing-${cell.imageId}`}>
          Image not available
          <span>{cell.file}</span>
          <span>Moved, deleted or changed since the analysis? It cannot be reviewed until the original file is back.</span>
        </div>
      ) : (
        <img
          src={cell.imageUrl}
          alt={`Cell ${cell.file}, predicted ${CELL_CLASSES[cell.predicted].name}`}
          width={180}
          height={180}
          draggable={false}
          data-testid={`cell-image-${cell.imageId}`}
          onError={() => onImageError(cell.imageId)}
        />
      )}
      <div className="tile-text">
        <div className="tile-prediction" data-testid={`cell-predicted-${cell.imageId}`}>
          <span className="code">{cell.predicted}</span> {CELL_CLASSES[cell.predicted].name}
        </div>
        <div className="tile-confidence" data-testid={`cell-confidence-${cell.imageId}`}>
          {percent(cell.confidence)}
          {runnerUp !== undefined && (
            <span className="muted">
              {' '}
              · {runnerUp.code} {percent(runnerUp.probability)}
            </span>
          )}
        </div>
        {cell.flagReasons.length > 0 && (
          <div className="tile-flags" title={cell.flagReasons.join('; ')} data-testid={`cell-flags-${cell.imageId}`}>
            ⚑ {cell.flagReasons.join('; ')}
          </div>
        )}
        {cell.decision !== null ? (
          <div className={changed ? 'tile-decision decision-changed' : 'tile-decision'} data-testid={`cell-decision-${cell.imageId}`}>
            {changed ? `→ ${cell.decision.label} ${CELL_CLASSES[cell.decision.label].name}` : '✓ Confirmed'}
            <span className="muted"> · {cell.decision.reviewer}</span>
          </div>
        ) : (
          <div className="tile-hint" data-testid={`cell-key-hint-${cell.imageId}`}>
            <kbd>Enter</kbd> = {cell.predicted}
            {runnerUp !== undefined && runnerUpKey !== null && (
              <>
                {' '}
                · <kbd>{runnerUpKey}</kbd> = {runnerUp.code}
              </>
            )}
          </div>
        )}
        {state === 'saving' && <div className="tile-status">Saving…</div>}
        {state === 'failed' && <div className="tile-status tile-status-failed">Not saved — see message</div>}
      </div>
    </div>
  );
});
