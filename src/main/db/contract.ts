// The asynchronous repository contract (issue 22): one interface per aggregate, which the SQLite engine
// (sqlite-repositories.ts, over the existing synchronous functions) and the PostgreSQL engine (postgres/, to come)
// both implement, so that the service layer can stop caring which engine holds the lab's data.
//
// Each interface is derived from the SQLite repository functions it stands for: the same name, the same arguments
// without the leading `db`, the same result in a Promise. A change of a repository function's signature therefore
// changes the contract, and the compiler points at the PostgreSQL implementation that must follow. The method lists
// are the single source of both the types and the SQLite adapter's runtime binding (`as const satisfies`, so a
// misspelt name does not compile); test/unit/db-contract.test.ts fails when index.ts exports a repository function
// that no list names.
import type { MarrowDatabase } from './connection';
import type * as audit from './audit';
import type * as cases from './cases';
import type * as cells from './cells';
import type * as images from './images';
import type * as labModels from './lab-models';
import type * as lis from './lis';
import type * as models from './models';
import type * as partialAnalysis from './partial-analysis';
import type * as patientHistory from './patient-history';
import type * as patients from './patients';
import type * as predictions from './predictions';
import type * as reviewLayout from './review-layout';
import type * as reviews from './reviews';
import type * as settings from './settings';
import type * as signatures from './signatures';
import type * as users from './users';

