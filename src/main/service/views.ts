// Storage rows → the API's views. Kept apart from the business rules so that every method shows a case or a cell
// the same way.
import type { CaseDetail, CaseSummary, CellView, ModelInfo, SignatureRecord } from '../../shared/api';
import { ROLE_LABELS } from '../../shared/roles';
import { computeDifferential } from '../../shared/differential';
import {
  caseSpecimenDate,
  effectiveCountsByClass,
  getCase,
  listAmendments,
  listImportFailures,
  listSignOffs,
  reviewProgress,
  topClasses,
  type CaseListRow,
  type CaseRow,
  type CellRow,
  type ClassCounts,
  type ModelRow,
  listSignatures,
  type MarrowDatabase,
  type SignOffRow,
  type SignatureRow,
} from '../db';
import type { ServiceContext } from './context';
import { chronologicalSignOffs, isResearchOnlyModel } from './report';

/** `modelDir`: the installed model package, which alone can clear a model of "research only" (isResearchOnlyModel). */
export function modelInfoOf(model: ModelRow, modelDir?: string): ModelInfo {
  return {
    id: model.modelId,
    version: model.version,
    name: model.name,
    sha256: model.sha256,
    classes: [...model.classes],
    provisionalClasses: [...model.provisionalClasses],
    researchOnly: isResearchOnlyModel(model, modelDir),
  };
}

function cellTotal(counts: ClassCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
}

function blastPercentage(counts: ClassCounts, model: ModelRow | null): number | null {
  return computeDifferential(counts, model === null ? {} : { modelClasses: model.classes }).blast.percentage;
}

/** The CaseSummary fields: the case row's own, and the figures the caller computed from its cells and sign-offs. */
function summaryOf(
  row: CaseRow,
  figures: Pick<CaseSummary, 'cellCount' | 'blastPercentage' | 'flaggedUnreviewed' | 'signedBy' | 'signedAt'>,
): CaseSummary {
  return {
    id: row.id,
    patientLabId: row.patientLabId,
    patientName: row.patientName,
    accession: row.accession,
    specimen: row.specimen,
    createdAt: row.createdAt,
    status: row.status,
    ...figures,
  };
}

export function caseSummaryOf(row: CaseListRow, model: ModelRow | null): CaseSummary {
  return summaryOf(row, {
    cellCount: row.cellCount,
    blastPercentage: blastPercentage(row.countsByClass, model),
    flaggedUnreviewed: row.flaggedUnreviewed,
    signedBy: row.signedBy,
    signedAt: row.signedAt,
  });
}

/**
 * The signatures in force: the release's two (technical validation, medical authorisation) while signed; the
 * technical validation alone while submitted; none otherwise (earlier ones stay in the audit trail and history).
 */
export function signaturesInForce(db: MarrowDatabase, row: { id: number; status: string }, latest: SignOffRow | null): SignatureRecord[] {
  const all = listSignatures(db, row.id);
  let chosen: SignatureRow[] = [];
  if (row.status === 'signed' && latest !== null) {
    chosen = all.filter((s) => s.id === latest.validationSignatureId || s.id === latest.authorisationSignatureId);
  } else if (row.status === 'submitted') {
    const validation = all.filter((s) => s.meaning === 'technical_validation').pop();
    chosen = validation === undefined ? [] : [validation];
  }
  return chosen.map((s) => ({ userId: s.userId, printedName: s.printedName, role: ROLE_LABELS[s.role], meaning: s.meaning, signedAt: s.signedAt }));
}

export function caseDetail(ctx: ServiceContext, caseId: number, modelOf: (id: number | null) => ModelRow | null): CaseDetail {
  const { db } = ctx;
  const row = getCase(db, caseId);
  const model = modelOf(row.modelRowId);
  const counts = row.modelRowId === null ? {} : effectiveCountsByClass(db, caseId);
  const progress = reviewProgress(db, caseId);
  const signOffs = chronologicalSignOffs(listSignOffs(db, caseId));
  const latest = signOffs[signOffs.length - 1] ?? null;
  return {
    ...summaryOf(row, {
      cellCount: cellTotal(counts),
      blastPercentage: row.modelRowId === null ? null : blastPercentage(counts, model),
      flaggedUnreviewed: progress.flagged - progress.flaggedReviewed,
      signedBy: latest?.signedBy ?? null,
      signedAt: latest?.signedAt ?? null,
    }),
    folder: row.folder,
    ...caseSpecimenDate(db, caseId),
    patientBirthDate: row.patientBirthDate,
    model: model === null ? null : modelInfoOf(model, ctx.options.modelDir),
    analysedAt: row.analysedAt,
    importFailures: listImportFailures(db, caseId),
    signOffs: signOffs.map((s) => ({ signedBy: recordedName(s.signedBy, s.userId), role: s.role, signedAt: s.signedAt, overrideReason: s.overrideReason })),
    signatures: signaturesInForce(db, row, row.status === 'signed' ? latest : null),
    interpretiveComment: row.status === 'signed' ? (latest?.interpretiveComment ?? null) : null,
    amendments: listAmendments(db, caseId).map((a) => ({ by: recordedName(a.by, a.userId), reason: a.reason, at: a.at })),
  };
}

/** A name recorded before accounts (typed, not a logged-in person): shown as such wherever the app shows it. */
export function recordedName(name: string, userId: number | null): string {
  return userId === null ? `${name} (recorded name, before accounts)` : name;
}

export function cellViewOf(cell: CellRow, imageUrl: (caseId: number, imageId: number) => string): CellView {
  return {
    imageId: cell.imageId,
    file: cell.relativePath,
    imageUrl: imageUrl(cell.caseId, cell.imageId),
    predicted: cell.predicted,
    confidence: cell.confidence,
    top: topClasses(cell),
    flagged: cell.flagged,
    flagReasons: [...cell.flagReasons],
    decision: cell.decision === null ? null : { label: cell.decision.label, reviewer: recordedName(cell.decision.reviewer, cell.decision.userId), at: cell.decision.at, note: cell.decision.note },
    effectiveLabel: cell.effectiveLabel,
  };
}
