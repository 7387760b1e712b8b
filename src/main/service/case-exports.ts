// The exports of a case: per-class CSV, per-cell CSV, and the whole case as one JSON document. Their figures come
// from the same differential as the report (case-differential.ts).
import type { ExportFormat, SavedFile } from '../../shared/api';
import {
  caseAuditLog,
  getCase,
  getModel,
  getSettings,
  listAmendments,
  listCells,
  listImportFailures,
  listReviews,
  listSignOffs,
  type CellRow,
  type MarrowDatabase,
} from '../db';
import { writeAtomically } from '../files/write-atomically';
import { cellsCsvHeader, cellsCsvRows, classesCsv, type ExportCell } from '../report/exports';
import { caseDifferential, reviewFigures } from './case-differential';
import { requireAnalysed } from './case-report';
import { ServiceError } from './errors';
import { isResearchOnlyModel } from './research-only';
import { chronologicalSignOffs, signOffRecordOf } from './views';

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
    review: reviewFigures(db, caseId),
    cells,
    /** Every review row, retractions included: the full history of human decisions. */
    reviews: listReviews(db, caseId),
    signOffs: chronologicalSignOffs(listSignOffs(db, caseId)).map((s) => ({ ...signOffRecordOf(s), id: s.id })),
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
