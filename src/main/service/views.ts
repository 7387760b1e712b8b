// Storage rows → the API's views. Kept apart from the business rules so that every method shows a case or a cell
// the same way.
import type { AmendmentRecord, CaseDetail, CaseSummary, CellView, ImportFailure, ModelInfo, SignatureRecord, SignOffRecord } from '../../shared/api';
import { ROLE_LABELS } from '../../shared/roles';
import { partialResultOf } from './partial';
import { sharedCropsOf } from './shared-crops';
import { computeDifferential } from '../../shared/differential';
import {
  caseSpecimenDate,
  effectiveCountsByClass,
  getCase,
  listAmendments,
  listImportFailures,
  listSignOffs,
  caseVersionOf,
  isAmended,
  reviewProgress,
  topClasses,
  type CaseListRow,
  type CaseRow,
  type MarrowDatabase,
  type CellRow,
  type ClassCounts,
  type ModelRow,
  listSignatures,
  type SignatureRow,
  type AmendmentRow,
  type SignOffRow,
} from '../db';
import type { ServiceContext } from './context';
import { modelInfoOf as storedModelInfo } from '../inference/model-package';
import { isResearchOnlyModel } from './research-only';

/** `modelDir`: the installed model package, which alone can clear a model of "research only" (isResearchOnlyModel). */
export function modelInfoOf(model: ModelRow, modelDir?: string): ModelInfo {
  return storedModelInfo(model, isResearchOnlyModel(model, modelDir));
}

/**
 * Sign-offs oldest first (ties in the order they were stored): the last one is the case's current sign-off. The one
 * order for the report, the export and the case view.
 */
export function chronologicalSignOffs(signOffs: readonly SignOffRow[]): SignOffRow[] {
  return [...signOffs].sort((a, b) => (a.signedAt === b.signedAt ? a.id - b.id : a.signedAt < b.signedAt ? -1 : 1));
}

/** A case's records beside its cells, as every view of it reads them: sign-offs oldest first, amendments, import failures. */
export function caseRecords(db: MarrowDatabase, caseId: number): { signOffs: SignOffRow[]; amendments: AmendmentRow[]; importFailures: ImportFailure[] } {
  return { signOffs: chronologicalSignOffs(listSignOffs(db, caseId)), amendments: listAmendments(db, caseId), importFailures: listImportFailures(db, caseId) };
}

/** A name recorded before accounts (typed, not a logged-in person): shown as such wherever the app shows it. */
export function recordedName(name: string, userId: number | null): string {
  return userId === null ? `${name} (recorded name, before accounts)` : name;
}

export function signOffRecordOf(s: SignOffRow): SignOffRecord {
  return { signedBy: s.signedBy, role: s.role, signedAt: s.signedAt, overrideReason: s.overrideReason };
}

export function amendmentRecordOf(a: { by: string; reason: string; at: string }): AmendmentRecord {
  return { by: a.by, reason: a.reason, at: a.at };
}

function cellTotal(counts: ClassCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
}

function blastPercentage(counts: ClassCounts, model: ModelRow | null): number | null {
  return computeDifferential(counts, model === null ? {} : { modelClasses: model.classes }).blast.percentage;
}

/** The CaseSummary fields: the case row's own, and the figures the caller computed from its cells and sign-offs. */
function summaryOf(
  db: MarrowDatabase,
  row: CaseRow,
  figures: Pick<CaseSummary, 'cellCount' | 'blastPercentage' | 'flaggedUnreviewed' | 'signedBy' | 'signedAt'>,
): CaseSummary {
  return {
    partial: partialResultOf(db, row),
    amended: isAmended(db, row.id),
    version: caseVersionOf(db, row.id).version,
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

export function caseSummaryOf(db: MarrowDatabase, row: CaseListRow, model: ModelRow | null): CaseSummary {
  return summaryOf(db, row, {
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
  const { signOffs, amendments, importFailures } = caseRecords(db, caseId);
  const latest = signOffs[signOffs.length - 1] ?? null;
  return {
    ...summaryOf(db, row, {
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
    importFailures,
    // On screen, a name recorded before accounts says so.
    signOffs: signOffs.map((s) => ({ ...signOffRecordOf(s), signedBy: recordedName(s.signedBy, s.userId) })),
    signatures: signaturesInForce(db, row, row.status === 'signed' ? latest : null),
    interpretiveComment: row.status === 'signed' ? (latest?.interpretiveComment ?? null) : null,
    amendments: amendments.map((a) => ({ ...amendmentRecordOf(a), by: recordedName(a.by, a.userId) })),
    sharedCrops: sharedCropsOf(db, caseId),
  };
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
    decision:
      cell.decision === null
        ? null
        : { label: cell.decision.label, reviewer: recordedName(cell.decision.reviewer, cell.decision.userId), at: cell.decision.at, note: cell.decision.note },
    effectiveLabel: cell.effectiveLabel,
    version: cell.version,
  };
}
