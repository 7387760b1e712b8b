// The exports of a case: per-class CSV, per-cell CSV, and the whole case as one JSON document. Their figures come
// from the same differential as the report (case-differential.ts).
import type { ExportFormat, SavedFile } from '../../shared/api';
import type { CellRow } from '../db';
import type { Repositories } from '../db/contract';
import { writeAtomically } from '../files/write-atomically';
import { cellsCsvHeader, cellsCsvRows, classesCsv, type ExportCell } from '../report/exports';
import { analysedCase, caseStatusText, reviewFigures } from './case-differential';
import { partialResultOf } from './partial';
import { ServiceError } from './errors';
import { isResearchOnlyModel } from './research-only';
import { caseRecords, signOffRecordOf } from './views';

/** Cells read from the database per query when a whole case is walked. */
const PAGE_SIZE = 5000;

async function* allCells(repos: Repositories, caseId: number): AsyncGenerator<CellRow> {
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const { rows, total } = await repos.cells.listCells({ caseId, scope: 'all', offset, limit: PAGE_SIZE });
    yield* rows;
    if (rows.length === 0 || offset + rows.length >= total) return;
  }
}

function exportCell(cell: CellRow): ExportCell {
  return {
    imageId: cell.imageId,
    file: cell.relativePath,
    predicted: cell.predicted,
    confidence: cell.confidence,
    flagged: cell.flagged,
    flagReasons: cell.flagReasons,
    decision: cell.decision === null ? null : { label: cell.decision.label, reviewer: cell.decision.reviewer, at: cell.decision.at, note: cell.decision.note },
    effectiveLabel: cell.effectiveLabel,
  };
}

export const CASE_EXPORT_FORMAT = 'marrowcount-case-export';
export const CASE_EXPORT_FORMAT_VERSION = 1;

/** The whole case as one JSON document: what a LIS or an auditor needs without the app. */
export async function caseExportJson(
  repos: Repositories,
  caseId: number,
  options: { appVersion?: string; exportedAt?: string; modelDir?: string } = {},
): Promise<string> {
  const { caseRow, model, differential } = await analysedCase(repos, caseId);
  const records = await caseRecords(repos, caseId);
  const cells = [];
  for await (const cell of allCells(repos, caseId)) {
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
    labName: (await repos.settings.getSettings()).labName,
    case: {
      id: caseRow.id,
      accession: caseRow.accession,
      specimen: caseRow.specimen,
      folder: caseRow.folder,
      status: caseRow.status,
      statusText: await caseStatusText(repos, caseRow),
      /** Set when the result is partial: the analysis stopped before every file was analysed. */
      partial: await partialResultOf(repos, caseRow),
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
    review: await reviewFigures(repos, caseId),
    cells,
    /** Every review row, retractions included: the full history of human decisions. */
    reviews: await repos.reviews.listReviews(caseId),
    signOffs: records.signOffs.map((s) => ({ ...signOffRecordOf(s), id: s.id })),
    amendments: records.amendments,
    importFailures: records.importFailures,
    audit: await repos.audit.caseAuditLog(caseId),
  };
  // Compact: a 20,000-cell case is 15 MB compact and 21 MB indented (measured), and programs read it, not people.
  return `${JSON.stringify(document)}\n`;
}

/** Writes one export of the case: per-class CSV, per-cell CSV or the whole case as JSON. */
export async function writeCaseExport(
  repos: Repositories,
  caseId: number,
  format: ExportFormat,
  outPath: string,
  options: { appVersion?: string; exportedAt?: string; modelDir?: string } = {},
): Promise<SavedFile> {
  switch (format) {
    case 'csv-classes': {
      const { caseRow, differential } = await analysedCase(repos, caseId);
      return writeAtomically(outPath, classesCsv(differential, await caseStatusText(repos, caseRow)));
    }
    case 'csv-cells': {
      const { caseRow } = await analysedCase(repos, caseId);
      const parts = [cellsCsvHeader()];
      const batch: ExportCell[] = [];
      for await (const cell of allCells(repos, caseId)) batch.push(exportCell(cell));
      parts.push(cellsCsvRows(batch, await caseStatusText(repos, caseRow)));
      return writeAtomically(outPath, parts.join(''));
    }
    case 'json':
      return writeAtomically(outPath, await caseExportJson(repos, caseId, options));
    default: {
      const unknown: never = format;
      throw new ServiceError('validation', `Unknown export format ${JSON.stringify(unknown)}; expected csv-classes, csv-cells or json.`, {
        field: 'format',
      });
    }
  }
}
