// The one contract between the renderer and the main process. Every transport implements it:
// the Electron preload (IPC), the loopback HTTP host used by browser tests, and in-process callers (the CLI).
// Methods take and return plain, serialisable data only, so the same shapes cross IPC and JSON unchanged.
// Analysis progress is polled (getAnalysisProgress) rather than pushed, so every transport stays request/response.
import type { CellClassCode } from './cell-classes';
import type { Differential } from './differential';
import type { FlagReason } from './flag-reasons';
import type { CaseLisStatus, LisSettings } from './lis';
import type { LabValidation } from './lab-training';
import type { Role } from './roles';
import type { ReviewLayout } from './review-layout';
import type { CaseHistory, PatientHistory, SpecimenDateSource } from './marrow-history';

export type { LabValidation } from './lab-training';
export type { ReviewLayout } from './review-layout';
export type { CaseHistory, MarrowComparison, MarrowFigures, MarrowResult, PatientHistory } from './marrow-history';

// The statuses and their rules live in case-lifecycle.ts; re-exported here so that imports of the contract keep working.
export { CASE_STATUSES, type CaseStatus, type PartialResult } from './case-lifecycle';
import type { CaseStatus, PartialResult } from './case-lifecycle';

export const SPECIMEN_TYPES = ['bone_marrow_aspirate', 'bone_marrow_imprint', 'peripheral_blood', 'other'] as const;
export type SpecimenType = (typeof SPECIMEN_TYPES)[number];

export interface PatientInput {
  /** The lab's patient identifier (MRN); required. */
  labId: string;
  name?: string;
  /** ISO date, YYYY-MM-DD. */
  birthDate?: string;
}

export interface NewCaseInput {
  patient: PatientInput;
  /** Accession / case number; unique per lab. */
  accession: string;
  specimen: SpecimenType;
  /** Absolute path of the folder holding the case's single-cell crops. */
  folder: string;
  /** YYYY-MM-DD: the day the specimen was taken (history orders a patient's marrows by it). Absent: the case's creation day stands in, and history says so. */
  specimenDate?: string;
  /**
   * Given when the folder's crops (by content) already belong to another patient's case and the person confirms
   * that they belong to this patient too: the reason is recorded with the session's person, per other case.
   * Without it such a folder is refused as 'shared_crops', naming the other case and patient.
   */
  confirmSharedCrops?: { reason: string };
}

/** A recorded confirmation that this case's crops are also another patient's case's (issue 21). */
export interface SharedCropsRecord {
  otherCaseId: number;
  otherAccession: string;
  otherPatientLabId: string;
  otherPatientName: string | null;
  /** Distinct image contents the two cases share. */
  sharedFiles: number;
  reason: string;
  confirmedBy: string;
  confirmedAt: string;
}

export interface CaseFilter {
  /** Matches patient identifier, patient name or accession number (case-insensitive substring). */
  search?: string;
  status?: CaseStatus;
  limit?: number;
  offset?: number;
}

export interface CaseSummary {
  id: number;
  patientLabId: string;
  patientName: string | null;
  accession: string;
  specimen: SpecimenType;
  createdAt: string;
  status: CaseStatus;
  /** Cells with an effective label (prediction or review); null before analysis. */
  cellCount: number;
  /** Blast % of the nucleated differential from effective labels; null when the NDC is empty. */
  blastPercentage: number | null;
  flaggedUnreviewed: number;
  /** Latest sign-off, if any. */
  signedBy: string | null;
  signedAt: string | null;
  /** Set while the result is partial: the latest analysis stopped and no complete run followed (statusText says so). */
  partial: PartialResult | null;
  /** The case was amended after a release at least once. */
  amended: boolean;
  /**
   * Changes with every decision, status or model change of the case (not with LIS deliveries). Sign-off and
   * amendment may name the version the person saw; a case changed since is refused as 'stale'.
   */
  version: number;
}

export interface ImportFailure {
  /** Path relative to the case folder. */
  file: string;
  reason: string;
}

