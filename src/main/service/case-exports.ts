// The exports of a case: per-class CSV, per-cell CSV, and the whole case as one JSON document. Their figures come
// from the same differential as the report (case-differential.ts).
import type { ExportFormat, SavedFile } from '../../shared/api';
import { caseAuditLog, getSettings, listCells, listReviews, type CellRow, type MarrowDatabase } from '../db';
import { writeAtomically } from '../files/write-atomically';
import { cellsCsvHeader, cellsCsvRows, classesCsv, type ExportCell } from '../report/exports';
import { analysedCase, caseStatusText, reviewFigures } from './case-differential';
import { partialResultOf } from './partial';
import { ServiceError } from './errors';
import { isResearchOnlyModel } from './research-only';
import { caseRecords, signOffRecordOf } from './views';

/** Cells read from the database per query when a whole case is walked. */
const PAGE_SIZE = 5000;

function* allCells(db: MarrowDatabase, caseId: number): Generator<CellRow> {
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const { rows, total } = listCells(db, { caseId, scope: 'all', offset, limit: PAGE_SIZE });
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
export function caseExportJson(db: MarrowDatabase, caseId: number, options: { appVersion?: string; exportedAt?: string; modelDir?: string } = {}): string {
  const { caseRow, model, differential } = analysedCase(db, caseId);
  const records = caseRecords(db, caseId);
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
      statusText: caseStatusText(db, caseRow),
      /** Set when the result is partial: the analysis stopped before every file was analysed. */
      partial: partialResultOf(db, caseRow),
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
    review: reviewFigures(db, caseId),
    cells,
    /** Every review row, retractions included: the full history of human decisions. */
    reviews: listReviews(db, caseId),
    signOffs: records.signOffs.map((s) => ({ ...signOffRecordOf(s), id: s.id })),
    amendments: records.amendments,
    importFailures: records.importFailures,
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
      const { caseRow, differential } = analysedCase(db, caseId);
      return writeAtomically(outPath, classesCsv(differential, caseStatusText(db, caseRow)));
    }
    case 'csv-cells': {
      const { caseRow } = analysedCase(db, caseId);
      const parts = [cellsCsvHeader()];
      const batch: ExportCell[] = [];
      for (const cell of allCells(db, caseId)) batch.push(exportCell(cell));
      parts.push(cellsCsvRows(batch, caseStatusText(db, caseRow)));
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
