// Lab models (migration 0006): a head trained on the base model's embeddings of the lab's reviewed cells, stored as
// a models row of its own plus a lab_models row with its head, cases, validation and life
// (pending -> approved -> retired). The service decides what to train and when; this module only stores and reads,
// and the triggers refuse every other change.
import type { LabModelHistory } from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import type { LabHead } from '../../shared/lab-head';
import { actingUserId } from './acting-user';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import { getModel, registerModel } from './models';
import { decodeFloat16 } from './predictions';
import type { ModelRow } from './types';

export type LabModelStatus = 'pending' | 'approved' | 'retired';
export type LabModelFold = 'train' | 'calibration' | 'test';

export interface LabModelCase {
  accession: string;
  /** Reviewed cells of the case that were used. */
  cells: number;
  fold: LabModelFold;
}

export interface LabModelRow extends LabModelHistory {
  id: number;
  model: ModelRow;
  baseModel: ModelRow;
  headSha256: string;
  head: LabHead;
  cases: LabModelCase[];
  minimumPerClass: number;
  /** The validation report as stored (shared/lab-training.ts makes it; service/lab-model-package.ts checks an imported one). */
  validation: unknown;
  status: LabModelStatus;
}

export interface LabModelDbRow {
  id: number;
  model_row_id: number;
  base_model_row_id: number;
  head_sha256: string;
  head: string;
  training_cases: string;
  minimum_per_class: number;
  validation: string;
  trained_by: string;
  trained_at: string;
  imported_by: string | null;
  imported_at: string | null;
  status: LabModelStatus;
  approved_by: string | null;
  approved_role: string | null;
  approved_reason: string | null;
  approved_at: string | null;
  retired_by: string | null;
  retired_reason: string | null;
  retired_at: string | null;
}

function toRow(db: MarrowDatabase, r: LabModelDbRow): LabModelRow {
  return labModelRowOf(r, getModel(db, r.model_row_id), getModel(db, r.base_model_row_id));
}

/** A stored lab model with its two models rows (its own and its base model's). Both engines. */
export function labModelRowOf(r: LabModelDbRow, model: ModelRow, baseModel: ModelRow): LabModelRow {
  return {
    id: r.id,
    model,
    baseModel,
    headSha256: r.head_sha256,
    head: JSON.parse(r.head) as LabHead,
    cases: JSON.parse(r.training_cases) as LabModelCase[],
    minimumPerClass: r.minimum_per_class,
    validation: JSON.parse(r.validation) as unknown,
    trainedBy: r.trained_by,
    trainedAt: r.trained_at,
    importedBy: r.imported_by,
    importedAt: r.imported_at,
    status: r.status,
    approvedBy: r.approved_by,
    approvedRole: r.approved_role,
    approvedReason: r.approved_reason,
    approvedAt: r.approved_at,
    retiredBy: r.retired_by,
    retiredReason: r.retired_reason,
    retiredAt: r.retired_at,
  };
}

export interface NewLabModel {
  baseModelRowId: number;
  /** The models row of the lab model (its id is e.g. "marrowcount-ref+lab", its version "lab-3"). */
  registration: { modelId: string; version: string; sha256: string; name: string; provisionalClasses: CellClassCode[] };
  head: LabHead;
  /** SHA-256 of headJson, the exact text stored. */
  headSha256: string;
  headJson: string;
  cases: LabModelCase[];
  minimumPerClass: number;
  validation: unknown;
  trainedBy: string;
  trainedAt: string;
  /** Set when the model comes from another PC's export. */
  imported?: { by: string };
}

/** Stores a trained (or imported) lab model, pending, with its models row, in one transaction. */
export function storeLabModel(db: MarrowDatabase, input: NewLabModel): LabModelRow {
  return inTransaction(db, `Storing lab model ${input.registration.version}`, () => {
    const actor = labModelActor(input);
    if (sql(db, 'SELECT 1 FROM models WHERE sha256 = ?').get(input.registration.sha256.toLowerCase()) !== undefined) throw labModelAlreadyStored(input);
    const model = registerModel(db, labModelRegistration(input), actor);
    const at = nowIso();
    const created = sql(db, `${LAB_MODEL_INSERT} RETURNING *`).get(...labModelInsertValues(input, model.id, at)) as LabModelDbRow;
    appendAudit(db, labModelStoredAudit(input, created.id, model), at);
    return toRow(db, created);
  });
}

// The pieces of storeLabModel both engines use.
export const labModelActor = (input: NewLabModel): string => input.imported?.by ?? input.trainedBy;

