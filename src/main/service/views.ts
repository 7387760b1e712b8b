// Storage rows → the API's views. Kept apart from the business rules so that every method shows a case or a cell
// the same way.
import type { AmendmentRecord, CaseDetail, CaseSummary, CellView, ImportFailure, ModelInfo, SignatureRecord, SignOffRecord } from '../../shared/api';
import { ROLE_LABELS } from '../../shared/roles';
import { partialResultOf } from './partial';
import { sharedCropsOf } from './shared-crops';
import { computeDifferential } from '../../shared/differential';
import {
  topClasses,
  type CaseListRow,
  type CaseRow,
  type CellRow,
  type ClassCounts,
  type ModelRow,
  type SignatureRow,
  type AmendmentRow,
  type SignOffRow,
} from '../db';
import type { Repositories } from '../db/contract';
import type { ModelLookup, ServiceContext } from './context';
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
export async function caseRecords(
  repos: Repositories,
  caseId: number,
): Promise<{ signOffs: SignOffRow[]; amendments: AmendmentRow[]; importFailures: ImportFailure[] }> {
  return {
    signOffs: chronologicalSignOffs(await repos.cases.listSignOffs(caseId)),
    amendments: await repos.cases.listAmendments(caseId),
    importFailures: await repos.images.listImportFailures(caseId),
  };
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
async function summaryOf(
  repos: Repositories,
  row: CaseRow,
  figures: Pick<CaseSummary, 'cellCount' | 'blastPercentage' | 'flaggedUnreviewed' | 'signedBy' | 'signedAt'>,
): Promise<CaseSummary> {
  return {
    partial: await partialResultOf(repos, row),
    amended: await repos.cases.isAmended(row.id),
    version: (await repos.cases.caseVersionOf(row.id)).version,
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

export function caseSummaryOf(repos: Repositories, row: CaseListRow, model: ModelRow | null): Promise<CaseSummary> {
  return summaryOf(repos, row, {
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
export async function signaturesInForce(repos: Repositories, row: { id: number; status: string }, latest: SignOffRow | null): Promise<SignatureRecord[]> {
  const all = await repos.signatures.listSignatures(row.id);
  let chosen: SignatureRow[] = [];
  if (row.status === 'signed' && latest !== null) {
    chosen = all.filter((s) => s.id === latest.validationSignatureId || s.id === latest.authorisationSignatureId);
  } else if (row.status === 'submitted') {
    const validation = all.filter((s) => s.meaning === 'technical_validation').pop();
    chosen = validation === undefined ? [] : [validation];
  }
  return chosen.map((s) => ({ userId: s.userId, printedName: s.printedName, role: ROLE_LABELS[s.role], meaning: s.meaning, signedAt: s.signedAt }));
}

/** The case as its screen shows it; `repos` is the store, or a transaction's repositories to read its own writes. */
export async function caseDetail(ctx: ServiceContext, caseId: number, modelOf: ModelLookup, repos: Repositories = ctx.store): Promise<CaseDetail> {
  const tx = repos === ctx.store ? undefined : repos;
  const row = await repos.cases.getCase(caseId);
  const model = await modelOf(row.modelRowId, tx);
  const counts = row.modelRowId === null ? {} : await repos.cells.effectiveCountsByClass(caseId);
  const progress = await repos.cells.reviewProgress(caseId);
  const { signOffs, amendments, importFailures } = await caseRecords(repos, caseId);
  const latest = signOffs[signOffs.length - 1] ?? null;
  return {
    ...(await summaryOf(repos, row, {
      cellCount: cellTotal(counts),
      blastPercentage: row.modelRowId === null ? null : blastPercentage(counts, model),
      flaggedUnreviewed: progress.flagged - progress.flaggedReviewed,
      signedBy: latest?.signedBy ?? null,
      signedAt: latest?.signedAt ?? null,
    })),
    folder: row.folder,
    ...(await repos.patientHistory.caseSpecimenDate(caseId)),
    patientBirthDate: row.patientBirthDate,
    model: model === null ? null : modelInfoOf(model, ctx.options.modelDir),
    analysedAt: row.analysedAt,
    importFailures,
    // On screen, a name recorded before accounts says so.
    signOffs: signOffs.map((s) => ({ ...signOffRecordOf(s), signedBy: recordedName(s.signedBy, s.userId) })),
    signatures: await signaturesInForce(repos, row, row.status === 'signed' ? latest : null),
    interpretiveComment: row.status === 'signed' ? (latest?.interpretiveComment ?? null) : null,
    amendments: amendments.map((a) => ({ ...amendmentRecordOf(a), by: recordedName(a.by, a.userId) })),
    sharedCrops: await sharedCropsOf(repos, caseId),
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
