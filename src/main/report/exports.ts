// The case exports' content, built from plain data: CSV per class, CSV per cell, JSON of the whole case.
// Figures are rounded exactly as in the PDF (1 decimal for percentages) so a CSV never disagrees with the report
// it accompanies; the JSON carries the unrounded values for anyone who recomputes.
import { flagReasonText } from '../../shared/flag-reasons';
import type { CellView } from '../../shared/api';
import type { Differential } from '../../shared/differential';
import { csvRecord } from './csv';

export const CLASSES_CSV_HEADER = [
  'code',
  'name',
  'count',
  'percent_of_ndc',
  'ci95_low_percent',
  'ci95_high_percent',
  'in_ndc',
  'per_100_ndc',
  'assessed_by_model',
  // Cells of the row counted on the model's prediction of a provisional class, with no human decision yet.
  'provisional_unreviewed',
  // The case's state on every row ("Cancelled — 256 of 1,800 files analysed"), so a partial result read in a
  // spreadsheet, without the report, still says it is partial.
  'case_status',
] as const;

const oneDecimal = (value: number | null | undefined): string => (value === null || value === undefined ? '' : value.toFixed(1));

/** One row per class (the 21 Matek classes, in report order): NDC classes first, then the excluded ones. */
export function classesCsv(differential: Differential, caseStatus: string): string {
  const per100 = new Map(differential.excluded.map((e) => [e.code, e.per100Ndc]));
  let text = csvRecord(CLASSES_CSV_HEADER);
  for (const row of differential.rows) {
    text += csvRecord([
      row.code,
      row.name,
      row.count,
      oneDecimal(row.percentOfNdc),
      oneDecimal(row.ci95?.lower),
      oneDecimal(row.ci95?.upper),
      row.inNdc,
      row.inNdc ? '' : oneDecimal(per100.get(row.code)),
      row.assessedByModel,
      row.provisionalUnreviewed,
      caseStatus,
    ]);
  }
  return text;
}

/** A cell as the review grid shows it, less what only a screen needs (its image URL, its top two classes). */
export type ExportCell = Omit<CellView, 'imageUrl' | 'top' | 'version'>;

export const CELLS_CSV_HEADER = [
  'image_id',
  'file',
  'predicted',
  'confidence',
  'flagged',
  'flag_reasons',
  'reviewed_label',
  'reviewer',
  'reviewed_at',
  'review_note',
  'effective_label',
  'case_status',
] as const;

export function cellsCsvHeader(): string {
  return csvRecord(CELLS_CSV_HEADER);
}

export function cellsCsvRows(cells: readonly ExportCell[], caseStatus: string): string {
  const parts: string[] = [];
  for (const cell of cells) {
    parts.push(
      csvRecord([
        cell.imageId,
        cell.file,
        cell.predicted,
        cell.confidence.toFixed(4),
        cell.flagged,
        cell.flagReasons.map(flagReasonText).join('; '),
        cell.decision?.label ?? '',
        cell.decision?.reviewer ?? '',
        cell.decision?.at ?? '',
        cell.decision?.note ?? '',
        cell.effectiveLabel,
        caseStatus,
      ]),
    );
  }
  return parts.join('');
}
