// The review grid's state and actions. Every decision is sent at once and awaited in order (one queue), so fast
// typing never reorders or drops decisions; a failed save marks its tile and reports the cell by name.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CellClassCode } from '../../../shared/cell-classes';
import type { CellPage, CellView } from '../../../shared/api';
import { getApi } from '../api';
import { isApiError, useMessages } from '../components/messages';
import type { ReviewScope } from '../navigation/route';
import { moveSelection, nextAfterDecision } from './grid';
import type { Direction } from './keymap';
import { nextPageOffset, previousPageOffset, replaceCells } from './paging';
import { trackReviewSaves } from './pendingReviewSaves';
import { createSerialQueue } from './serialQueue';
import type { TileState } from './CellTile';

export const PAGE_SIZE = 40;

interface Options {
  caseId: number;
  scope: ReviewScope;
  cellClass: CellClassCode | null;
  /** Part of a file name: only the cells whose file matches are shown (any scope). */
  file: string;
  /** Read-only: a released case, a submitted one, or one still being analysed. */
  locked: boolean;
  /** What a refused key says while locked (the lifecycle's sentence). */
  lockedWhy?: string;
  /** Called after every saved change, to refresh the figures. */
  onChanged: () => void;
}

export interface ReviewSession {
  cells: CellView[];
  total: number;
  offset: number;
  loading: boolean;
  selected: number;
  tileStates: ReadonlyMap<number, TileState>;
  /** Cells whose image could not be shown (file moved or deleted since the analysis). */
  missingImages: ReadonlySet<number>;
  markImageMissing: (imageId: number) => void;
  canUndo: boolean;
  select: (imageId: number) => void;
  move: (direction: Direction, columns: number) => void;
  /** 'shown': confirm the label the tile shows (the model's, or a reclassification already made). */
  decide: (label: CellClassCode | 'shown') => void;
  confirmAllShown: () => void;
  undo: () => void;
  nextPage: () => void;
  previousPage: () => void;
  /**
   * Re-reads the shown page and takes the decisions another station made on the shown cells, in place (no tile
   * moves or disappears under the reviewer's eyes); cells with a save of this station in flight keep theirs.
   */
  refreshShown: () => void;
}

