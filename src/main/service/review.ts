// The differential and the review of cells. The model's label is never changed: a review adds a human decision
// beside it (db/reviews), and undo appends a retraction. A signed case refuses every review until amended.
import type { CaseDifferential, CellPage, CellQuery, CellView, ConfirmInput, ReviewInput, UndoInput } from '../../shared/api';
import {
  addReview,
  addReviews,
  DatabaseError,
  getCase,
  getCell,
  latestDecisionInForceBy,
  listCells as queryCells,
  retractLatestReview,
  reviewProgress,
  type CaseRow,
  type CellRow,
} from '../db';
import { currentActor, modelCache, type ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { ServiceError } from './errors';
import { caseDifferential } from './case-differential';
import { cellViewOf } from './views';

/** Reviews are taken only on an analysed case that is not signed. */
export function requireReviewable(row: CaseRow): void {
  if (row.status === 'signed') {
    throw new ServiceError('locked', `Case ${row.accession} is signed. Amend it (with a reason) before changing any cell.`, { field: 'caseId' });
  }
  if (row.status !== 'in_review') {
    throw new ServiceError('conflict', `Case ${row.accession} is still ${row.status === 'importing' ? 'importing' : 'being analysed'}; review its cells when the analysis has finished.`, {
      field: 'caseId',
    });
  }
}

function cellOfCase(ctx: ServiceContext, row: CaseRow, imageId: number, field = 'imageId'): CellRow {
  try {
    return getCell(ctx.db, row.id, imageId);
  } catch (e) {
    if (e instanceof DatabaseError && e.kind === 'not_found') {
      throw new ServiceError('not_found', `Case ${row.accession} has no classified cell ${imageId}.`, { field, cause: e });
    }
    throw e;
  }
}

export function reviewMethods(ctx: ServiceContext) {
  const modelOf = modelCache(ctx);
  const view = (cell: CellRow): CellView => cellViewOf(cell, ctx.options.cellImageUrl);
  return {
    async getDifferential(caseId: number): Promise<CaseDifferential> {
      const row = getCase(ctx.db, caseId);
      return { caseId, differential: caseDifferential(ctx.db, row, modelOf(row.modelRowId)), review: reviewProgress(ctx.db, caseId) };
    },

    async listCells(query: CellQuery): Promise<CellPage> {
      getCase(ctx.db, query.caseId);
      const { rows, total } = queryCells(ctx.db, query);
      return { cells: rows.map(view), total };
    },

    async reviewCell(input: ReviewInput): Promise<CellView> {
      const row = getCase(ctx.db, input.caseId);
      requireReviewable(row);
      cellOfCase(ctx, row, input.imageId);
      addReview(ctx.db, {
        caseId: input.caseId,
        imageId: input.imageId,
        label: input.label,
        reviewer: currentActor(ctx),
        ...(input.note === undefined ? {} : { note: input.note }),
      });
      return view(getCell(ctx.db, input.caseId, input.imageId));
    },

    async confirmCells(input: ConfirmInput): Promise<CellView[]> {
      const row = getCase(ctx.db, input.caseId);
      requireReviewable(row);
      // Confirming accepts the label the reviewer sees (the effective label): for an unreviewed cell that is the
      // model's prediction; for a cell another reviewer already reclassified it is that decision, seconded.
      // A cell listed twice is confirmed once: two identical decisions would make the first undo look like it did nothing.
      const imageIds = [...new Set(input.imageIds)];
      const cells = imageIds.map((imageId) => cellOfCase(ctx, row, imageId, `imageIds[${input.imageIds.indexOf(imageId)}]`));
      addReviews(
        ctx.db,
        cells.map((cell) => ({ caseId: input.caseId, imageId: cell.imageId, label: cell.effectiveLabel, reviewer: currentActor(ctx) })),
      );
      return imageIds.map((imageId) => view(getCell(ctx.db, input.caseId, imageId)));
    },

    async undoReview(input: UndoInput): Promise<CellView> {
      const row = getCase(ctx.db, input.caseId);
      requireReviewable(row);
      // No cell named: the reviewer's own latest decision still in force (after a reload the page has no history).
      const imageId = input.imageId ?? latestDecisionInForceBy(ctx.db, input.caseId, currentActor(ctx));
      if (imageId === null) {
        throw new ServiceError('not_found', `${currentActor(ctx)} has no decision in force in case ${row.accession}: nothing to undo.`, { field: 'imageId' });
      }
      const cell = cellOfCase(ctx, row, imageId);
      if (cell.decision === null) {
        throw new ServiceError('not_found', `Cell ${cell.relativePath} has no decision to undo.`, { field: 'imageId' });
      }
      retractLatestReview(ctx.db, { caseId: input.caseId, imageId, reviewer: currentActor(ctx) });
      return view(getCell(ctx.db, input.caseId, imageId));
    },
  } satisfies ServiceArea;
}
