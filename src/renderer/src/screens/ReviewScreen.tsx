import { canDo, isAnalysisUnderway, isReleased } from '../../../shared/case-lifecycle';
import { ProgressBar } from '../components/ProgressBar';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AnalysisProgress, CaseDetail, CellView } from '../../../shared/api';
import { FLAG_REASON_KIND_SHORT, flagReasonText } from '../../../shared/flag-reasons';
import { CELL_CLASSES, isCellClassCode, type CellClassCode } from '../../../shared/cell-classes';
import { visibleClasses } from '../../../shared/review-layout';
import { formatInterval, formatPercent, plural } from '../../../shared/format';
import { getApi } from '../api';
import { Loading } from '../components/Loading';
import { useSession } from '../hooks/session';
import { useSettings } from '../hooks/settings';
import { useApiQuery } from '../hooks/useApiQuery';
import { useLiveCase } from '../hooks/useLive';
import type { ReviewScope } from '../navigation/route';
import { CellTile, tileElementId } from '../review/CellTile';
import { CellZoom } from '../review/CellZoom';
import { columnsFromOffsets } from '../review/grid';
import { actionForKey } from '../review/keymap';
import { KeyLegend } from '../review/KeyLegend';
import { useReviewSession } from '../review/useReviewSession';

interface Props {
  detail: CaseDetail;
  scope: ReviewScope;
  cellClass: CellClassCode | null;
  onFilterChange: (scope: ReviewScope, cellClass: CellClassCode | null) => void;
  onBack: () => void;
  /** Opens the sign-off tab: the next step once every flagged cell is reviewed. */
  onSignOff: () => void;
  /** Called after every saved change so the case header follows. */
  onCaseChanged: () => void;
  /** The running analysis, while there is one: the screen waits with live progress instead of taking keys. */
  analysisProgress?: AnalysisProgress | null;
}

const SCOPE_LABELS: Readonly<Record<ReviewScope, string>> = {
  unreviewed: 'Flagged, not yet reviewed',
  flagged: 'All flagged cells',
  all: 'All cells',
};

function focusReviewGrid(): void {
  document.querySelector<HTMLElement>('.cell-grid')?.focus();
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName);
}