export function labModelAlreadyStored(input: NewLabModel): DatabaseError {
  return new DatabaseError('duplicate', `This lab model (${input.registration.sha256.slice(0, 12)}…) is already stored; it was not stored again.`);
}

export const labModelRegistration = (input: NewLabModel) => ({ ...input.registration, classes: input.head.classes });

export const LAB_MODEL_INSERT = `INSERT INTO lab_models (model_row_id, base_model_row_id, head_sha256, head, training_cases, minimum_per_class, validation,
    trained_by, trained_at, imported_by, imported_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function labModelInsertValues(input: NewLabModel, modelRowId: number, at: string): unknown[] {
  return [
    modelRowId,
    input.baseModelRowId,
    input.headSha256,
    input.headJson,
    JSON.stringify(input.cases),
    input.minimumPerClass,
    JSON.stringify(input.validation),
    input.trainedBy,
    input.trainedAt,
    input.imported?.by ?? null,
    input.imported ? at : null,
  ];
}

export function labModelStoredAudit(input: NewLabModel, labModelId: number, model: ModelRow): AuditEntry {
  return {
    actor: labModelActor(input),
    action: 'lab_model_stored',
    caseId: null,
    detail: { labModelId, modelRowId: model.id, version: model.version, imported: input.imported !== undefined, cases: input.cases.length },
  };
}

export function labModelNotFound(labModelId: number): DatabaseError {
  return new DatabaseError('not_found', `There is no lab model with id ${labModelId}.`);
}

export function getLabModel(db: MarrowDatabase, labModelId: number): LabModelRow {
  const row = read(`Reading lab model ${labModelId}`, () => sql(db, 'SELECT * FROM lab_models WHERE id = ?').get(labModelId) as LabModelDbRow | undefined);
  if (row === undefined) throw labModelNotFound(labModelId);
  return toRow(db, row);
}

/** The lab model whose models row this is, or null for a model that is not a lab model. */
export function labModelOfModelRow(db: MarrowDatabase, modelRowId: number): LabModelRow | null {
  const row = read(
    `Reading the lab model of model ${modelRowId}`,
    () => sql(db, 'SELECT * FROM lab_models WHERE model_row_id = ?').get(modelRowId) as LabModelDbRow | undefined,
  );
  return row === undefined ? null : toRow(db, row);
}

/** Every lab model, newest first. */
export function listLabModels(db: MarrowDatabase): LabModelRow[] {
  return read('Reading the lab models', () => (sql(db, 'SELECT * FROM lab_models ORDER BY id DESC').all() as LabModelDbRow[]).map((r) => toRow(db, r)));
}

/** How many lab models were ever stored on this base model: the next version is lab-<n + 1>. */
export function countLabModels(db: MarrowDatabase): number {
  return read('Counting the lab models', () => (sql(db, 'SELECT count(*) AS n FROM lab_models').get() as { n: number }).n);
}

export function approveLabModel(db: MarrowDatabase, input: { labModelId: number; by: string; role: string; reason: string }): LabModelRow {
  return inTransaction(db, `Approving lab model ${input.labModelId}`, () => {
    const current = getLabModel(db, input.labModelId);
    checkApprovable(current, (sql(db, IN_FORCE_SELECT).get(current.baseModel.id) as { version: string } | undefined)?.version ?? null);
    const at = nowIso();
    sql(db, LAB_MODEL_APPROVE).run(input.by, input.role, input.reason, at, actingUserId(), input.labModelId);
    appendAudit(db, labModelApprovedAudit(input), at);
    return getLabModel(db, input.labModelId);
  });
}

export function retireLabModel(db: MarrowDatabase, input: { labModelId: number; by: string; reason: string }): LabModelRow {
  return inTransaction(db, `Retiring lab model ${input.labModelId}`, () => {
    checkRetirable(getLabModel(db, input.labModelId));
    const at = nowIso();
    sql(db, LAB_MODEL_RETIRE).run(input.by, input.reason, at, actingUserId(), input.labModelId);
    appendAudit(db, labModelRetiredAudit(input), at);
    return getLabModel(db, input.labModelId);
  });
}

// The approval and retirement rules and statements, for both engines.

/** The version of the lab model approved on a base model (at most one: a unique index), by the base's row id. */
export const IN_FORCE_SELECT = `SELECT m.version FROM lab_models AS l JOIN models AS m ON m.id = l.model_row_id WHERE l.base_model_row_id = ? AND l.status = 'approved'`;

export function checkApprovable(current: LabModelRow, inForceVersion: string | null): void {
  if (current.status !== 'pending') {
    throw new DatabaseError('constraint', `Lab model ${current.model.version} is ${current.status}; only a pending lab model can be approved.`);
  }
  if (inForceVersion !== null) {
    throw new DatabaseError('constraint', `Lab model ${inForceVersion} is approved and in force; retire it before approving ${current.model.version}.`);
  }
}

export function checkRetirable(current: LabModelRow): void {
  if (current.status !== 'approved') {
    throw new DatabaseError('constraint', `Lab model ${current.model.version} is ${current.status}; only an approved lab model can be retired.`);
  }
}

export const LAB_MODEL_APPROVE = `UPDATE lab_models SET status = 'approved', approved_by = ?, approved_role = ?, approved_reason = ?, approved_at = ?, approved_by_user_id = ? WHERE id = ?`;
export const LAB_MODEL_RETIRE = `UPDATE lab_models SET status = 'retired', retired_by = ?, retired_reason = ?, retired_at = ?, retired_by_user_id = ? WHERE id = ?`;

export function labModelApprovedAudit(input: { labModelId: number; by: string; role: string; reason: string }): AuditEntry {
  return { actor: input.by, action: 'lab_model_approved', caseId: null, detail: { labModelId: input.labModelId, role: input.role, reason: input.reason } };
}

export function labModelRetiredAudit(input: { labModelId: number; by: string; reason: string }): AuditEntry {
  return { actor: input.by, action: 'lab_model_retired', caseId: null, detail: { labModelId: input.labModelId, reason: input.reason } };
}

export interface ReviewedCell {
  caseId: number;
  accession: string;
  imageId: number;
  /** The decision in force: the expert's label. */
  label: CellClassCode;
  embedding: Float32Array;
  openSetScore: number | null;
  /** The base model's own prediction of the cell, for the side-by-side comparison. */
  basePredicted: CellClassCode;
  baseConfidence: number;
  /** The base model's stored probabilities of the cell, in its class order. */
  baseProbabilities: number[];
}

export interface ReviewedCellsSummary {
  signedCases: number;
  /** Reviewed cells of signed cases that have the base model's embedding. */
  cells: ReviewedCell[];
  /** Reviewed cells of cases not (or no longer) signed, which are not used. */
  reviewedInUnsignedCases: number;
}

/**
 * The training material of a lab model: every cell with a human decision in force in a signed case, with the base
 * model's stored embedding of it. Cells reviewed in cases not signed (or re-opened by an amendment) do not count:
 * only a signed case's decisions are the lab's final word.
 */
export function reviewedCellsOfSignedCases(db: MarrowDatabase, baseModelRowId: number): ReviewedCellsSummary {
  return read('Reading the reviewed cells of signed cases', () => {
    const rows = sql(db, REVIEWED_CELLS_SELECT).all(baseModelRowId) as ReviewedCellDbRow[];
    const signedCases = (sql(db, SIGNED_CASES_COUNT).get() as { n: number }).n;
    const unsigned = (sql(db, UNSIGNED_REVIEWS_COUNT).get() as { n: number }).n;
    return { signedCases, reviewedInUnsignedCases: unsigned, cells: rows.map(reviewedCellOf) };
  });
}

// The training material's SQL and row mapping, for both engines (the one parameter is the base model's row id).
export const REVIEWED_CELLS_SELECT = `SELECT c.id AS case_id, c.accession, d.image_id, d.label, e.vector, e.open_set_score, p.predicted_class, p.confidence,
    p.probabilities
  FROM cases AS c
  JOIN current_decisions AS d ON d.case_id = c.id
  JOIN predictions AS p ON p.image_id = d.image_id AND p.model_id = ?
  JOIN prediction_embeddings AS e ON e.prediction_id = p.id
  WHERE c.status = 'signed'
  ORDER BY c.id, d.image_id`;
export const SIGNED_CASES_COUNT = `SELECT count(*) AS n FROM cases WHERE status = 'signed'`;
export const UNSIGNED_REVIEWS_COUNT = `SELECT count(*) AS n FROM current_decisions AS d JOIN cases AS c ON c.id = d.case_id WHERE c.status <> 'signed'`;

export interface ReviewedCellDbRow {
  case_id: number;
  accession: string;
  image_id: number;
  label: CellClassCode;
  vector: Buffer;
  open_set_score: number | null;
  predicted_class: CellClassCode;
  confidence: number;
  probabilities: string;
}

export function reviewedCellOf(r: ReviewedCellDbRow): ReviewedCell {
  return {
    caseId: r.case_id,
    accession: r.accession,
    imageId: r.image_id,
    label: r.label,
    embedding: decodeFloat16(r.vector),
    openSetScore: r.open_set_score,
    basePredicted: r.predicted_class,
    baseConfidence: r.confidence,
    baseProbabilities: JSON.parse(r.probabilities) as number[],
  };
}
