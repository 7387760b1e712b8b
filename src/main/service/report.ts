// The case report and the exports, assembled from the database. This is the only place that decides what the
// report's figures are: the differential is recomputed here from the stored effective labels with the same
// counting core the UI uses (src/shared/differential), never read from a cache, so the report cannot disagree with
// the database. Shared by the app service (saveReport/exportCase) and the CLI's --report.
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SIGNATURE_MEANING_TEXT, type ExportFormat, type SavedFile } from '../../shared/api';
import { signaturesInForce } from './views';
import { BLAST_EQUIVALENT_CODES } from '../../shared/cell-classes';
import { computeDifferential, type Differential, type DifferentialOptions } from '../../shared/differential';
import { countFlagReasons } from '../../shared/flag-reasons';
import {
  caseAuditLog,
  effectiveCountsByClass,
  flaggedCellReasons,
  unreviewedCountsByPredictedClass,
  getCase,
  getModel,
  getSettings,
  listAmendments,
  listCells,
  listImportFailures,
  listReviews,
  listSignOffs,
  reviewProgress,
  type CaseRow,
  type CellRow,
  type MarrowDatabase,
  type ModelRow,
  type SignOffRow,
  getUser,
} from '../db';
import { ROLE_LABELS } from '../../shared/roles';
import { parseModelManifest } from '../inference/model-manifest';
import { ReportError } from '../report/errors';
import { cellsCsvHeader, cellsCsvRows, classesCsv, type ExportCell } from '../report/exports';
import { locateReportFonts } from '../report/fonts';
import { renderCaseReportPdf } from '../report/render-pdf';
import type { CaseReportData, ReportGalleryCell, ReportPerson } from '../report/report-data';
import { makeThumbnails } from '../report/thumbnails';
import { ServiceError } from './errors';
import { loadCaseHistory } from './patient-history';

/** The bundled model trained on the public Matek subset; its manifest leaves it research-only. */
export const REFERENCE_MODEL_ID = 'marrowcount-ref';
/** Thumbnails per gallery: enough to show what the blasts and the doubtful cells look like, few enough to print. */
export const GALLERY_LIMIT = 12;
/** Cells read from the database per query when a whole case is walked (exports, reviewer list). */
const PAGE_SIZE = 5000;

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

/**
 * The one rule for "research and evaluation only" (the About box, case views, sign-off snapshots, reports and
 * exports): a model is research-only unless its own manifest says `researchOnly: false` (model-manifest.ts). The
 * database does not store the flag, so it is read from the model package in `modelDir`, and only trusted when that
 * manifest describes the very model file the case was analysed with (same SHA-256). With no folder given, no
 * readable or valid model.json there, or another model installed since, the answer is unknown and therefore
 * research-only: a report must never lose its disclaimer by accident.
 */
export function isResearchOnlyModel(model: Pick<ModelRow, 'sha256'>, modelDir?: string): boolean {
  if (modelDir === undefined) return true;
  const manifest = installedManifest(modelDir);
  return !(manifest !== null && manifest.sha256 === model.sha256.toLowerCase() && manifest.researchOnly === false);
}

interface ManifestFlag {
  sha256: string;
  researchOnly: boolean;
}

/** model.json is re-read only when it changes (size or time), so case views can ask on every call. */
const manifestCache = new Map<string, { stamp: string; manifest: ManifestFlag | null }>();

function installedManifest(modelDir: string): ManifestFlag | null {
  const path = join(modelDir, 'model.json');
  let stamp: string;
  try {
    const info = statSync(path);
    stamp = `${info.size}:${info.mtimeMs}`;
  } catch {
    return null; // no model installed there: unknown, so research-only (see isResearchOnlyModel)
  }
  const cached = manifestCache.get(path);
  if (cached?.stamp === stamp) return cached.manifest;
  let manifest: ManifestFlag | null;
  try {
    const parsed = parseModelManifest(JSON.parse(readFileSync(path, 'utf8')), path);
    manifest = { sha256: parsed.sha256.toLowerCase(), researchOnly: parsed.researchOnly };
  } catch {
    // An unreadable or invalid model.json cannot clear a model; the About box and the analysis report the problem.
    manifest = null;
  }
  manifestCache.set(path, { stamp, manifest });
  return manifest;
}

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