export interface ModelInfo {
  id: string;
  version: string;
  name: string;
  sha256: string;
  classes: CellClassCode[];
  /** Classes learned only from peripheral-blood images (or otherwise provisional): their figures say so until reviewed. */
  provisionalClasses: CellClassCode[];
  /** True unless the model's own manifest says researchOnly: false; such models' reports carry "not for diagnostic use". */
  researchOnly: boolean;
}

export interface SignOffRecord {
  signedBy: string;
  role: string;
  signedAt: string;
  overrideReason: string | null;
}

export interface AmendmentRecord {
  by: string;
  reason: string;
  at: string;
}

export interface CaseDetail extends CaseSummary {
  folder: string;
  /** YYYY-MM-DD: the day the specimen was taken, or for cases created before it was recorded, the case's creation day. */
  specimenDate: string;
  specimenDateSource: SpecimenDateSource;
  patientBirthDate: string | null;
  model: ModelInfo | null;
  analysedAt: string | null;
  importFailures: ImportFailure[];
  signOffs: SignOffRecord[];
  /** The signatures in force: of the release when signed, the technical validation while submitted, else none. */
  signatures: SignatureRecord[];
  /** The authorising pathologist's interpretation of the result in force; null when none. */
  interpretiveComment: string | null;
  amendments: AmendmentRecord[];
  /** Crops this case shares with other patients' cases, as confirmed when it was created; empty for most cases. */
  sharedCrops: SharedCropsRecord[];
}

export type AnalysisPhase = 'importing' | 'classifying' | 'done' | 'cancelled' | 'failed';

export interface AnalysisProgress {
  caseId: number;
  phase: AnalysisPhase;
  done: number;
  total: number;
  /** Of `done`: cells classified (this run and earlier), files that failed to import, copies of other files. */
  classified: number;
  failed: number;
  duplicates: number;
  cellsPerSecond: number;
  /** Seconds left at the current rate; null until a rate is known. */
  etaSeconds: number | null;
  failures: ImportFailure[];
  /** Set when phase is 'failed': what went wrong and what to do. */
  message: string | null;
}

export interface ReviewProgress {
  flagged: number;
  flaggedReviewed: number;
  /** All cells with a current human decision, flagged or not. */
  reviewed: number;
  /** Reviewed cells whose human label differs from the model's. */
  reclassified: number;
}

export interface CaseDifferential {
  caseId: number;
  differential: Differential;
  review: ReviewProgress;
}

export interface HumanDecision {
  label: CellClassCode;
  reviewer: string;
  at: string;
  note: string | null;
}

export interface CellView {
  imageId: number;
  /** Path relative to the case folder, for display. */
  file: string;
  /** URL the renderer can put in <img src>; built by the transport (custom protocol or loopback HTTP). */
  imageUrl: string;
  predicted: CellClassCode;
  /** Calibrated top-class probability, 0..1. */
  confidence: number;
  /** The two most probable classes, most probable first. */
  top: { code: CellClassCode; probability: number }[];
  flagged: boolean;
  /** Why the cell is flagged, as data; words from flagReasonText (flag-reasons.ts). */
  flagReasons: FlagReason[];
  decision: HumanDecision | null;
  effectiveLabel: CellClassCode;
  /**
   * The cell's state as this view shows it (changes with every decision or undo on it, by anyone). A decision sent
   * with seenVersion is refused as 'stale' when the cell changed since, naming who changed it, to what and when.
   */
  version: number;
}

/** 'flagged': flagged cells, reviewed or not; 'unreviewed': flagged and not yet decided; 'all': every classified cell. */
export const CELL_SCOPES = ['flagged', 'unreviewed', 'all'] as const;
export type CellScope = (typeof CELL_SCOPES)[number];

export interface CellQuery {
  caseId: number;
  scope: CellScope;
  predictedClass?: CellClassCode;
  effectiveClass?: CellClassCode;
  /** Only cells whose file path contains this text (case-insensitive): finding a cell by its file name. */
  file?: string;
  /** Flagged scopes are always ordered most uncertain first; 'all' also by uncertainty. */
  offset?: number;
  limit?: number;
}

export interface CellPage {
  cells: CellView[];
  total: number;
}

