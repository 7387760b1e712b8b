// Row types returned by the repositories. Field names follow src/shared/api.ts where the meaning is the same, so
// the service maps rows to API views with little more than a spread. Times are ISO 8601 UTC strings.
import type { FlagReason } from '../../shared/flag-reasons';
import type { AmendmentRecord, CaseStatus, HumanDecision, SignOffRecord, SpecimenType } from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import type { ClassCounts } from '../../shared/differential';

export type { ClassCounts };

export interface PatientRow {
  id: number;
  labId: string;
  name: string | null;
  birthDate: string | null;
  createdAt: string;
}

export interface CaseRow {
  id: number;
  patientId: number;
  patientLabId: string;
  patientName: string | null;
  patientBirthDate: string | null;
  accession: string;
  specimen: SpecimenType;
  folder: string;
  status: CaseStatus;
  /** The model whose predictions count for this case (set when analysis starts); null before analysis. */
  modelRowId: number | null;
  createdAt: string;
  /** When the case last reached 'in_review' from 'analysing'. */
  analysedAt: string | null;
}

export interface CaseListRow extends CaseRow {
  /** Cells with an effective label (a prediction of the case's model, or a human decision). */
  cellCount: number;
  /** Effective labels per class, for the differential / blast % (computed by src/shared/differential). */
  countsByClass: ClassCounts;
  flaggedUnreviewed: number;
  /** Latest sign-off, if any (also when amended since). */
  signedBy: string | null;
  signedAt: string | null;
}

export interface ModelRow {
  /** Row id: what predictions and cases refer to. */
  id: number;
  /** The model package's id (model.json "id"). */
  modelId: string;
  version: string;
  sha256: string;
  name: string;
  /** Class codes in logit order: the order of every stored probability vector of this model. */
  classes: CellClassCode[];
  /** Classes learned from too little or the wrong kind of data: figures counting their unreviewed cells are provisional. */
  provisionalClasses: CellClassCode[];
  registeredAt: string;
}

export interface ImageRow {
  id: number;
  caseId: number;
  /** Path relative to the case folder. */
  relativePath: string;
  sha256: string;
  bytes: number;
  width: number | null;
  height: number | null;
  importError: string | null;
  /** Set when the same content was already imported in this case: such a row is never classified or counted. */
  duplicateOf: number | null;
  createdAt: string;
}

export interface PredictionRow {
  id: number;
  imageId: number;
  caseId: number;
  modelRowId: number;
  predicted: CellClassCode;
  /** In the model's class order (ModelRow.classes). */
  probabilities: number[];
  confidence: number;
  flagged: boolean;
  flagReasons: FlagReason[];
  createdAt: string;
}

export interface ReviewRow {
  id: number;
  caseId: number;
  imageId: number;
  /** 'decision' sets a label; 'retraction' withdraws the decision retractsReviewId (undo). */
  kind: 'decision' | 'retraction';
  label: CellClassCode | null;
  reviewer: string;
  note: string | null;
  retractsReviewId: number | null;
  createdAt: string;
  /** The account that made it (migration 0009); null for reviews recorded before accounts, by typed name. */
  userId: number | null;
}

export interface CellDecision extends HumanDecision {
  reviewId: number;
  /** The reviewer's account; null for a decision recorded by typed name before accounts. */
  userId: number | null;
}

export interface CellRow {
  imageId: number;
  caseId: number;
  relativePath: string;
  modelRowId: number;
  predicted: CellClassCode;
  /** In the order of `classes` (the model's class order). */
  probabilities: number[];
  classes: CellClassCode[];
  confidence: number;
  flagged: boolean;
  flagReasons: FlagReason[];
  /** Latest decision not retracted, or null. */
  decision: CellDecision | null;
  effectiveLabel: CellClassCode;
  /** The id of the cell's latest review row (decision or undo), 0 for none: what a decision is made against. */
  version: number;
}

export interface SignOffRow extends SignOffRecord {
  id: number;
  caseId: number;
  /** The signer's account; null for a sign-off recorded by typed name before accounts. */
  userId: number | null;
  validationSignatureId: number | null;
  authorisationSignatureId: number | null;
  interpretiveComment: string | null;
  /** JSON of the differential at signing, as given by the service. */
  summarySnapshot: string;
}

export interface AmendmentRow extends AmendmentRecord {
  id: number;
  /** The amending person's account; null before accounts. */
  userId: number | null;
  caseId: number;
  /** The sign-off this amendment re-opened. */
  signOffId: number;
}

export const AUDIT_ACTIONS = [
  'patient_saved',
  'case_created',
  'case_status_changed',
  'case_model_set',
  'images_imported',
  'model_registered',
  'predictions_added',
  'review_added',
  'review_retracted',
  'case_signed',
  'case_amended',
  'settings_changed',
  'lis_settings_changed',
  'lis_resend_requested',
  'lab_model_stored',
  'lab_model_approved',
  'lab_model_retired',
  'review_layout_changed',
  'patient_name_corrected',
  'remaining_files_excluded',
  'shared_crops_confirmed',
  'user_created',
  'user_enabled',
  'user_disabled',
  'user_roles_changed',
  'password_changed',
  'password_reset',
  'login',
  'login_failed',
  'account_locked_out',
  'logout',
  'session_locked',
  'session_unlocked',
  'unlock_failed',
  'security_settings_changed',
  'access_refused',
  'signature_refused',
  'signature_made',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: AuditAction;
  caseId: number | null;
  /** Parsed JSON detail of the change. */
  detail: unknown;
  /** The account the change is recorded against; null before accounts and for the system's own changes. */
  userId: number | null;
}
