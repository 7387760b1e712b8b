// The case report, assembled from the database. This is the only place that decides what the report's figures
// are: the differential is recomputed from the stored effective labels with the same counting core the UI uses
// (case-differential.ts), never read from a cache, so the report cannot disagree with the database. Shared by the
// app service (saveReport), the LIS bundle and the CLI's --report.
import { join } from 'node:path';
import { SIGNATURE_MEANING_TEXT, type SavedFile } from '../../shared/api';
import { ROLE_LABELS } from '../../shared/roles';
import { partialResultText } from '../../shared/case-lifecycle';
import { differentialChanges, type CorrectionNotice } from '../../shared/corrections';
import type { Differential } from '../../shared/differential';
import { BLAST_EQUIVALENT_CODES } from '../../shared/cell-classes';
import type { CaseRow, CellRow, SignOffRow } from '../db';
import type { Repositories } from '../db/contract';
import { writeAtomically } from '../files/write-atomically';
import { ReportError } from '../report/errors';
import { locateReportFonts } from '../report/fonts';
import { renderCaseReportPdf } from '../report/render-pdf';
import type { CaseReportData, ReportGalleryCell, ReportPerson } from '../report/report-data';
import { makeThumbnails } from '../report/thumbnails';
import { analysedCase, caseStatusText, reviewFigures } from './case-differential';
import { partialResultOf } from './partial';
import { ServiceError } from './errors';
import { loadCaseHistory } from './patient-history';
import { isResearchOnlyModel } from './research-only';
import { amendmentRecordOf, caseRecords, signaturesInForce, signOffRecordOf } from './views';

/** Thumbnails per gallery: enough to show what the blasts and the doubtful cells look like, few enough to print. */
export const GALLERY_LIMIT = 12;

export interface CaseReportOptions {
  /** Overrides the "not for diagnostic use" decision; by default isResearchOnlyModel(model, modelDir). */
  researchOnly?: boolean;
  /** The installed model package, whose model.json may clear the model of "research only" (see isResearchOnlyModel). */
  modelDir?: string;
  /** Printed in the footer; default "unknown". */
  appVersion?: string;
  /** Folder holding the embedded fonts; default: found next to the app (see report/fonts.ts). */
  fontsDir?: string;
  /** The report's "generated" time, ISO; default now. */
  generatedAt?: string;
}