export function ReviewScreen({ detail, scope, cellClass, onFilterChange, onBack, onSignOff, onCaseChanged, analysisProgress = null }: Props) {
  const { reviewLayout } = useSettings();
  const { user, may } = useSession();
  // The lifecycle says whether the case takes decisions now (not while analysing, submitted or released); a person
  // whose roles do not include reviewing sees the cells read-only (the service would refuse the decision).
  const reviewable = canDo('review', detail);
  const locked = !reviewable.allowed || !may('reviewCell');
  const grid = useRef<HTMLDivElement>(null);
  const findInput = useRef<HTMLInputElement>(null);
  // The file search as typed, and as applied (on Enter): typing does not reload the grid at every letter.
  const [fileTyped, setFileTyped] = useState('');
  const [file, setFile] = useState('');
  const [zoomed, setZoomed] = useState<number | null>(null);

  const summary = useApiQuery(() => getApi().getDifferential(detail.id), String(detail.id), 'Loading the differential');
  const reloadSummary = summary.reload;
  const onChanged = useCallback(() => {
    void reloadSummary();
    onCaseChanged();
  }, [reloadSummary, onCaseChanged]);

  const session = useReviewSession({
    caseId: detail.id,
    scope,
    cellClass,
    file,
    locked,
    ...(reviewable.allowed ? {} : { lockedWhy: reviewable.why }),
    onChanged,
  });
  // Another station's decisions on this case: the counts and the shown tiles follow without a reload.
  const refreshShown = session.refreshShown;
  useLiveCase(detail.id, () => {
    void reloadSummary();
    refreshShown();
  });

  const columns = useCallback(() => {
    const tiles = grid.current?.querySelectorAll<HTMLElement>('[role="option"]') ?? [];
    return columnsFromOffsets(Array.from(tiles, (tile) => tile.offsetTop));
  }, []);

  const { move, decide, undo, select, nextPage, previousPage, cells, selected } = session;

  // U: the next cell of the selected cell's class that has no decision yet, on this page or, when none is left here,
  // through the review of that class's unreviewed flagged cells.
  const nextOfClass = useCallback(() => {
    const current = cells[selected];
    if (current === undefined) return;
    const code = current.effectiveLabel;
    for (let step = 1; step < cells.length; step += 1) {
      const candidate = cells[(selected + step) % cells.length]!;
      if (candidate.decision === null && candidate.predicted === code) {
        select(candidate.imageId);
        return;
      }
    }
    onFilterChange('unreviewed', code);
  }, [cells, selected, select, onFilterChange]);
  const enlarge = useCallback(() => {
    const current = cells[selected];
    if (current !== undefined) setZoomed(current.imageId);
  }, [cells, selected]);
  const lastShown = session.offset + session.cells.length;
  const canNext = !session.loading && lastShown < session.total;
  const canPrevious = !session.loading && session.offset > 0;
  const selectTile = useCallback(
    (imageId: number) => {
      select(imageId);
      focusReviewGrid();
    },
    [select],
  );
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || isEditable(event.target)) return;
      if (document.querySelector('[aria-modal="true"]') !== null) return;
      const action = actionForKey(event, reviewLayout);
      if (action === null) return;
      // Enter/Space on a focused button belong to that button.
      if (action.type === 'confirm' && event.target instanceof HTMLElement && event.target.closest('button, a')) return;
      event.preventDefault();
      if (event.repeat && action.type !== 'move') return;
      switch (action.type) {
        case 'move':
          move(action.direction, columns());
          break;
        case 'confirm':
          decide('shown');
          break;
        case 'reclassify':
          decide(action.code);
          break;
        case 'undo':
          undo();
          break;
        case 'page':
          if (action.to === 'next' ? canNext : canPrevious) (action.to === 'next' ? nextPage : previousPage)();
          break;
        case 'enlarge':
          enlarge();
          break;
        case 'find':
          findInput.current?.focus();
          findInput.current?.select();
          break;
        case 'next-of-class':
          nextOfClass();
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [move, decide, undo, columns, nextPage, previousPage, canNext, canPrevious, enlarge, nextOfClass, reviewLayout]);

  // Entering Review by any route (the tab, a link, a reload, a filter change) puts the focus on the grid, so the first
  // Enter confirms the selected cell instead of pressing the tab button that was clicked to get here.
  const hasGrid = session.cells.length > 0;
  useEffect(() => {
    if (!hasGrid || document.querySelector('[aria-modal="true"]') !== null) return;
    focusReviewGrid();
  }, [hasGrid, scope, cellClass, file]);

  // Keep the selected tile in view as the keyboard moves through the grid.
  useEffect(() => {
    const tile = grid.current?.querySelector<HTMLElement>('[data-selected="true"]');
    tile?.scrollIntoView?.({ block: 'nearest' });
  }, [session.selected, session.cells]);

  // After a button click, focus returns to the grid: otherwise Enter would press the same button again instead of
  // confirming the next cell (a legend button would silently reclassify it).
  const fromButton = (action: () => void) => () => {
    action();
    focusReviewGrid();
  };

  const selectedCell = session.cells[session.selected];
  const undecidedShown = session.cells.filter((cell) => cell.decision === null).length;
  const firstShown = session.cells.length > 0 ? session.offset + 1 : 0;
  const differential = summary.data?.differential;
  const review = summary.data?.review;
  const zoomedCell = zoomed === null ? undefined : session.cells.find((cell) => cell.imageId === zoomed);
  const allFlaggedReviewed = review !== undefined && review.flagged > 0 && review.flaggedReviewed === review.flagged;

  return (
    <section className="screen review-screen" data-testid="review-screen">
      <div className="toolbar review-toolbar">
        <label className="field-inline">
          Show
          <select value={scope} data-testid="review-scope" onChange={(event) => onFilterChange(event.target.value as ReviewScope, cellClass)}>
            {(Object.keys(SCOPE_LABELS) as ReviewScope[]).map((value) => (
              <option key={value} value={value}>
                {SCOPE_LABELS[value]}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          {scope === 'all' ? 'Class' : 'Predicted class'}
          <select
            value={cellClass ?? ''}
            data-testid="review-class-filter"
            onChange={(event) => onFilterChange(scope, isCellClassCode(event.target.value) ? event.target.value : null)}
          >
            <option value="">Any</option>
            {/* The lab's order; a hidden class stays listed while it is the filter (a link from the differential). */}
            {visibleClasses(reviewLayout)
              .concat(cellClass !== null && reviewLayout.hidden.includes(cellClass) ? [cellClass] : [])
              .map((code) => (
                <option key={code} value={code}>
                  {code} — {CELL_CLASSES[code].name}
                </option>
              ))}
          </select>
        </label>
        <form
          className="field-inline review-find"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            setFile(fileTyped.trim());
          }}
        >
          <label className="field-inline">
            Find file (/)
            <input
              ref={findInput}
              type="search"
              value={fileTyped}
              placeholder="part of a file name"
              data-testid="review-find-file"
              onChange={(event) => {
                setFileTyped(event.target.value);
                // Clearing the field (or its × button) shows every cell of the filter again at once.
                if (event.target.value === '') setFile('');
              }}
            />
          </label>
        </form>
        <span className="review-total" data-testid="review-total">
          {session.loading && session.cells.length === 0 ? '' : `${plural(session.total, 'cell', 'cells')}`}
        </span>
        <span className="toolbar-spacer" />
        <button type="button" data-testid="review-back-differential" onClick={onBack}>
          Back to differential
        </button>
      </div>

      <div className="review-summary" aria-live="polite" data-testid="review-live-bar">
        {differential && review && (
          <>
            <span>
              Blasts <strong data-testid="review-blast-percentage">{formatPercent(differential.blast.percentage)}</strong>{' '}
              <span className="muted">({formatInterval(differential.blast.ci95)})</span>
            </span>
            <span>
              NDC <strong>{differential.nucleatedDifferentialCount}</strong>
            </span>
            <span>
              Flagged left <strong data-testid="review-flagged-left">{review.flagged - review.flaggedReviewed}</strong> of {review.flagged}
            </span>
            <span>
              Reviewer <strong data-testid="review-reviewer">{user.displayName}</strong>
            </span>
          </>
        )}
      </div>

      {allFlaggedReviewed && !locked && (
        <div className="panel panel-ok review-done" role="status" data-testid="review-all-flagged-done">
          <span>All {review.flagged} flagged cells are reviewed. Next step: check the differential and sign off the case.</span>
          <button type="button" className="button-primary" data-testid="review-go-signoff" onClick={onSignOff}>
            Go to sign-off &amp; report
          </button>
        </div>
      )}

      {!reviewable.allowed && isAnalysisUnderway(detail.status) ? (
        <div className="panel panel-info" role="status" data-testid="review-waiting">
          <p>
            <strong>The analysis is running: review opens when it has finished.</strong> Nothing typed here is taken until then; this screen refreshes by
            itself.
          </p>
          {analysisProgress !== null && analysisProgress.total > 0 && (
            <ProgressBar value={analysisProgress.done} max={analysisProgress.total} label="Files analysed" testId="review-waiting-progress" />
          )}
        </div>
      ) : (
        !reviewable.allowed && (
          <p className="panel panel-info" data-testid="review-locked">
            {isReleased(detail.status)
              ? 'This case is signed: decisions are read-only. Amend the case (Sign-off tab) to change them.'
              : `Decisions are read-only now. ${reviewable.why}`}
          </p>
        )
      )}

      <div className="review-body">
        <div className="review-main">
          {session.cells.length === 0 ? (
            session.loading ? (
              <Loading what="cells" />
            ) : (
              <p className="empty" data-testid="review-empty">
                {file !== ''
                  ? `No cell of this filter has a file name containing “${file}”.`
                  : scope === 'unreviewed'
                    ? 'No flagged cells are waiting for review.'
                    : 'No cells match this filter.'}
              </p>
            )
          ) : (
            <div
              ref={grid}
              className="cell-grid"
              role="listbox"
              tabIndex={0}
              aria-label="Cells to review"
              aria-activedescendant={selectedCell ? tileElementId(selectedCell.imageId) : undefined}
              data-testid="review-grid"
            >
              {session.cells.map((cell, index) => (
                <CellTile
                  key={cell.imageId}
                  cell={cell}
                  selected={index === session.selected}
                  state={session.tileStates.get(cell.imageId) ?? 'idle'}
                  imageMissing={session.missingImages.has(cell.imageId)}
                  onSelect={selectTile}
                  onEnlarge={setZoomed}
                  onImageError={session.markImageMissing}
                  layout={reviewLayout}
                />
              ))}
            </div>
          )}
          <div className="pager">
            <button type="button" disabled={!canPrevious} data-testid="review-prev-page" onClick={fromButton(previousPage)}>
              ← Previous (PgUp)
            </button>
            <span data-testid="review-page-info">{session.cells.length > 0 ? `Cells ${firstShown}–${lastShown} of ${session.total}` : ''}</span>
            <button type="button" disabled={!canNext} data-testid="review-next-page" onClick={fromButton(nextPage)}>
              {scope === 'unreviewed' ? 'Next cells (PgDn) →' : 'Next (PgDn) →'}
            </button>
          </div>
        </div>
        <aside className="review-side">
          <div className="action-stack">
            <button
              type="button"
              className="button-primary"
              disabled={locked || session.cells.length === 0}
              data-testid="review-confirm-selected"
              onClick={fromButton(() => decide('shown'))}
            >
              Confirm (Enter)
            </button>
            <button type="button" disabled={locked} data-testid="review-undo" onClick={fromButton(undo)}>
              Undo (Backspace)
            </button>
            <button type="button" disabled={locked || undecidedShown === 0} data-testid="review-confirm-all" onClick={fromButton(session.confirmAllShown)}>
              Confirm all shown ({undecidedShown})
            </button>
            <button type="button" disabled={selectedCell === undefined} data-testid="review-enlarge" onClick={enlarge}>
              Enlarge cell (V)
            </button>
            <button type="button" disabled={selectedCell === undefined} data-testid="review-next-of-class" onClick={fromButton(nextOfClass)}>
              Next unreviewed {selectedCell?.effectiveLabel ?? ''} (U)
            </button>
          </div>
          <KeyLegend layout={reviewLayout} disabled={locked || session.cells.length === 0} onReclassify={(code) => fromButton(() => decide(code))()} />
          {selectedCell !== undefined && <SelectedCellReasons cell={selectedCell} />}
        </aside>
      </div>
      {zoomedCell !== undefined && <CellZoom cell={zoomedCell} onClose={() => setZoomed(null)} />}
    </section>
  );
}

/**
 * The selected cell's reasons in full, beside the grid: the tile has room for a few words only, and a tooltip
 * needs a mouse. Follows the keyboard selection; read by screen readers as it changes.
 */
function SelectedCellReasons({ cell }: { cell: CellView }) {
  return (
    <div className="panel selected-reasons" aria-live="polite" data-testid="review-selected-reasons">
      <h3>
        Selected: <code>{cell.file}</code>
      </h3>
      {cell.flagReasons.length === 0 ? (
        <p className="muted small">Not flagged.</p>
      ) : (
        <ul className="small">
          {cell.flagReasons.map((reason, index) => (
            <li key={`${reason.kind}-${index}`} data-testid={`review-selected-reason-${index}`}>
              <strong>{FLAG_REASON_KIND_SHORT[reason.kind]}</strong>: {flagReasonText(reason)}
            </li>
          ))}
        </ul>
      )}
      {cell.decision !== null && (
        <p className="small">
          Decision: {cell.decision.label} by {cell.decision.reviewer}
        </p>
      )}
    </div>
  );
}
