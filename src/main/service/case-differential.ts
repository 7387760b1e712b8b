// The case's differential from its effective labels, assessed against its model's classes: what the review screen,
// the sign-off snapshot, the report and the exports all show, computed by the one counting core (src/shared).
import type { ReviewProgress } from '../../shared/api';
import { computeDifferential, type Differential, type DifferentialOptions } from '../../shared/differential';
import { canDo, statusText } from '../../shared/case-lifecycle';
import { countFlagReasons } from '../../shared/flag-reasons';
import type { CaseRow, ModelRow } from '../db';
import type { Repositories } from '../db/contract';
import { ServiceError } from './errors';
import { partialResultOf } from './partial';

/** The differential of a case from its effective labels, assessed against its model's classes. */
export async function caseDifferential(repos: Repositories, caseRow: CaseRow, model: ModelRow | null): Promise<Differential> {
  const counts = await repos.cells.effectiveCountsByClass(caseRow.id);
  return computeDifferential(counts, model === null ? {} : await differentialOptionsOf(repos, caseRow, model));
}

/** The model's classes, and its provisional classes' cells that no one has reviewed yet. */
async function differentialOptionsOf(repos: Repositories, caseRow: CaseRow, model: ModelRow): Promise<DifferentialOptions> {
  if (model.provisionalClasses.length === 0) return { modelClasses: model.classes };
  const unreviewed = await repos.cells.unreviewedCountsByPredictedClass(caseRow.id);
  const provisional = Object.fromEntries(model.provisionalClasses.map((code) => [code, unreviewed[code] ?? 0]));
  return { modelClasses: model.classes, provisional: { classes: model.provisionalClasses, unreviewed: provisional } };
}

/** The review's figures as the report and the JSON export print them: progress, agreement and why cells were flagged. */
export async function reviewFigures(
  repos: Repositories,
  caseId: number,
): Promise<ReviewProgress & { agreementPercent: number | null; flagReasons: ReturnType<typeof countFlagReasons> }> {
  const progress = await repos.cells.reviewProgress(caseId);
  return {
    ...progress,
    // Of the cells a person decided, the share where the person kept the model's label.
    agreementPercent: progress.reviewed > 0 ? ((progress.reviewed - progress.reclassified) / progress.reviewed) * 100 : null,
    flagReasons: countFlagReasons(await repos.cells.flaggedCellReasons(caseId)),
  };
}

/** A report or an export is made of an analysed case only: its row, its model and its differential. */
export async function analysedCase(repos: Repositories, caseId: number): Promise<{ caseRow: CaseRow; model: ModelRow; differential: Differential }> {
  const caseRow = await repos.cases.getCase(caseId);
  const permission = canDo('report', { status: caseRow.status, accession: caseRow.accession });
  if (!permission.allowed) throw new ServiceError('conflict', permission.why, { field: 'caseId' });
  if (caseRow.modelRowId === null) {
    throw new ServiceError(
      'conflict',
      `Case ${caseRow.accession} has not finished analysis (status: ${caseRow.status}); a report or export is available once its cells are classified.`,
      { field: 'caseId' },
    );
  }
  const model = await repos.models.getModel(caseRow.modelRowId);
  return { caseRow, model, differential: await caseDifferential(repos, caseRow, model) };
}

/** "Cancelled — 256 of 1,800 files analysed", "Released", ...: the case's state as every output words it. */
export async function caseStatusText(repos: Repositories, caseRow: CaseRow): Promise<string> {
  return statusText({ status: caseRow.status, partial: await partialResultOf(repos, caseRow) });
}