export function useReviewSession({ caseId, scope, cellClass, file, locked, lockedWhy, onChanged }: Options): ReviewSession {
  const { reportError, notify } = useMessages();
  const [page, setPage] = useState<CellPage>({ cells: [], total: 0 });
  const [offset, setOffset] = useState(0);
  const [loading, setLoading] = useState(true);
  const [selected, setSelected] = useState(0);
  const [tileStates, setTileStates] = useState<ReadonlyMap<number, TileState>>(new Map());
  const [undoDepth, setUndoDepth] = useState(0);
  const [missingImages, setMissingImages] = useState<ReadonlySet<number>>(new Set());

  // Refs mirror state for the queued tasks, which run after the render that created them.
  const cellsRef = useRef<CellView[]>([]);
  const selectedRef = useRef(0);
  // Saves in flight per cell: a cell may be decided again before its previous decision is saved.
  const savingRef = useRef(new Map<number, number>());
  const undoStack = useRef<number[][]>([]);
  // True while a page is being fetched. The old page stays on screen meanwhile, so a key pressed right after
  // PageDown (or a filter change) would land on a cell of the page the reviewer believes is gone; such keys are
  // refused instead.
  const pageLoading = useRef(true);
  // Undos queued or running. An undo moves the selection back to the withdrawn cell only once it is saved, so a class
  // key pressed meanwhile would land on the cell after it; decisions are refused until the undo has settled.
  const undosPending = useRef(0);
  // A cell must be seen to be reviewed: no decision is taken on a tile whose image did not load.
  const missingRef = useRef(new Set<number>());
  // One queue for the life of the screen (reportError is stable: it comes from the app-wide messages provider).
  const [queue] = useState(() => createSerialQueue((error) => reportError(error, 'A review action failed unexpectedly')));
  useEffect(() => trackReviewSaves(queue), [queue]);
  const generation = useRef(0);
  const onChangedRef = useRef(onChanged);
  useEffect(() => {
    onChangedRef.current = onChanged;
  });

  const setCells = useCallback((update: (cells: CellView[]) => CellView[]) => {
    cellsRef.current = update(cellsRef.current);
    setPage((current) => ({ ...current, cells: cellsRef.current }));
  }, []);

  const setSelection = useCallback((index: number) => {
    selectedRef.current = index;
    setSelected(index);
  }, []);

  // Every 'saving' is later matched by one 'idle' or 'failed' for the same cell; a tile shows 'saving' until its
  // last save in flight has settled.
  const setTile = useCallback((ids: readonly number[], state: TileState) => {
    for (const id of ids) {
      const inFlight = (savingRef.current.get(id) ?? 0) + (state === 'saving' ? 1 : -1);
      if (inFlight > 0) savingRef.current.set(id, inFlight);
      else savingRef.current.delete(id);
    }
    setTileStates((current) => {
      const next = new Map(current);
      for (const id of ids) {
        if (savingRef.current.has(id)) next.set(id, 'saving');
        else if (state === 'idle') next.delete(id);
        else next.set(id, state);
      }
      return next;
    });
  }, []);

  const enqueue = useCallback((task: () => Promise<void>) => void queue.enqueue(task), [queue]);

  const offsetRef = useRef(0);
  useEffect(() => {
    offsetRef.current = offset;
  }, [offset]);
  /**
   * Another station changed a cell after this screen showed it, so the decision was refused as stale: the cells
   * shown are read again (in place, the selection kept) so the reviewer sees what is there now. Runs inside a queued
   * task, so it does not wait for the queue.
   */
  const reloadShownAfterStale = useCallback(async () => {
    const fresh = await getApi().listCells({
      caseId,
      scope,
      ...(cellClass !== null ? (scope === 'all' ? { effectiveClass: cellClass } : { predictedClass: cellClass }) : {}),
      offset: offsetRef.current,
      limit: PAGE_SIZE,
    });
    setCells((cells) => replaceCells(cells, fresh.cells));
    onChangedRef.current();
  }, [caseId, scope, cellClass, setCells]);

  /** A refused decision: a stale one refreshes the cells and says who changed what; others are reported as before. */
  const failed = useCallback(
    async (error: unknown, context: string) => {
      if (isApiError(error, 'stale')) {
        reportError(error, `${context} — another reviewer changed it first`);
        await reloadShownAfterStale().catch((refreshError: unknown) => reportError(refreshError, 'Reading the changed cells again'));
        return;
      }
      reportError(error, context);
    },
    [reportError, reloadShownAfterStale],
  );

  const fetchPage = useCallback(
    async (at: number): Promise<CellPage> => {
      // Decisions still being saved must reach the server before the next page is chosen from it.
      await queue.idle();
      return getApi().listCells({
        caseId,
        scope,
        ...(cellClass !== null ? (scope === 'all' ? { effectiveClass: cellClass } : { predictedClass: cellClass }) : {}),
        ...(file.trim() !== '' ? { file: file.trim() } : {}),
        offset: at,
        limit: PAGE_SIZE,
      });
    },
    [caseId, scope, cellClass, file, queue],
  );

  // Settles one page request: only the latest request may change what is shown.
  const settle = useCallback(
    (mine: number, at: number, outcome: { page: CellPage } | { error: unknown }) => {
      if (mine !== generation.current) return;
      pageLoading.current = false;
      setLoading(false);
      if ('error' in outcome) {
        reportError(outcome.error, 'Loading the cells');
        return;
      }
      cellsRef.current = outcome.page.cells;
      setPage(outcome.page);
      setOffset(at);
      selectedRef.current = 0;
      setSelected(0);
    },
    [reportError],
  );

  // Asks for the page at `at`; any earlier request still in flight is superseded.
  const request = useCallback(
    (at: number) => {
      const mine = ++generation.current;
      pageLoading.current = true;
      fetchPage(at).then(
        (result) => settle(mine, at, { page: result }),
        (error: unknown) => settle(mine, at, { error }),
      );
    },
    [fetchPage, settle],
  );

  const load = useCallback(
    (at: number) => {
      setLoading(true);
      request(at);
    },
    [request],
  );

  // The first page, and again whenever the case, the scope or the class filter changes.
  useEffect(() => {
    request(0);
    return () => {
      generation.current += 1;
    };
  }, [request]);

  const guard = useCallback((): boolean => {
    if (pageLoading.current) {
      notify('The cells are still loading: that key was not applied. Press it again when they appear.');
      return false;
    }
    if (locked) {
      notify(lockedWhy ?? 'This case is signed. Amend it to change decisions.');
      return false;
    }
    return true;
  }, [locked, lockedWhy, notify]);

  const undoSettling = useCallback((): boolean => {
    if (undosPending.current === 0) return false;
    notify('The undo is still being saved: that key was not applied. Press it again when the cell is selected.');
    return true;
  }, [notify]);

  const markImageMissing = useCallback((imageId: number) => {
    if (missingRef.current.has(imageId)) return;
    missingRef.current.add(imageId);
    setMissingImages(new Set(missingRef.current));
  }, []);

  const decide = useCallback(
    (label: CellClassCode | 'shown') => {
      if (!guard() || undoSettling()) return;
      const index = selectedRef.current;
      const cell = cellsRef.current[index];
      if (cell === undefined) return;
      if (missingRef.current.has(cell.imageId)) {
        notify(`${cell.file} cannot be shown (moved or deleted since the analysis?): a cell is reviewed only when it can be seen. Restore the case folder.`);
        return;
      }
      setTile([cell.imageId], 'saving');
      const decided = cellsRef.current.map((other) => other.imageId === cell.imageId || other.decision !== null || savingRef.current.has(other.imageId));
      setSelection(nextAfterDecision(index, decided));
      enqueue(async () => {
        // Confirming a reclassified cell seconds the reclassification (as confirmCells does); sending the model's
        // label would silently revert the reviewer's decision. Read when the save runs, after the decisions on
        // this cell queued before it have been saved.
        const shown = cellsRef.current.find((other) => other.imageId === cell.imageId) ?? cell;
        const chosen = label === 'shown' ? shown.effectiveLabel : label;
        try {
          // The version of the cell as this screen shows it now: a change by another station since is refused.
          const updated = await getApi().reviewCell({ caseId, imageId: cell.imageId, label: chosen, seenVersion: shown.version });
          setCells((cells) => replaceCells(cells, [updated]));
          undoStack.current.push([cell.imageId]);
          setUndoDepth(undoStack.current.length);
          setTile([cell.imageId], 'idle');
          onChangedRef.current();
        } catch (error) {
          setTile([cell.imageId], 'failed');
          await failed(error, `Cell ${cell.file}: the decision ${chosen} was NOT saved`);
        }
      });
    },
    [guard, undoSettling, caseId, enqueue, setCells, setSelection, setTile, notify, failed],
  );

  const confirmAllShown = useCallback(() => {
    if (!guard() || undoSettling()) return;
    // Only undecided cells: confirming a reclassified cell would silently revert the reviewer's decision.
    const undecided = cellsRef.current.filter((cell) => cell.decision === null && !savingRef.current.has(cell.imageId));
    const targets = undecided.filter((cell) => !missingRef.current.has(cell.imageId));
    const unseen = undecided.length - targets.length;
    if (targets.length === 0) {
      notify(unseen > 0 ? `${unseen} undecided cells shown have no image and cannot be confirmed.` : 'Every cell shown already has a decision.');
      return;
    }
    const ids = targets.map((cell) => cell.imageId);
    setTile(ids, 'saving');
    enqueue(async () => {
      try {
        const shownNow = ids.map((id) => cellsRef.current.find((cell) => cell.imageId === id)?.version ?? 0);
        const updated = await getApi().confirmCells({ caseId, imageIds: ids, seenVersions: shownNow });
        setCells((cells) => replaceCells(cells, updated));
        undoStack.current.push(ids);
        setUndoDepth(undoStack.current.length);
        setTile(ids, 'idle');
        notify(`${updated.length} cells confirmed.${unseen > 0 ? ` ${unseen} without an image were left undecided.` : ''}`);
        onChangedRef.current();
      } catch (error) {
        setTile(ids, 'failed');
        await failed(error, `Confirming ${ids.length} cells: NOT saved`);
      }
    });
  }, [guard, undoSettling, caseId, enqueue, setCells, setTile, notify, failed]);

  const undo = useCallback(() => {
    if (!guard()) return;
    undosPending.current += 1;
    enqueue(async () => {
      try {
        await undoLast();
      } finally {
        undosPending.current -= 1;
      }
    });

    async function undoLast(): Promise<void> {
      const ids = undoStack.current.pop();
      setUndoDepth(undoStack.current.length);
      if (ids === undefined) {
        await undoOwnLatestOnServer();
        return;
      }
      setTile(ids, 'saving');
      const undone: CellView[] = [];
      try {
        for (const imageId of [...ids].reverse()) {
          const seenVersion = cellsRef.current.find((cell) => cell.imageId === imageId)?.version;
          undone.push(await getApi().undoReview({ caseId, imageId, ...(seenVersion === undefined ? {} : { seenVersion }) }));
        }
        setTile(ids, 'idle');
      } catch (error) {
        const left = ids.filter((id) => !undone.some((cell) => cell.imageId === id));
        setTile(
          ids.filter((id) => !left.includes(id)),
          'idle',
        );
        setTile(left, 'failed');
        // What was not withdrawn goes back on the stack, so that Undo again retries exactly those decisions rather
        // than skipping to an older action and leaving them in place.
        undoStack.current.push(left);
        setUndoDepth(undoStack.current.length);
        await failed(error, `Undo: ${left.length} of ${ids.length} decisions were NOT withdrawn; press Undo again to retry`);
      }
      if (undone.length > 0) {
        setCells((cells) => replaceCells(cells, undone));
        const first = cellsRef.current.findIndex((cell) => cell.imageId === ids[0]);
        if (first >= 0) setSelection(first);
        onChangedRef.current();
      }
    }

    // Nothing undone in this page's life (it was reloaded, or the reviewer came back later): the reviewer's own
    // latest decision still in force is on the server, and the server finds it.
    async function undoOwnLatestOnServer(): Promise<void> {
      let cell: CellView;
      try {
        cell = await getApi().undoReview({ caseId });
      } catch (error) {
        if (isApiError(error, 'not_found')) notify('Nothing to undo: you have no decision in force in this case.');
        else reportError(error, 'Undo: your latest decision was NOT withdrawn');
        return;
      }
      const shownAt = cellsRef.current.findIndex((shown) => shown.imageId === cell.imageId);
      if (shownAt >= 0) {
        setCells((cells) => replaceCells(cells, [cell]));
        setSelection(shownAt);
      } else {
        notify(`Undone: your decision on ${cell.file} (not on this page).`);
      }
      onChangedRef.current();
    }
  }, [guard, caseId, enqueue, setCells, setSelection, setTile, notify, reportError, failed]);

  const select = useCallback(
    (imageId: number) => {
      const index = cellsRef.current.findIndex((cell) => cell.imageId === imageId);
      if (index >= 0) setSelection(index);
    },
    [setSelection],
  );

  const move = useCallback(
    (direction: Direction, columns: number) => {
      setSelection(moveSelection(selectedRef.current, direction, cellsRef.current.length, columns));
    },
    [setSelection],
  );

  const nextPage = useCallback(() => load(nextPageOffset(scope, offset, cellsRef.current)), [load, scope, offset]);
  const refreshShown = useCallback(() => {
    const mine = generation.current;
    fetchPage(offset).then(
      (fresh) => {
        if (mine !== generation.current) return; // the page changed meanwhile: its own load is current
        const byId = new Map(fresh.cells.map((c) => [c.imageId, c]));
        setCells((cells) =>
          cells.map((cell) => {
            const now = byId.get(cell.imageId);
            if (now === undefined || savingRef.current.has(cell.imageId)) return cell;
            return { ...cell, decision: now.decision, effectiveLabel: now.effectiveLabel, version: now.version };
          }),
        );
      },
      (error: unknown) => reportError(error, 'Refreshing the cells another station changed'),
    );
  }, [fetchPage, offset, setCells, reportError]);
  const previousPage = useCallback(() => load(previousPageOffset(offset, PAGE_SIZE)), [load, offset]);

  return {
    cells: page.cells,
    total: page.total,
    offset,
    loading,
    selected,
    tileStates,
    missingImages,
    markImageMissing,
    canUndo: undoDepth > 0,
    select,
    move,
    decide,
    confirmAllShown,
    undo,
    nextPage,
    previousPage,
    refreshShown,
  };
}
