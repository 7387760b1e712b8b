// MarrowCount's storage layer: one SQLite file, migrated at open, with one repository module per aggregate.
// Nothing outside src/main/db runs SQL: other layers call these typed functions.
//
// Which model's predictions count: each case has a current model (cases.model_id, set by beginAnalysis /
// setCaseModel when analysis starts). A cell's effective label is its latest non-retracted human decision, else
// the prediction of the case's current model. Predictions of other models stay stored (never updated or deleted)
// but do not count; re-running a case with another model switches the case's model and adds predictions.
export { openDatabase, closeDatabase, backupDatabase, transaction, DATABASE_FILE_NAME, type MarrowDatabase, type OpenOptions } from './connection';
export { DatabaseError, classifyDatabaseError, type DatabaseErrorKind } from './errors';
export { correctPatientName, upsertPatient, getPatient, type PatientUpsert } from './patients';
export {
  createCase,
  getCase,
  listCases,
  setCaseStatus,
  setCaseModel,
  beginAnalysis,
  signCase,
  amendCase,
  listSignOffs,
  listAmendments,
  caseVersionOf,
  changeSince,
  isAmended,
  type NewCase,
  type SignCaseInput,
} from './cases';
export { getSettings, saveSettings } from './settings';
export { getReviewLayout, saveReviewLayout } from './review-layout';
export { caseSpecimenDate, findPatientByLabId, listPatientCaseHistory, recordSpecimenDate, type PatientCaseHistoryRow } from './patient-history';
export { registerModel, getModel, findModelBySha256, type ModelRegistration } from './models';
export {
  insertImages,
  listImages,
  listImagesNeedingPrediction,
  getImage,
  listCopiesOf,
  listImportFailures,
  findCropsOfOtherPatients,
  recordSharedCropsConfirmations,
  listSharedCropsConfirmations,
  type SharedCropsMatch,
  type SharedCropsConfirmationRow,
  type ImageFile,
  type InsertImagesResult,
} from './images';
export { insertPredictions, listEmbeddings, listPredictions, type NewPrediction, type StoredEmbedding } from './predictions';
export { addReview, addReviews, latestDecisionInForceBy, retractLatestReview, listReviews, type NewReview } from './reviews';
export {
  effectiveCountsByClass,
  flaggedCellReasons,
  unreviewedCountsByPredictedClass,
  listCells,
  getCell,
  reviewProgress,
  topClasses,
  type CellListQuery,
} from './cells';
export { caseAuditLog, listAuditLog } from './audit';
export {
  excludeRemainingFiles,
  partialAnalysisOf,
  recordCancellation,
  type CancellationRow,
  type ExclusionRow,
  type PartialAnalysis,
} from './partial-analysis';
export {
  getLisSettings,
  saveLisSettings,
  recordLisResult,
  findLisResultForSignOff,
  listUnbuiltLisResults,
  recordLisBuildError,
  storeLisMessages,
  nextOpenDelivery,
  markDeliverySending,
  markDeliverySent,
  markDeliveryAcknowledged,
  markDeliveryFailed,
  deferDelivery,
  listCaseLisDeliveries,
  countUnbuiltLisResults,
  unbuiltLisResultErrors,
  type LisResultRow,
  type LisDeliveryRow,
  type NewLisMessage,
} from './lis';
export type {
  AmendmentRow,
  AuditAction,
  AuditRow,
  CaseListRow,
  CaseRow,
  CellDecision,
  CellRow,
  ClassCounts,
  ImageRow,
  ModelRow,
  PatientRow,
  PredictionRow,
  ReviewRow,
  SignOffRow,
} from './types';
export {
  approveLabModel,
  countLabModels,
  getLabModel,
  labModelOfModelRow,
  listLabModels,
  retireLabModel,
  reviewedCellsOfSignedCases,
  storeLabModel,
  type LabModelCase,
  type LabModelFold,
  type LabModelRow,
  type LabModelStatus,
  type NewLabModel,
  type ReviewedCell,
} from './lab-models';
export {
  countUsers,
  listUsers,
  findUserByLogin,
  getUser,
  createUser,
  setUserActive,
  setUserRoles,
  setPasswordHash,
  recordFailedLogin,
  recordUnknownLogin,
  clearFailedLogins,
  createSession,
  findSessionByTokenHash,
  lockSession,
  unlockSession,
  endSession,
  getSecuritySettings,
  saveSecuritySettings,
  recordRefusal,
  DEFAULT_SECURITY_SETTINGS,
  type UserRow,
  type NewUser,
  type AccountActor,
  type SessionRow,
  type SessionTransport,
  type SessionEndReason,
  type SecuritySettingsRow,
} from './users';
export { runAsUser, actingUser, actingUserId, type ActingUser } from './acting-user';
export { insertSignature, listSignatures, type SignatureRow, type SignatureMeaning } from './signatures';