export interface ReviewInput {
  caseId: number;
  imageId: number;
  /** Equal to the prediction to confirm it, different to reclassify. */
  label: CellClassCode;
  note?: string;
  /** CellView.version of the cell as the reviewer saw it; the review screen always sends it. */
  seenVersion?: number;
}

export interface ConfirmInput {
  caseId: number;
  imageIds: number[];
  /** CellView.version of each cell, in the order of imageIds. */
  seenVersions?: number[];
}

export interface UndoInput {
  caseId: number;
  /** The cell whose latest decision is withdrawn; absent: the session person's own latest decision still in force in the case. */
  imageId?: number;
  seenVersion?: number;
}

/**
 * Technical validation: a technician submits the counted case for medical authorisation. It is an electronic
 * signature, so the password is given again at that moment (21 CFR 11.200); who signs is the session's person.
 */
export interface SubmitInput {
  caseId: number;
  password: string;
  /** Required to submit while flagged cells are still unreviewed. */
  overrideReason?: string;
  /** CaseSummary.version as the signer saw it: a case changed since by someone else is refused as 'stale'. */
  caseVersion?: number;
}

/**
 * Medical authorisation: a pathologist releases the result (final report, LIS) with her password given again. A case
 * in review (not submitted) is authorised only where the lab allows a pathologist to sign alone; her one signature
 * then carries both meanings.
 */
export interface AuthoriseInput {
  caseId: number;
  password: string;
  /** The pathologist's interpretation: page 1 of the report, HL7 NTE, FHIR DiagnosticReport.conclusion. */
  interpretiveComment?: string;
  /** Required to authorise while flagged cells are still unreviewed. */
  overrideReason?: string;
  /** CaseSummary.version as the signer saw it: a case changed since by someone else is refused as 'stale'. */
  caseVersion?: number;
}

export const SIGNATURE_MEANINGS = ['technical_validation', 'medical_authorisation'] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANINGS)[number];
/** The meaning printed beside each signature (screen, PDF, LIS). */
export const SIGNATURE_MEANING_TEXT: Readonly<Record<SignatureMeaning, string>> = {
  technical_validation: 'Technically validated by',
  medical_authorisation: 'Medically authorised by',
};

/** An electronic signature: the person (account and printed name), the role signed in, its meaning and time. */
export interface SignatureRecord {
  userId: number;
  printedName: string;
  /** "Technician" or "Pathologist". */
  role: string;
  meaning: SignatureMeaning;
  signedAt: string;
}

export interface AmendInput {
  caseId: number;
  reason: string;
  caseVersion?: number;
}

/** Releases the analysed part of a cancelled case for review, without the files it never analysed. */
export interface ExcludeRemainingInput {
  caseId: number;
  /** Why the remaining files are left out (recorded, and printed on the report). */
  reason: string;
}

/** A correction of the patient's stored name (a typing error at registration), audited with its reason. */
export interface CorrectPatientNameInput {
  /** The case it is made from; the correction applies to the patient, so to every case of theirs. */
  caseId: number;
  name: string;
  reason: string;
}

export interface SaveReportInput {
  caseId: number;
  /** Absolute path of the PDF to write; when absent main chooses one in the reports folder. */
  path?: string;
}