/** A repository function `(db, ...args) => R` as the contract's method `(...args) => Promise<R>`. */
export type AsyncMethod<F> = F extends (db: MarrowDatabase, ...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
type Methods<M, K extends keyof M> = { readonly [P in K]: AsyncMethod<M[P]> };

export const CASE_METHODS = [
  'createCase',
  'getCase',
  'listCases',
  'setCaseStatus',
  'setCaseModel',
  'beginAnalysis',
  'signCase',
  'amendCase',
  'listSignOffs',
  'listAmendments',
  'caseVersionOf',
  'changeSince',
  'isAmended',
] as const satisfies readonly (keyof typeof cases)[];
export const PARTIAL_ANALYSIS_METHODS = [
  'recordCancellation',
  'excludeRemainingFiles',
  'partialAnalysisOf',
] as const satisfies readonly (keyof typeof partialAnalysis)[];
export const PATIENT_METHODS = ['upsertPatient', 'getPatient', 'correctPatientName'] as const satisfies readonly (keyof typeof patients)[];
export const PATIENT_HISTORY_METHODS = [
  'caseSpecimenDate',
  'findPatientByLabId',
  'listPatientCaseHistory',
  'recordSpecimenDate',
] as const satisfies readonly (keyof typeof patientHistory)[];
export const SETTINGS_METHODS = ['getSettings', 'saveSettings'] as const satisfies readonly (keyof typeof settings)[];
export const MODEL_METHODS = ['registerModel', 'getModel', 'findModelBySha256'] as const satisfies readonly (keyof typeof models)[];
export const IMAGE_METHODS = [
  'insertImages',
  'listImages',
  'listImagesNeedingPrediction',
  'getImage',
  'listCopiesOf',
  'listImportFailures',
  'findCropsOfOtherPatients',
  'recordSharedCropsConfirmations',
  'listSharedCropsConfirmations',
] as const satisfies readonly (keyof typeof images)[];
export const PREDICTION_METHODS = ['insertPredictions', 'listEmbeddings', 'listPredictions'] as const satisfies readonly (keyof typeof predictions)[];
export const REVIEW_METHODS = [
  'addReview',
  'addReviews',
  'retractLatestReview',
  'listReviews',
  'latestDecisionInForceBy',
] as const satisfies readonly (keyof typeof reviews)[];
export const REVIEW_LAYOUT_METHODS = ['getReviewLayout', 'saveReviewLayout'] as const satisfies readonly (keyof typeof reviewLayout)[];
export const CELL_METHODS = [
  'effectiveCountsByClass',
  'flaggedCellReasons',
  'unreviewedCountsByPredictedClass',
  'listCells',
  'getCell',
  'reviewProgress',
] as const satisfies readonly (keyof typeof cells)[];
export const AUDIT_METHODS = ['caseAuditLog', 'listAuditLog'] as const satisfies readonly (keyof typeof audit)[];
export const LIS_METHODS = [
  'getLisSettings',
  'saveLisSettings',
  'recordLisResult',
  'findLisResultForSignOff',
  'listUnbuiltLisResults',
  'recordLisBuildError',
  'storeLisMessages',
  'nextOpenDelivery',
  'markDeliverySending',
  'markDeliverySent',
  'markDeliveryAcknowledged',
  'markDeliveryFailed',
  'deferDelivery',
  'listCaseLisDeliveries',
  'countUnbuiltLisResults',
  'unbuiltLisResultErrors',
] as const satisfies readonly (keyof typeof lis)[];
export const LAB_MODEL_METHODS = [
  'approveLabModel',
  'countLabModels',
  'getLabModel',
  'labModelOfModelRow',
  'listLabModels',
  'retireLabModel',
  'reviewedCellsOfSignedCases',
  'storeLabModel',
] as const satisfies readonly (keyof typeof labModels)[];

/** Accounts, sessions and the session rules (migration 0009). */
export const USER_METHODS = [
  'countUsers',
  'listUsers',
  'findUserByLogin',
  'getUser',
  'createUser',
  'setUserActive',
  'setUserRoles',
  'setPasswordHash',
  'recordFailedLogin',
  'recordUnknownLogin',
  'clearFailedLogins',
  'createSession',
  'findSessionByTokenHash',
  'lockSession',
  'unlockSession',
  'endSession',
  'getSecuritySettings',
  'saveSecuritySettings',
  'recordRefusal',
] as const satisfies readonly (keyof typeof users)[];
export const SIGNATURE_METHODS = ['insertSignature', 'listSignatures'] as const satisfies readonly (keyof typeof signatures)[];

export type CaseRepository = Methods<typeof cases, (typeof CASE_METHODS)[number]>;
export type PartialAnalysisRepository = Methods<typeof partialAnalysis, (typeof PARTIAL_ANALYSIS_METHODS)[number]>;
export type PatientRepository = Methods<typeof patients, (typeof PATIENT_METHODS)[number]>;
export type PatientHistoryRepository = Methods<typeof patientHistory, (typeof PATIENT_HISTORY_METHODS)[number]>;
export type SettingsRepository = Methods<typeof settings, (typeof SETTINGS_METHODS)[number]>;
export type ModelRepository = Methods<typeof models, (typeof MODEL_METHODS)[number]>;
export type ImageRepository = Methods<typeof images, (typeof IMAGE_METHODS)[number]>;
export type PredictionRepository = Methods<typeof predictions, (typeof PREDICTION_METHODS)[number]>;
export type ReviewRepository = Methods<typeof reviews, (typeof REVIEW_METHODS)[number]>;
export type ReviewLayoutRepository = Methods<typeof reviewLayout, (typeof REVIEW_LAYOUT_METHODS)[number]>;
export type CellRepository = Methods<typeof cells, (typeof CELL_METHODS)[number]>;
export type AuditRepository = Methods<typeof audit, (typeof AUDIT_METHODS)[number]>;
export type LisRepository = Methods<typeof lis, (typeof LIS_METHODS)[number]>;
export type LabModelRepository = Methods<typeof labModels, (typeof LAB_MODEL_METHODS)[number]>;
export type UserRepository = Methods<typeof users, (typeof USER_METHODS)[number]>;
export type SignatureRepository = Methods<typeof signatures, (typeof SIGNATURE_METHODS)[number]>;

/** Every aggregate's repository, as one engine provides them. */
export interface Repositories {
  readonly cases: CaseRepository;
  readonly partialAnalysis: PartialAnalysisRepository;
  readonly patients: PatientRepository;
  readonly patientHistory: PatientHistoryRepository;
  readonly settings: SettingsRepository;
  readonly models: ModelRepository;
  readonly images: ImageRepository;
  readonly predictions: PredictionRepository;
  readonly reviews: ReviewRepository;
  readonly reviewLayout: ReviewLayoutRepository;
  readonly cells: CellRepository;
  readonly audit: AuditRepository;
  readonly lis: LisRepository;
  readonly labModels: LabModelRepository;
  readonly users: UserRepository;
  readonly signatures: SignatureRepository;
}

/** The method lists by aggregate: what an engine must implement, and what the SQLite adapter binds. */
export const REPOSITORY_METHODS = {
  cases: CASE_METHODS,
  partialAnalysis: PARTIAL_ANALYSIS_METHODS,
  patients: PATIENT_METHODS,
  patientHistory: PATIENT_HISTORY_METHODS,
  settings: SETTINGS_METHODS,
  models: MODEL_METHODS,
  images: IMAGE_METHODS,
  predictions: PREDICTION_METHODS,
  reviews: REVIEW_METHODS,
  reviewLayout: REVIEW_LAYOUT_METHODS,
  cells: CELL_METHODS,
  audit: AUDIT_METHODS,
  lis: LIS_METHODS,
  labModels: LAB_MODEL_METHODS,
  users: USER_METHODS,
  signatures: SIGNATURE_METHODS,
} as const satisfies { readonly [K in keyof Repositories]: readonly (keyof Repositories[K])[] };

/** An open database on either engine: its repositories, atomic units of several calls, and closing. */
export interface Store extends Repositories {
  readonly engine: 'sqlite' | 'postgres';
  /** Where the data is, for messages (a file path, or a URL without its password). */
  readonly where: string;
  readonly schemaVersion: number;
  /**
   * Several repository calls as one atomic unit (read the differential and sign with it as its snapshot). fn gets
   * repositories bound to the transaction; any rejection rolls everything back.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