function* allCells(db: MarrowDatabase, caseId: number): Generator<CellRow> {
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const { rows, total } = listCells(db, { caseId, scope: 'all', offset, limit: PAGE_SIZE });
    yield* rows;
    if (rows.length === 0 || offset + rows.length >= total) return;
  }
}

function latestFirst(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/**
 * Sign-offs oldest first (ties in the order they were stored): the last one is the case's current sign-off. The one
 * order for the report, the export and the case view.
 */
export function chronologicalSignOffs(signOffs: readonly SignOffRow[]): SignOffRow[] {
  return [...signOffs].sort((a, b) => (a.signedAt === b.signedAt ? a.id - b.id : a.signedAt < b.signedAt ? -1 : 1));
}

function requireAnalysed(caseRow: CaseRow): void {
  if (caseRow.modelRowId === null || caseRow.status === 'importing' || caseRow.status === 'analysing') {
    throw new ServiceError(
      'conflict',
      `Case ${caseRow.accession} has not finished analysis (status: ${caseRow.status}); a report or export is available once its cells are classified.`,
      { field: 'caseId' },
    );
  }
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

/** Everything the PDF shows, read from the database. Throws ServiceError 'conflict' for a case not yet analysed. */
export function loadCaseReportData(db: MarrowDatabase, caseId: number, options: CaseReportOptions = {}): CaseReportData {
  const caseRow = getCase(db, caseId);
  requireAnalysed(caseRow);
  const model = getModel(db, caseRow.modelRowId as number);
  const differential = caseDifferential(db, caseRow, model);
  const progress = reviewProgress(db, caseId);
  const settings = getSettings(db);
  const signOffs = chronologicalSignOffs(listSignOffs(db, caseId));
  const signed = caseRow.status === 'signed';
  const signOff = signed ? (signOffs[signOffs.length - 1] ?? null) : null;

  // Reviewers and the latest review time, from the review history: every decision that was not undone. (A
  // decision later replaced by another still records who looked at the cell.)
  const reviews = listReviews(db, caseId);
  const retracted = new Set(reviews.flatMap((r) => (r.kind === 'retraction' && r.retractsReviewId !== null ? [r.retractsReviewId] : [])));
  // One line per reviewer: a person with an account by the account (its role from the account), a name recorded
  // before accounts existed as that name, said to be one.
  const latestByReviewer = new Map<string, { at: string; userId: number | null }>();
  for (const review of reviews) {
    if (review.kind !== 'decision' || retracted.has(review.id)) continue;
    const seen = latestByReviewer.get(review.reviewer);
    if (seen === undefined || review.createdAt > seen.at) latestByReviewer.set(review.reviewer, { at: review.createdAt, userId: review.userId });
  }
  const roleOf = (name: string, userId: number | null): string | null => {
    if (userId === null) return 'recorded name, before accounts';
    const roles = getUser(db, userId).roles;
    if (roles.includes('technician')) return ROLE_LABELS.technician;
    if (roles.includes('pathologist')) return ROLE_LABELS.pathologist;
    const own = signOffs.filter((s) => s.signedBy === name);
    return own.length > 0 ? own[own.length - 1]!.role : null;
  };
  const reviewers: ReportPerson[] = [...latestByReviewer.entries()]
    .map(([name, { at, userId }]) => ({ name, role: roleOf(name, userId), at }))
    .sort((a, b) => latestFirst(a.at, b.at));

  const blastPages = BLAST_EQUIVALENT_CODES.map((code) =>
    listCells(db, { caseId, scope: 'all', effectiveClass: code, offset: 0, limit: GALLERY_LIMIT }),
  );
  const flaggedPage = listCells(db, { caseId, scope: 'flagged', offset: 0, limit: GALLERY_LIMIT });

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
      flagged: progress.flagged,
      flaggedReviewed: progress.flaggedReviewed,
      reviewed: progress.reviewed,
      reclassified: progress.reclassified,
      agreementPercent: progress.reviewed > 0 ? ((progress.reviewed - progress.reclassified) / progress.reviewed) * 100 : null,
      flagReasons: countFlagReasons(flaggedCellReasons(db, caseId)),
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
    signOff: signOff === null ? null : toSignOffRecord(signOff),
    signOffHistory: signOffs.map(toSignOffRecord),
    amendments: listAmendments(db, caseId).map((a) => ({ by: a.by, reason: a.reason, at: a.at })),
    signatures: signaturesInForce(db, caseRow, signOff).map((s) => ({ meaning: SIGNATURE_MEANING_TEXT[s.meaning], name: s.printedName, role: s.role, at: s.signedAt })),
    interpretiveComment: signOff?.interpretiveComment ?? null,
    gallery: {
      blasts: blastPages.flatMap((page) => page.rows).slice(0, GALLERY_LIMIT).map((cell) => galleryCell(caseRow, cell)),
      blastsTotal: blastPages.reduce((sum, page) => sum + page.total, 0),
      flagged: flaggedPage.rows.map((cell) => galleryCell(caseRow, cell)),
      flaggedTotal: flaggedPage.total,
    },
    importFailures: listImportFailures(db, caseId).length,
    history: loadCaseHistory(db, caseId, (modelRowId) => (modelRowId === null ? null : getModel(db, modelRowId))),
    draft: !signed,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    appVersion: options.appVersion ?? 'unknown',
  };
}

function toSignOffRecord(s: SignOffRow) {
  return { signedBy: s.signedBy, role: s.role, signedAt: s.signedAt, overrideReason: s.overrideReason };
}

/**
 * Writes to a temporary file beside the target and renames it into place, so a reader (the PDF viewer, a LIS
 * import) never sees half a file, and a failed write leaves any earlier report untouched.
 */
export function writeAtomically(outPath: string, content: string | Buffer): SavedFile {
  const temporary = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.partial`);
  try {
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(temporary, content);
    renameSync(temporary, outPath);
    return { path: outPath, bytes: statSync(outPath).size };
  } catch (e) {
    try {
      unlinkSync(temporary);
    } catch (cleanup) {
      // Nothing was written, or it is already gone: the write error below is the one to report.
      void cleanup;
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw new ServiceError('io', `Could not write ${outPath}: ${reason}. Choose a folder you can write to.`, {
      field: 'path',
      cause: e,
    });
  }
}

/** Renders the case's PDF report (DRAFT while unsigned) to outPath. */
export async function writeCaseReport(
  db: MarrowDatabase,
  caseId: number,
  outPath: string,
  options: CaseReportOptions = {},
): Promise<SavedFile> {
  return writeAtomically(outPath, await renderCaseReport(db, caseId, options));
}

/** The case's PDF report (DRAFT while unsigned) as bytes: what writeCaseReport saves and the LIS bundle carries. */
export async function renderCaseReport(db: MarrowDatabase, caseId: number, options: CaseReportOptions = {}): Promise<Buffer> {
  const data = loadCaseReportData(db, caseId, options);
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

function exportCell(cell: CellRow): ExportCell {
  return {
    imageId: cell.imageId,
    file: cell.relativePath,
    predicted: cell.predicted,
    confidence: cell.confidence,
    flagged: cell.flagged,
    flagReasons: cell.flagReasons,
    decision:
      cell.decision === null
        ? null
        : { label: cell.decision.label, reviewer: cell.decision.reviewer, at: cell.decision.at, note: cell.decision.note },
    effectiveLabel: cell.effectiveLabel,
  };
}

export const CASE_EXPORT_FORMAT = 'marrowcount-case-export';
export const CASE_EXPORT_FORMAT_VERSION = 1;

/** The whole case as one JSON document: what a LIS or an auditor needs without the app. */
export function caseExportJson(
  db: MarrowDatabase,
  caseId: number,
  options: { appVersion?: string; exportedAt?: string; modelDir?: string } = {},
): string {
  const caseRow = getCase(db, caseId);
  requireAnalysed(caseRow);
  const model = getModel(db, caseRow.modelRowId as number);
  const differential = caseDifferential(db, caseRow, model);
  const progress = reviewProgress(db, caseId);
  const cells = [];
  for (const cell of allCells(db, caseId)) {
    cells.push({
      ...exportCell(cell),
      probabilities: Object.fromEntries(cell.classes.map((code, i) => [code, cell.probabilities[i]])),
    });
  }
  const document = {
    format: CASE_EXPORT_FORMAT,
    formatVersion: CASE_EXPORT_FORMAT_VERSION,
    exportedAt: options.exportedAt ?? new Date().toISOString(),
    appVersion: options.appVersion ?? 'unknown',
    labName: getSettings(db).labName,
    case: {
      id: caseRow.id,
      accession: caseRow.accession,
      specimen: caseRow.specimen,
      folder: caseRow.folder,
      status: caseRow.status,
      createdAt: caseRow.createdAt,
      analysedAt: caseRow.analysedAt,
    },
    patient: { labId: caseRow.patientLabId, name: caseRow.patientName, birthDate: caseRow.patientBirthDate },
    model: {
      id: model.modelId,
      version: model.version,
      name: model.name,
      sha256: model.sha256,
      classes: model.classes,
      researchOnly: isResearchOnlyModel(model, options.modelDir),
    },
    differential,
    review: {
      ...progress,
      agreementPercent: progress.reviewed > 0 ? ((progress.reviewed - progress.reclassified) / progress.reviewed) * 100 : null,
      flagReasons: countFlagReasons(flaggedCellReasons(db, caseId)),
    },
    cells,
    /** Every review row, retractions included: the full history of human decisions. */
    reviews: listReviews(db, caseId),
    signOffs: chronologicalSignOffs(listSignOffs(db, caseId)).map((s) => ({ ...toSignOffRecord(s), id: s.id })),
    amendments: listAmendments(db, caseId),
    importFailures: listImportFailures(db, caseId),
    audit: caseAuditLog(db, caseId),
  };
  // Compact: a 20,000-cell case is 15 MB compact and 21 MB indented (measured), and programs read it, not people.
  return `${JSON.stringify(document)}\n`;
}

/** Writes one export of the case: per-class CSV, per-cell CSV or the whole case as JSON. */
export function writeCaseExport(
  db: MarrowDatabase,
  caseId: number,
  format: ExportFormat,
  outPath: string,
  options: { appVersion?: string; exportedAt?: string; modelDir?: string } = {},
): SavedFile {
  switch (format) {
    case 'csv-classes': {
      const caseRow = getCase(db, caseId);
      requireAnalysed(caseRow);
      return writeAtomically(outPath, classesCsv(caseDifferential(db, caseRow, getModel(db, caseRow.modelRowId as number))));
    }
    case 'csv-cells': {
      const caseRow = getCase(db, caseId);
      requireAnalysed(caseRow);
      const parts = [cellsCsvHeader()];
      const batch: ExportCell[] = [];
      for (const cell of allCells(db, caseId)) batch.push(exportCell(cell));
      parts.push(cellsCsvRows(batch));
      return writeAtomically(outPath, parts.join(''));
    }
    case 'json':
      return writeAtomically(outPath, caseExportJson(db, caseId, options));
    default: {
      const unknown: never = format;
      throw new ServiceError('validation', `Unknown export format ${JSON.stringify(unknown)}; expected csv-classes, csv-cells or json.`, {
        field: 'format',
      });
    }
  }
}