function latestFirst(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function galleryCell(caseRow: CaseRow, cell: CellRow): ReportGalleryCell {
  return {
    imagePath: join(caseRow.folder, cell.relativePath),
    file: cell.relativePath,
    predicted: cell.predicted,
    confidence: cell.confidence,
    effectiveLabel: cell.effectiveLabel,
    flagged: cell.flagged,
    flagReasons: cell.flagReasons,
    reviewed: cell.decision !== null,
  };
}

/**
 * After an amendment: the release the report replaces, the reason, and each printed figure that changed, from the
 * differential stored with the replaced sign-off to the one released now (or, while a draft, the current one).
 */
export async function correctionNotice(
  repos: Repositories,
  caseRow: CaseRow,
  signOffs: readonly SignOffRow[],
  current: Differential,
): Promise<CorrectionNotice | null> {
  const amendments = await repos.cases.listAmendments(caseRow.id);
  const amendment = amendments[amendments.length - 1];
  if (amendment === undefined) return null;
  const replaced = signOffs.find((s) => s.id === amendment.signOffId);
  if (replaced === undefined) return null;
  const released = caseRow.status === 'signed';
  const latest = signOffs[signOffs.length - 1]!;
  // A sign-off stored without its differential (a hand-made or very old record) cannot be compared: say so.
  const differentialOf = (s: SignOffRow): Differential | null => {
    const stored = (JSON.parse(s.summarySnapshot) as { differential?: Differential }).differential;
    return stored !== undefined && Array.isArray(stored.rows) && stored.blast !== undefined ? stored : null;
  };
  const was = differentialOf(replaced);
  const now = released && latest.id !== replaced.id ? differentialOf(latest) : current;
  return {
    replaces: { signedAt: replaced.signedAt, signedBy: replaced.signedBy },
    amendedBy: amendment.by,
    amendedAt: amendment.at,
    reason: amendment.reason,
    changes: was === null || now === null ? null : differentialChanges(was, now),
    released: released && latest.id !== replaced.id,
  };
}

/** Everything the PDF shows, read from the database. Throws ServiceError 'conflict' for a case not yet analysed. */
export async function loadCaseReportData(repos: Repositories, caseId: number, options: CaseReportOptions = {}): Promise<CaseReportData> {
  const { caseRow, model, differential } = await analysedCase(repos, caseId);
  const figures = await reviewFigures(repos, caseId);
  const settings = await repos.settings.getSettings();
  const { signOffs, amendments, importFailures } = await caseRecords(repos, caseId);
  const signed = caseRow.status === 'signed';
  const signOff = signed ? (signOffs[signOffs.length - 1] ?? null) : null;

  // Reviewers and the latest review time, from the review history: every decision that was not undone. (A
  // decision later replaced by another still records who looked at the cell.)
  const reviews = await repos.reviews.listReviews(caseId);
  const retracted = new Set(reviews.flatMap((r) => (r.kind === 'retraction' && r.retractsReviewId !== null ? [r.retractsReviewId] : [])));
  // One line per reviewer: a person with an account by the account (its role from the account), a name recorded
  // before accounts existed as that name, said to be one.
  const latestByReviewer = new Map<string, { at: string; userId: number | null }>();
  for (const review of reviews) {
    if (review.kind !== 'decision' || retracted.has(review.id)) continue;
    const seen = latestByReviewer.get(review.reviewer);
    if (seen === undefined || review.createdAt > seen.at) latestByReviewer.set(review.reviewer, { at: review.createdAt, userId: review.userId });
  }
  const roleOf = async (name: string, userId: number | null): Promise<string | null> => {
    if (userId === null) return 'recorded name, before accounts';
    const roles = (await repos.users.getUser(userId)).roles;
    if (roles.includes('technician')) return ROLE_LABELS.technician;
    if (roles.includes('pathologist')) return ROLE_LABELS.pathologist;
    const own = signOffs.filter((s) => s.signedBy === name);
    return own.length > 0 ? own[own.length - 1]!.role : null;
  };
  const reviewers: ReportPerson[] = [];
  for (const [name, { at, userId }] of latestByReviewer) reviewers.push({ name, role: await roleOf(name, userId), at });
  reviewers.sort((a, b) => latestFirst(a.at, b.at));

  const blastPages = [];
  for (const code of BLAST_EQUIVALENT_CODES) {
    blastPages.push(await repos.cells.listCells({ caseId, scope: 'all', effectiveClass: code, offset: 0, limit: GALLERY_LIMIT }));
  }
  const flaggedPage = await repos.cells.listCells({ caseId, scope: 'flagged', offset: 0, limit: GALLERY_LIMIT });
  const signatures = await signaturesInForce(repos, caseRow, signOff);
  const statusText = await caseStatusText(repos, caseRow);
  const partial = await partialResultOf(repos, caseRow);
  const correction = await correctionNotice(repos, caseRow, signOffs, differential);
  const history = await loadCaseHistory(repos, caseId, async (modelRowId) => (modelRowId === null ? null : repos.models.getModel(modelRowId)));

  return {
    labName: settings.labName,
    caseId,
    patient: { labId: caseRow.patientLabId, name: caseRow.patientName, birthDate: caseRow.patientBirthDate },
    accession: caseRow.accession,
    specimen: caseRow.specimen,
    analysedAt: caseRow.analysedAt,
    reviewedAt: reviewers[0]?.at ?? null,
    signedAt: signOff?.signedAt ?? null,
    differential,
    review: {
      // Every classified cell has exactly one effective label, so the differential's total is the classified count.
      cellsClassified: differential.totalCellsCounted,
      flagged: figures.flagged,
      flaggedReviewed: figures.flaggedReviewed,
      reviewed: figures.reviewed,
      reclassified: figures.reclassified,
      agreementPercent: figures.agreementPercent,
      flagReasons: figures.flagReasons,
    },
    model: {
      id: model.modelId,
      version: model.version,
      name: model.name,
      sha256: model.sha256,
      researchOnly: options.researchOnly ?? isResearchOnlyModel(model, options.modelDir),
    },
    rulesVersion: differential.rulesVersion,
    reviewers,
    signOff: signOff === null ? null : signOffRecordOf(signOff),
    signOffHistory: signOffs.map(signOffRecordOf),
    amendments: amendments.map(amendmentRecordOf),
    signatures: signatures.map((s) => ({
      meaning: SIGNATURE_MEANING_TEXT[s.meaning],
      name: s.printedName,
      role: s.role,
      at: s.signedAt,
    })),
    interpretiveComment: signOff?.interpretiveComment ?? null,
    statusText,
    partialNotice: partialResultText(partial),
    correction,
    gallery: {
      blasts: blastPages
        .flatMap((page) => page.rows)
        .slice(0, GALLERY_LIMIT)
        .map((cell) => galleryCell(caseRow, cell)),
      blastsTotal: blastPages.reduce((sum, page) => sum + page.total, 0),
      flagged: flaggedPage.rows.map((cell) => galleryCell(caseRow, cell)),
      flaggedTotal: flaggedPage.total,
    },
    importFailures: importFailures.length,
    history,
    draft: !signed,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    appVersion: options.appVersion ?? 'unknown',
  };
}

/** Renders the case's PDF report (DRAFT while unsigned) to outPath. */
export async function writeCaseReport(repos: Repositories, caseId: number, outPath: string, options: CaseReportOptions = {}): Promise<SavedFile> {
  return writeAtomically(outPath, await renderCaseReport(repos, caseId, options));
}

/** The case's PDF report (DRAFT while unsigned) as bytes: what writeCaseReport saves and the LIS bundle carries. */
export async function renderCaseReport(repos: Repositories, caseId: number, options: CaseReportOptions = {}): Promise<Buffer> {
  const data = await loadCaseReportData(repos, caseId, options);
  let fonts;
  try {
    fonts = locateReportFonts(options.fontsDir);
  } catch (e) {
    if (e instanceof ReportError) throw new ServiceError('io', e.message, { detail: e.path, cause: e });
    throw e;
  }
  const thumbnails = await makeThumbnails([...data.gallery.blasts, ...data.gallery.flagged].map((cell) => cell.imagePath));
  return renderCaseReportPdf(data, { fonts, thumbnails });
}