export const EXPORT_FORMATS = ['csv-classes', 'csv-cells', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportInput {
  caseId: number;
  format: ExportFormat;
  path?: string;
}

export interface SavedFile {
  path: string;
  bytes: number;
}

export interface AboutInfo {
  appVersion: string;
  rulesVersion: string;
  model: ModelInfo | null;
  /** The bundled model card, Markdown. */
  modelCard: string;
  attributions: string[];
  databasePath: string;
}

export interface Settings {
  labName: string;
}

export const LAB_MODEL_STATUSES = ['pending', 'approved', 'retired'] as const;
export type LabModelStatus = (typeof LAB_MODEL_STATUSES)[number];

/** A lab model: a head trained in the app on the base model's embeddings of the lab's reviewed cells (issue 14). */
/** Who trained, imported, approved and retired a lab model, and when: kept in SQL (lab_models) and shown as stored. */
export interface LabModelHistory {
  trainedBy: string;
  trainedAt: string;
  /** Set when it came from another PC's export. */
  importedBy: string | null;
  importedAt: string | null;
  approvedBy: string | null;
  approvedRole: string | null;
  approvedReason: string | null;
  approvedAt: string | null;
  retiredBy: string | null;
  retiredReason: string | null;
  retiredAt: string | null;
}

export interface LabModelSummary extends LabModelHistory {
  id: number;
  /** e.g. "lab-2": the version printed on reports of cases it analysed. */
  version: string;
  name: string;
  status: LabModelStatus;
  /** SHA-256 of the base model's SHA-256 and the head: the lab model's identity, as for any model. */
  sha256: string;
  baseModel: { modelId: string; version: string; sha256: string };
  /** The classes it learned (enough reviewed cells); every other class it cannot call. */
  classes: CellClassCode[];
  /** On the held-out test cases, over the lab model's classes: the lab model's and the base model's macro-F1. */
  labMacroF1: number;
  baseMacroF1: number;
}

export interface LabModelDetail extends LabModelSummary {
  headSha256: string;
  /** Every case used, by accession, with the fold it was in. */
  cases: { accession: string; cells: number; fold: 'train' | 'calibration' | 'test' }[];
  validation: LabValidation;
}

export type LabTrainingPhase = 'training' | 'done' | 'cancelled' | 'failed';

export interface LabModelTrainingProgress {
  phase: LabTrainingPhase;
  /** 0..1 of the training epochs. */
  fraction: number;
  /** Reviewed cells of signed cases the training reads. */
  cells: number;
  cases: number;
  seconds: number;
  /** Set when phase is 'failed': what went wrong. */
  message: string | null;
  /** The stored (pending) lab model, once phase is 'done'. */
  labModelId: number | null;
}

/** What a lab model could learn from now: shown before training, so a lab sees what is missing. */
export interface LabTrainingMaterial {
  /** The installed base model the reviewed cells must have been analysed with; null when it stores no embeddings. */
  baseModel: { modelId: string; version: string } | null;
  /** Signed cases with at least one reviewed cell analysed with the base model. */
  signedCasesWithReviewedCells: number;
  /** Reviewed cells of those cases: what training reads. */
  reviewedCells: number;
  /** Reviewed cells of cases not signed (or re-opened): not used until the case is signed. */
  reviewedInUnsignedCases: number;
  minimumPerClass: number;
  /** Per class with reviewed cells, most first: the cells, those in the training fold, and whether it would be learned. */
  classes: { code: CellClassCode; cells: number; inTrainingFold: number | null; learned: boolean }[];
  /** Empty when a model can be trained now; otherwise what is missing, one sentence each. */
  missing: string[];
}

export interface TrainLabModelInput {
  /** Fewest reviewed training cells a class needs to be learned; 30 when absent. */
  minimumPerClass?: number;
}

export interface ApproveLabModelInput {
  labModelId: number;
  reason: string;
}

export interface RetireLabModelInput {
  labModelId: number;
  reason: string;
}

export interface AnalyseWithLabModelInput {
  caseId: number;
  labModelId: number;
}

export interface ExportLabModelInput {
  labModelId: number;
  path?: string;
}

export interface ImportLabModelInput {
  /** Absolute path of a lab-model package (.json) exported on another PC. */
  path: string;
}

export interface SaveLabModelCardInput {
  labModelId: number;
  path?: string;
}

/** A person who can log in. Accounts are never deleted, only disabled, so old records keep their person. */
export interface UserSummary {
  id: number;
  /** Unique, compared without regard to case. */
  login: string;
  /** The printed name on signatures and reports. */
  displayName: string;
  roles: Role[];
  active: boolean;
  /** Set by an administrator's reset: the person must choose a new password at the next login. */
  mustChangePassword: boolean;
  /** ISO time until which logins are refused after too many failed attempts; null when not locked out. */
  lockedOutUntil: string | null;
  createdAt: string;
  /** Display name of the administrator who created the account; null for the first administrator. */
  createdBy: string | null;
}

/**
 * Where the calling window (or browser, or CLI) stands. 'first_start': no account exists yet; 'logged_out';
 * 'locked': the session's person was idle too long (or locked the screen) and must give the password again, or
 * another person logs in; 'active'.
 */
export interface SessionInfo {
  state: 'first_start' | 'logged_out' | 'locked' | 'active';
  /** The session's person (also while locked, so the lock screen can name them). */
  user: UserSummary | null;
  /** Minutes without activity after which the session locks (a lab setting). */
  idleLockMinutes: number;
  labName: string;
}

export interface LoginInput {
  login: string;
  password: string;
}

export interface FirstAdminInput {
  login: string;
  displayName: string;
  password: string;
}

export interface UnlockInput {
  password: string;
}

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
}

