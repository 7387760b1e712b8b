// The differential and the review of cells. The model's label is never changed: a review adds a human decision
// beside it (db/reviews), and undo appends a retraction. A signed case refuses every review until amended.
import type { CaseDifferential, CellPage, CellQuery, CellView, ConfirmInput, ReviewInput, UndoInput } from '../../shared/api';
import { DatabaseError, type CaseRow, type CellRow } from '../db';
import { currentActor, modelCache, type ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { ServiceError } from './errors';
import { caseStateOf, requireAllowed } from './lifecycle';
import { caseDifferential } from './case-differential';
import { cellViewOf } from './views';

/** Reviews are taken only where the lifecycle allows them (in review, or the analysed part of a cancelled case). */
export function requireReviewable(row: CaseRow): void {
  requireAllowed('review', caseStateOf(row));
}

async function cellOfCase(ctx: ServiceContext, row: CaseRow, imageId: number, field = 'imageId'): Promise<CellRow> {
  try {
    return await ctx.store.cells.getCell(row.id, imageId);
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
      const row = await ctx.store.cases.getCase(caseId);
      return {
        caseId,
        differential: await caseDifferential(ctx.store, row, await modelOf(row.modelRowId)),
        review: await ctx.store.cells.reviewProgress(caseId),
      };
    },

    async listCells(query: CellQuery): Promise<CellPage> {
      await ctx.store.cases.getCase(query.caseId);
      const { rows, total } = await ctx.store.cells.listCells(query);
      return { cells: rows.map(view), total };
    },

    async reviewCell(input: ReviewInput): Promise<CellView> {
      const row = await ctx.store.cases.getCase(input.caseId);
      requireReviewable(row);
      await cellOfCase(ctx, row, input.imageId);
      await ctx.store.reviews.addReview({
        caseId: input.caseId,
        imageId: input.imageId,
        label: input.label,
        reviewer: currentActor(ctx),
        ...(input.note === undefined ? {} : { note: input.note }),
        ...(input.seenVersion === undefined ? {} : { seenVersion: input.seenVersion }),
      });
      return view(await ctx.store.cells.getCell(input.caseId, input.imageId));
    },

    async confirmCells(input: ConfirmInput): Promise<CellView[]> {
      const row = await ctx.store.cases.getCase(input.caseId);
      requireReviewable(row);
      // Confirming accepts the label the reviewer sees (the effective label): for an unreviewed cell that is the
      // model's prediction; for a cell another reviewer already reclassified it is that decision, seconded.
      // A cell listed twice is confirmed once: two identical decisions would make the first undo look like it did nothing.
      const imageIds = [...new Set(input.imageIds)];
      if (input.seenVersions !== undefined && input.seenVersions.length !== input.imageIds.length) {
        throw new ServiceError('validation', `seenVersions has ${input.seenVersions.length} entries for ${input.imageIds.length} cells.`, {
          field: 'seenVersions',
        });
      }
      const seenOf = (imageId: number): number | undefined => input.seenVersions?.[input.imageIds.indexOf(imageId)];
      const cells: CellRow[] = [];
      for (const imageId of imageIds) cells.push(await cellOfCase(ctx, row, imageId, `imageIds[${input.imageIds.indexOf(imageId)}]`));
      // All or none: one stale cell refuses the whole confirmation, which the reviewer then sees again.
      await ctx.store.reviews.addReviews(
        cells.map((cell) => {
          const seenVersion = seenOf(cell.imageId);
          return {
            caseId: input.caseId,
            imageId: cell.imageId,
            label: cell.effectiveLabel,
            reviewer: currentActor(ctx),
            ...(seenVersion === undefined ? {} : { seenVersion }),
          };
        }),
      );
      const confirmed: CellView[] = [];
      for (const imageId of imageIds) confirmed.push(view(await ctx.store.cells.getCell(input.caseId, imageId)));
      return confirmed;
    },

    async undoReview(input: UndoInput): Promise<CellView> {
      const row = await ctx.store.cases.getCase(input.caseId);
      requireReviewable(row);
      // No cell named: the reviewer's own latest decision still in force (after a reload the page has no history).
      const imageId = input.imageId ?? (await ctx.store.reviews.latestDecisionInForceBy(input.caseId, currentActor(ctx)));
      if (imageId === null) {
        throw new ServiceError('not_found', `${currentActor(ctx)} has no decision in force in case ${row.accession}: nothing to undo.`, { field: 'imageId' });
      }
      const cell = await cellOfCase(ctx, row, imageId);
      // With a version, a cell changed since is refused as stale (by retractLatestReview), not as 'nothing to undo'.
      if (cell.decision === null && (input.seenVersion === undefined || input.seenVersion === cell.version)) {
        throw new ServiceError('not_found', `Cell ${cell.relativePath} has no decision to undo.`, { field: 'imageId' });
      }
      await ctx.store.reviews.retractLatestReview({
        caseId: input.caseId,
        imageId,
        reviewer: currentActor(ctx),
        ...(input.seenVersion === undefined ? {} : { seenVersion: input.seenVersion }),
      });
      return view(await ctx.store.cells.getCell(input.caseId, imageId));
    },
  } satisfies ServiceArea;
}
