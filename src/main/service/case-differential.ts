// The case's differential from its effective labels, assessed against its model's classes: what the review screen,
// the sign-off snapshot, the report and the exports all show, computed by the one counting core (src/shared).
import type { ReviewProgress } from '../../shared/api';
import { computeDifferential, type Differential, type DifferentialOptions } from '../../shared/differential';
import { canDo, statusText } from '../../shared/case-lifecycle';
import { countFlagReasons } from '../../shared/flag-reasons';
import {
  effectiveCountsByClass,
  flaggedCellReasons,
  getCase,
  getModel,
  reviewProgress,
  unreviewedCountsByPredictedClass,
  type CaseRow,
  type MarrowDatabase,
  type ModelRow,
} from '../db';
import { ServiceError } from './errors';
import { partialResultOf } from './partial';

/** The differential of a case from its effective labels, assessed against its model's classes. */
export function caseDifferential(db: MarrowDatabase, caseRow: CaseRow, model: ModelRow | null): Differential {
  const counts = effectiveCountsByClass(db, caseRow.id);
  return computeDifferential(counts, model === null ? {} : differentialOptionsOf(db, caseRow, model));
}

/** The model's classes, and its provisional classes' cells that no one has reviewed yet. */
function differentialOptionsOf(db: MarrowDatabase, caseRow: CaseRow, model: ModelRow): DifferentialOptions {
  if (model.provisionalClasses.length === 0) return { modelClasses: model.classes };
  const unreviewed = unreviewedCountsByPredictedClass(db, caseRow.id);
  const provisional = Object.fromEntries(model.provisionalClasses.map((code) => [code, unreviewed[code] ?? 0]));
  return { modelClasses: model.classes, provisional: { classes: model.provisionalClasses, unreviewed: provisional } };
}

/** The review's figures as the report and the JSON export print them: progress, agreement and why cells were flagged. */
export function reviewFigures(
  db: MarrowDatabase,
  caseId: number,
): ReviewProgress & { agreementPercent: number | null; flagReasons: ReturnType<typeof countFlagReasons> } {
  const progress = reviewProgress(db, caseId);
  return {
    ...progress,
    // Of the cells a person decided, the share where the person kept the model's label.
    agreementPercent: progress.reviewed > 0 ? ((progress.reviewed - progress.reclassified) / progress.reviewed) * 100 : null,
    flagReasons: countFlagReasons(flaggedCellReasons(db, caseId)),
  };
}

/** A report or an export is made of an analysed case only: its row, its model and its differential. */
export function analysedCase(db: MarrowDatabase, caseId: number): { caseRow: CaseRow; model: ModelRow; differential: Differential } {
  const caseRow = getCase(db, caseId);
  const permission = canDo('report', { status: caseRow.status, accession: caseRow.accession });
  if (!permission.allowed) throw new ServiceError('conflict', permission.why, { field: 'caseId' });
  if (caseRow.modelRowId === null) {
    throw new ServiceError(
      'conflict',
      `Case ${caseRow.accession} has not finished analysis (status: ${caseRow.status}); a report or export is available once its cells are classified.`,
      { field: 'caseId' },
    );
  }
  const model = getModel(db, caseRow.modelRowId);
  return { caseRow, model, differential: caseDifferential(db, caseRow, model) };
}

/** "Cancelled — 256 of 1,800 files analysed", "Released", ...: the case's state as every output words it. */
export function caseStatusText(db: MarrowDatabase, caseRow: CaseRow): string {
  return statusText({ status: caseRow.status, partial: partialResultOf(db, caseRow) });
}