export interface NewUserInput {
  login: string;
  displayName: string;
  roles: Role[];
  /** A first password the administrator hands over; the person must change it at the first login. */
  password: string;
}

export interface SetUserActiveInput {
  userId: number;
  active: boolean;
}

export interface SetUserRolesInput {
  userId: number;
  roles: Role[];
}

export interface ResetPasswordInput {
  userId: number;
  /** A temporary password; the person must change it at the next login. */
  newPassword: string;
}

export interface SecuritySettings {
  /** Minutes without activity before a session locks; 1 to 240, default 15. */
  idleLockMinutes: number;
  /** Whether a pathologist who counted a case may technically validate and medically authorise it in one signature. */
  pathologistMaySignAlone: boolean;
}

export interface PatientHistoryQuery {
  /** The lab's patient identifier (MRN), as cases record it. */
  patientLabId: string;
}

export interface MarrowApi {
  /** Where this window's session stands; needs no session. */
  getSession(): Promise<SessionInfo>;
  /** Creates the first administrator and logs them in; refused once any account exists. */
  createFirstAdmin(input: FirstAdminInput): Promise<SessionInfo>;
  login(input: LoginInput): Promise<SessionInfo>;
  logout(): Promise<SessionInfo>;
  /** Locks the session now (the renderer's idle timer, or the person stepping away). */
  lockSession(): Promise<SessionInfo>;
  /** The locked session's person gives the password again. */
  unlockSession(input: UnlockInput): Promise<SessionInfo>;
  changePassword(input: ChangePasswordInput): Promise<SessionInfo>;
  listUsers(): Promise<UserSummary[]>;
  createUser(input: NewUserInput): Promise<UserSummary>;
  setUserActive(input: SetUserActiveInput): Promise<UserSummary>;
  setUserRoles(input: SetUserRolesInput): Promise<UserSummary>;
  resetUserPassword(input: ResetPasswordInput): Promise<UserSummary>;
  getSecuritySettings(): Promise<SecuritySettings>;
  saveSecuritySettings(settings: SecuritySettings): Promise<SecuritySettings>;

  listCases(filter: CaseFilter): Promise<CaseSummary[]>;
  createCase(input: NewCaseInput): Promise<CaseDetail>;
  getCase(caseId: number): Promise<CaseDetail>;
  /** Corrects the name stored for the case's patient; the old name, the new one and the reason go into the audit log. */
  correctPatientName(input: CorrectPatientNameInput): Promise<CaseDetail>;

  /** Starts (or resumes) classification in a worker; returns at once. Poll getAnalysisProgress. */
  startAnalysis(caseId: number): Promise<AnalysisProgress>;
  cancelAnalysis(caseId: number): Promise<AnalysisProgress>;
  getAnalysisProgress(caseId: number): Promise<AnalysisProgress | null>;

  getDifferential(caseId: number): Promise<CaseDifferential>;
  listCells(query: CellQuery): Promise<CellPage>;
  reviewCell(input: ReviewInput): Promise<CellView>;
  confirmCells(input: ConfirmInput): Promise<CellView[]>;
  /** Withdraws the reviewer's latest decision on a cell (stored as a new audit row, never a delete). */
  undoReview(input: UndoInput): Promise<CellView>;

