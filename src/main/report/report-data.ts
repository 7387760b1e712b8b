// Everything a case report shows, as plain data. The PDF renderer is a pure function of this object (plus the
// thumbnails it is handed), so a report can be rendered and tested without a database, and the service that
// assembles it from the database (src/main/service/report.ts) is the only place that decides what the figures are.
import type { AmendmentRecord, ModelInfo, ReviewProgress, SignOffRecord, SpecimenType } from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import type { Differential } from '../../shared/differential';
import type { FlagReasonCount } from '../../shared/flag-reasons';
import type { CaseHistory } from '../../shared/marrow-history';

export interface ReportPatient {
  /** The lab's patient identifier (MRN). */
  labId: string;
  name: string | null;
  /** ISO date, YYYY-MM-DD. */
  birthDate: string | null;
}

/**
 * The model as the report names it (its class list is in the differential's "not assessable" rows; its provisional
 * classes in the differential's rows, warnings and M:E ratio).
 */
export type ReportModel = Omit<ModelInfo, 'classes' | 'provisionalClasses'>;

export interface ReportReviewStatistics extends ReviewProgress {
  /** Cells with an effective label (classified by the model). */
  cellsClassified: number;
  /** Share of reviewed cells where the reviewer kept the model's label, in percent; null when none was reviewed. */
  agreementPercent: number | null;
  /** Flagged cells per kind of reason (open-set, provisional class, low confidence, ...). */
  flagReasons: FlagReasonCount[];
}

export interface ReportPerson {
  name: string;
  /** Role as entered at sign-off (or in settings); null when the app does not know it. */
  role: string | null;
  /** ISO timestamp: the person's latest review decision, or the sign-off. */
  at: string;
}

export interface ReportGalleryCell {
  /** Absolute path of the crop on disk. */
  imagePath: string;
  /** Path relative to the case folder, printed under the thumbnail. */
  file: string;
  predicted: CellClassCode;
  /** Calibrated top-class probability, 0..1. */
  confidence: number;
  effectiveLabel: CellClassCode;
  flagged: boolean;
  /** The stored reasons; the PDF prints their kinds under the thumbnail. */
  flagReasons: string[];
  reviewed: boolean;
}

export interface CaseReportData {
  labName: string;
  caseId: number;
  patient: ReportPatient;
  accession: string;
  specimen: SpecimenType;
  /** ISO timestamps. */
  analysedAt: string | null;
  /** The latest review decision on any cell. */
  reviewedAt: string | null;
  /** The sign-off in force; null while unsigned. */
  signedAt: string | null;
  differential: Differential;
  review: ReportReviewStatistics;
  /** Null when the case was never analysed. */
  model: ReportModel | null;
  /** Version of the counting rules (src/shared/differential.ts) that produced the figures. */
  rulesVersion: string;
  /** People who reviewed cells, latest first. */
  reviewers: ReportPerson[];
  /** The sign-off in force; null while unsigned (the report is then a draft). */
  signOff: SignOffRecord | null;
  /** Every sign-off ever made, oldest first (earlier ones were amended). */
  signOffHistory: SignOffRecord[];
  amendments: AmendmentRecord[];
  /**
   * The electronic signatures in force, in order (technical validation, medical authorisation), printed on page 1
   * with their meanings; the technical validation alone while submitted; none for a draft.
   */
  signatures: { meaning: string; name: string; role: string; at: string }[];
  /** The authorising pathologist's interpretation; null when none (or not released). */
  interpretiveComment: string | null;
  /** Thumbnails: blast-equivalent cells and flagged cells, each list already capped. */
  gallery: { blasts: ReportGalleryCell[]; flagged: ReportGalleryCell[]; blastsTotal: number; flaggedTotal: number };
  /** Crops that could not be imported, counted so the report says cells are missing. */
  importFailures: number;
  /** The patient's earlier released marrows beside this case ("Previous marrows"); absent: the section is left out. */
  history?: CaseHistory | null;
  /** True while the case is not signed: every page is marked DRAFT. */
  draft: boolean;
  /** ISO timestamp the report was generated. */
  generatedAt: string;
  appVersion: string;
}