  /** Technical validation (technician): in review → submitted, with a signature. */
  submitCase(input: SubmitInput): Promise<CaseDetail>;
  /** Medical authorisation (pathologist): releases the result (status signed, final report, LIS), with a signature. */
  authoriseCase(input: AuthoriseInput): Promise<CaseDetail>;
  amendCase(input: AmendInput): Promise<CaseDetail>;
  /** A cancelled case goes to review without its unanalysed files only with a recorded reason. */
  excludeRemainingFiles(input: ExcludeRemainingInput): Promise<CaseDetail>;

  saveReport(input: SaveReportInput): Promise<SavedFile>;
  exportCase(input: ExportInput): Promise<SavedFile>;

  getSettings(): Promise<Settings>;
  saveSettings(settings: Settings): Promise<Settings>;
  getAbout(): Promise<AboutInfo>;
  /** The lab's review grid: each class's key, the class order, the hidden classes (the built-in layout until saved). */
  getReviewLayout(): Promise<ReviewLayout>;
  /** Saves the review layout after the conflict check; a change is recorded in the audit log. */
  saveReviewLayout(layout: ReviewLayout): Promise<ReviewLayout>;

  /** Results to the laboratory information system (HL7 v2 and FHIR R4, outbox folder and MLLP). */
  getLisSettings(): Promise<LisSettings>;
  saveLisSettings(settings: LisSettings): Promise<LisSettings>;
  /** The case's messages to the LIS and where each stands (queued, sent, acknowledged, error). */
  getLisStatus(caseId: number): Promise<CaseLisStatus>;
  /** Sends the case's current signed result again, as new messages (new control ids). */
  resendToLis(caseId: number): Promise<CaseLisStatus>;
  /** What a lab model could learn from now (signed cases, reviewed cells per class) and what is missing to train one. */
  getLabTrainingMaterial(query?: { minimumPerClass?: number }): Promise<LabTrainingMaterial>;
  /** Starts training a lab model on the reviewed cells of signed cases, in a worker; returns at once. Poll the progress. */
  trainLabModel(input: TrainLabModelInput): Promise<LabModelTrainingProgress>;
  cancelLabModelTraining(): Promise<LabModelTrainingProgress>;
  getLabModelTrainingProgress(): Promise<LabModelTrainingProgress | null>;
  listLabModels(): Promise<LabModelSummary[]>;
  getLabModel(labModelId: number): Promise<LabModelDetail>;
  /** Makes a pending lab model usable; a named person, role and reason are recorded. */
  approveLabModel(input: ApproveLabModelInput): Promise<LabModelDetail>;
  retireLabModel(input: RetireLabModelInput): Promise<LabModelDetail>;
  /** Re-analyses a case with an approved lab model: adds its predictions beside the old ones and makes it the case's model. */
  analyseWithLabModel(input: AnalyseWithLabModelInput): Promise<CaseDetail>;
  exportLabModel(input: ExportLabModelInput): Promise<SavedFile>;
  importLabModel(input: ImportLabModelInput): Promise<LabModelDetail>;
  /** The model card (validation, comparison with the base model, provenance) as a PDF. */
  saveLabModelCard(input: SaveLabModelCardInput): Promise<SavedFile>;

  /** Every case of the patient (the lab's identifier) by specimen date: released results, and drafts marked as such. */
  getPatientHistory(query: PatientHistoryQuery): Promise<PatientHistory>;
  /** The case beside the patient's earlier released results, with the difference of each count and its 95% interval. */
  getCaseHistory(caseId: number): Promise<CaseHistory>;
}

/** Error kinds survive every transport; the renderer acts on the kind and shows the message. */
export type ApiErrorKind =
  | 'validation' // an argument is missing or malformed; `field` names it
  | 'unauthenticated' // no session, a wrong login or password, an ended session: log in
  | 'session_locked' // the session locked after the idle time: give the password again
  | 'forbidden' // the session's person lacks the role the method needs (or must change the password first)
  | 'not_found'
  | 'conflict' // e.g. duplicate accession number, analysis already running
  | 'locked' // the case is signed; amend it first
  | 'stale' // the cell or case changed since the person saw it (another station): the message says who and to what
  | 'shared_crops' // the folder's crops already belong to another patient's case: the message names it; confirm with a reason
  | 'unreviewed' // sign-off refused: flagged cells unreviewed and no override reason
  | 'model' // the model package is missing, corrupt or incompatible
  | 'database'
  | 'io'
  | 'internal';

export interface ApiErrorBody {
  kind: ApiErrorKind;
  message: string;
  field?: string;
  detail?: string;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

export type MarrowApiMethod = keyof MarrowApi;

/** Channel names, one per method; IPC and HTTP both use them. */
export const API_METHODS = [
  'getSession',
  'createFirstAdmin',
  'login',
  'logout',
  'lockSession',
  'unlockSession',
  'changePassword',
  'listUsers',
  'createUser',
  'setUserActive',
  'setUserRoles',
  'resetUserPassword',
  'getSecuritySettings',
  'saveSecuritySettings',
  'listCases',
  'createCase',
  'getCase',
  'correctPatientName',
  'startAnalysis',
  'cancelAnalysis',
  'getAnalysisProgress',
  'getDifferential',
  'listCells',
  'reviewCell',
  'confirmCells',
  'undoReview',
  'submitCase',
  'authoriseCase',
  'amendCase',
  'excludeRemainingFiles',
  'saveReport',
  'exportCase',
  'getSettings',
  'saveSettings',
  'getAbout',
  'getReviewLayout',
  'saveReviewLayout',
  'getLisSettings',
  'saveLisSettings',
  'getLisStatus',
  'resendToLis',
  'getLabTrainingMaterial',
  'trainLabModel',
  'cancelLabModelTraining',
  'getLabModelTrainingProgress',
  'listLabModels',
  'getLabModel',
  'approveLabModel',
  'retireLabModel',
  'analyseWithLabModel',
  'exportLabModel',
  'importLabModel',
  'saveLabModelCard',
  'getPatientHistory',
  'getCaseHistory',
] as const satisfies readonly MarrowApiMethod[];

// Fails to compile when the contract gains a method that API_METHODS does not list (the `satisfies` above refuses
// a listed name the contract lacks): the list and the interface cannot drift apart.
type UnlistedMethod = Exclude<MarrowApiMethod, (typeof API_METHODS)[number]>;
const everyMethodListed: [UnlistedMethod] extends [never] ? true : UnlistedMethod = true;
void everyMethodListed;

/** How a transport carries one call: the method's name and its arguments out, its (deserialised) result back. */
export type ApiTransport = (method: MarrowApiMethod, args: unknown[]) => Promise<unknown>;

/** The client side of the contract, method by method, as a transport builds it from API_METHODS. */
type ApiClient = { [M in (typeof API_METHODS)[number]]: (...args: Parameters<MarrowApi[M]>) => ReturnType<MarrowApi[M]> };

/**
 * Every method of the contract bound to a transport (the preload's IPC, the browser tests' loopback HTTP). The
 * return type is the contract itself, and ApiClient is assignable to MarrowApi only while API_METHODS covers every
 * method with the contract's own parameters, so the compiler holds each transport to the contract. The one cast
 * below says what no type can: that the value a transport brings back is the one the main process sent.
 */
export function apiOverTransport(transport: ApiTransport): MarrowApi {
  const client = Object.fromEntries(API_METHODS.map((method) => [method, (...args: unknown[]) => transport(method, args)])) as ApiClient;
  return client;
}

/**
 * Thrown by client transports so callers can branch on `kind`.
 * Note for the renderer (from the shell engineer): over Electron IPC the preload cannot hand the page a
 * MarrowApiError instance — contextBridge keeps only an Error's message and stack — so its methods reject with a
 * plain object { name: 'MarrowApiError', kind, message, field?, detail? }. Recognise API errors by shape
 * (kind + message), not only by instanceof, also when turning them into text.
 */
export class MarrowApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly field: string | undefined;
  readonly detail: string | undefined;

  constructor(body: ApiErrorBody) {
    super(body.message);
    this.name = 'MarrowApiError';
    this.kind = body.kind;
    this.field = body.field;
    this.detail = body.detail;
  }
}
