import { SPECIMEN_TYPES, type CaseFilter, type CaseStatus, type ReviewProgress, type SpecimenType } from '../../shared/api';
import { canTransition } from '../../shared/case-lifecycle';
import { isCellClassCode } from '../../shared/cell-classes';
import { actingUserId } from './acting-user';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, readSnapshot, sql, type MarrowDatabase } from './connection';
import { EFFECTIVE_COUNTS_SQL, REVIEW_PROGRESS_SQL } from './effective';
import { DatabaseError } from './errors';
import { modelNotFound } from './models';
import { patientNotFound } from './patients';
import type { AmendmentRow, CaseListRow, CaseRow, ClassCounts, SignOffRow } from './types';

export interface NewCase {
  patientId: number;
  accession: string;
  specimen: SpecimenType;
  folder: string;
  actor: string;
}

/** A case row joined to its patient (CASE_SELECT), as either engine returns it. */
export interface CaseDbRow {
  id: number;
  patient_id: number;
  lab_id: string;
  patient_name: string | null;
  birth_date: string | null;
  accession: string;
  specimen: SpecimenType;
  folder: string;
  status: CaseStatus;
  model_id: number | null;
  created_at: string;
  analysed_at: string | null;
}

export const CASE_SELECT = `SELECT c.id, c.patient_id, p.lab_id, p.name AS patient_name, p.birth_date, c.accession, c.specimen,
  c.folder, c.status, c.model_id, c.created_at, c.analysed_at
FROM cases AS c JOIN patients AS p ON p.id = c.patient_id`;

export const toCaseRow = (r: CaseDbRow): CaseRow => ({
  id: r.id,
  patientId: r.patient_id,
  patientLabId: r.lab_id,
  patientName: r.patient_name,
  patientBirthDate: r.birth_date,
  accession: r.accession,
  specimen: r.specimen,
  folder: r.folder,
  status: r.status,
  modelRowId: r.model_id,
  createdAt: r.created_at,
  analysedAt: r.analysed_at,
});

function findCase(db: MarrowDatabase, id: number): CaseRow | undefined {
  const row = sql(db, `${CASE_SELECT} WHERE c.id = ?`).get(id) as CaseDbRow | undefined;
  return row === undefined ? undefined : toCaseRow(row);
}

/** Inside a transaction: the case, or 'not_found'. */
export function requireCase(db: MarrowDatabase, id: number): CaseRow {
  const found = findCase(db, id);
  if (found === undefined) throw caseNotFound(id);
  return found;
}

export function caseNotFound(id: number): DatabaseError {
  return new DatabaseError('not_found', `There is no case with id ${id}.`);
}

export function requireNotSigned(row: CaseRow, doing: string): void {
  if (row.status === 'signed') {
    throw new DatabaseError('signed_case', `Case ${row.accession} is signed; amend it (with a reason) before ${doing}.`);
  }
}

function requireText(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new DatabaseError('constraint', `The ${field} is empty.`);
  return trimmed;
}

/** A new case's accession, folder and actor as stored, checked before any database work (both engines). */
export function newCaseInput(input: NewCase): { accession: string; folder: string; actor: string } {
  const accession = requireText(input.accession, 'accession number');
  if (!(SPECIMEN_TYPES as readonly string[]).includes(input.specimen)) {
    throw new DatabaseError('constraint', `Unknown specimen type "${input.specimen}" (expected one of ${SPECIMEN_TYPES.join(', ')}).`);
  }
  return { accession, folder: requireText(input.folder, 'case folder'), actor: requireText(input.actor, 'name of the person creating the case') };
}

/** The refusal of an accession number that a case already uses (compared without regard to letter case). */
export function accessionTaken(accession: string, clash: { id: number; accession: string }): DatabaseError {
  return new DatabaseError(
    'duplicate',
    `Accession number ${accession} is already used by case ${clash.id} (${clash.accession}). Check the number, or open that case.`,
  );
}

export function caseCreatedAudit(input: NewCase, accession: string, folder: string, actor: string, caseId: number): AuditEntry {
  return { actor, action: 'case_created', caseId, detail: { accession, specimen: input.specimen, folder, patientId: input.patientId } };
}

export function createCase(db: MarrowDatabase, input: NewCase): CaseRow {
  const { accession, folder, actor } = newCaseInput(input);
  return inTransaction(db, `Creating case ${accession}`, () => {
    if (sql(db, 'SELECT 1 FROM patients WHERE id = ?').get(input.patientId) === undefined) throw patientNotFound(input.patientId);
    const clash = sql(db, 'SELECT id, accession FROM cases WHERE accession = ?').get(accession) as { id: number; accession: string } | undefined;
    if (clash !== undefined) throw accessionTaken(accession, clash);
    const at = nowIso();
    const { id } = sql(
      db,
      `INSERT INTO cases (patient_id, accession, specimen, folder, status, created_at) VALUES (?, ?, ?, ?, 'importing', ?) RETURNING id`,
    ).get(input.patientId, accession, input.specimen, folder, at) as { id: number };
    appendAudit(db, caseCreatedAudit(input, accession, folder, actor, id), at);
    return requireCase(db, id);
  });
}

/** Throws DatabaseError 'not_found' when there is no such case. */
export function getCase(db: MarrowDatabase, id: number): CaseRow {
  return read(`Reading case ${id}`, () => requireCase(db, id));
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const DEFAULT_PAGE = 200;

/**
 * The case list's query and its @named parameters, for either engine: `like` is LIKE on SQLite (case-insensitive for
 * ASCII, which covers identifiers and accession numbers) and ILIKE on PostgreSQL (whose LIKE heeds case).
 */
export function caseListQuery(filter: CaseFilter, like: 'LIKE' | 'ILIKE'): { text: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {
    limit: Math.max(0, Math.floor(filter.limit ?? DEFAULT_PAGE)),
    offset: Math.max(0, Math.floor(filter.offset ?? 0)),
  };
  const search = filter.search?.trim();
  if (search) {
    where.push(`(p.lab_id ${like} @search ESCAPE '\\' OR p.name ${like} @search ESCAPE '\\' OR c.accession ${like} @search ESCAPE '\\')`);
    params.search = `%${escapeLike(search)}%`;
  }
  if (filter.status !== undefined) {
    where.push('c.status = @status');
    params.status = filter.status;
  }
  const text = `${CASE_SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY c.created_at DESC, c.id DESC LIMIT @limit OFFSET @offset`;
  return { text, params };
}

export const LATEST_SIGN_OFF_SQL = 'SELECT signed_by, signed_at FROM sign_offs WHERE case_id = @caseId ORDER BY id DESC LIMIT 1';

/** A case list row from the case, its effective counts, its review progress and its latest sign-off. */
export function caseListRowOf(
  row: CaseRow,
  countsByClass: ClassCounts,
  progress: ReviewProgress,
  latest: { signed_by: string; signed_at: string } | undefined,
): CaseListRow {
  return {
    ...row,
    cellCount: Object.values(countsByClass).reduce((a, b) => a + b, 0),
    countsByClass,
    flaggedUnreviewed: progress.flagged - progress.flaggedReviewed,
    signedBy: latest?.signed_by ?? null,
    signedAt: latest?.signed_at ?? null,
  };
}

/** Newest first. Counts use effective labels (see effective.ts). */
export function listCases(db: MarrowDatabase, filter: CaseFilter): CaseListRow[] {
  const { text, params } = caseListQuery(filter, 'LIKE');
  return readSnapshot(db, 'Listing cases', () =>
    (sql(db, text).all(params) as CaseDbRow[]).map((r) => {
      const row = toCaseRow(r);
      const latest = sql(db, LATEST_SIGN_OFF_SQL).get({ caseId: row.id }) as { signed_by: string; signed_at: string } | undefined;
      return caseListRowOf(row, countsFor(db, row), progressFor(db, row), latest);
    }),
  );
}

/** Effective counts of a case already read (no transaction of its own). */
export function countsFor(db: MarrowDatabase, row: CaseRow, query: string = EFFECTIVE_COUNTS_SQL): ClassCounts {
  return classCountsOf(row, sql(db, query).all({ caseId: row.id, modelId: row.modelRowId }) as { label: string; n: number }[]);
}

/** Rows (label, n) of a counting query as ClassCounts; a label that is not a class code is refused (both engines). */
export function classCountsOf(row: Pick<CaseRow, 'accession'>, rows: readonly { label: string; n: number }[]): ClassCounts {
  const counts: ClassCounts = {};
  for (const r of rows) {
    if (!isCellClassCode(r.label)) {
      throw new DatabaseError('unknown_class', `Case ${row.accession} holds unknown cell class code "${r.label}".`);
    }
    counts[r.label] = r.n;
  }
  return counts;
}

export function progressFor(db: MarrowDatabase, row: CaseRow): ReviewProgress {
  return sql(db, REVIEW_PROGRESS_SQL).get({ caseId: row.id, modelId: row.modelRowId }) as ReviewProgress;
}

/**
 * The transitions of src/shared/case-lifecycle.ts, except the two that must leave a record: signing (signCase, with
 * its sign-off) and re-opening a signed case (amendCase, with its amendment).
 */
export function setCaseStatus(db: MarrowDatabase, caseId: number, status: CaseStatus, actor: string): CaseRow {
  return inTransaction(db, `Changing the status of case ${caseId}`, () => changeStatus(db, requireCase(db, caseId), status, actor));
}

/**
 * Whether the case may move to status: false when it is there already (nothing to do); the typed refusal when the
 * move is not allowed; else true, and whether the move also stamps analysed_at (the end of an analysis).
 */
export function statusChange(row: CaseRow, status: CaseStatus): { stampsAnalysedAt: boolean } | false {
  if (row.status === status) return false;
  requireNotSigned(row, `changing its status`);
  if (status === 'signed') {
    throw new DatabaseError('constraint', `Case ${row.accession} is signed by signing it off (signCase), which records who signed.`);
  }
  if (!canTransition(row.status, status)) {
    throw new DatabaseError('constraint', `Case ${row.accession} cannot go from ${row.status} to ${status}.`);
  }
  return { stampsAnalysedAt: status === 'in_review' && row.status === 'analysing' };
}

export function statusChangedAudit(row: CaseRow, status: CaseStatus, actor: string): AuditEntry {
  return { actor, action: 'case_status_changed', caseId: row.id, detail: { from: row.status, to: status } };
}

function changeStatus(db: MarrowDatabase, row: CaseRow, status: CaseStatus, actor: string): CaseRow {
  const change = statusChange(row, status);
  if (change === false) return row;
  const at = nowIso();
  if (change.stampsAnalysedAt) {
    sql(db, 'UPDATE cases SET status = ?, analysed_at = ? WHERE id = ?').run(status, at, row.id);
  } else {
    sql(db, 'UPDATE cases SET status = ? WHERE id = ?').run(status, row.id);
  }
  appendAudit(db, statusChangedAudit(row, status, actor), at);
  return requireCase(db, row.id);
}

export function modelSetAudit(row: CaseRow, modelRowId: number, actor: string): AuditEntry {
  return { actor, action: 'case_model_set', caseId: row.id, detail: { from: row.modelRowId, to: modelRowId } };
}

function changeModel(db: MarrowDatabase, row: CaseRow, modelRowId: number, actor: string): CaseRow {
  requireNotSigned(row, 'changing its model');
  if (sql(db, 'SELECT 1 FROM models WHERE id = ?').get(modelRowId) === undefined) throw modelNotFound(modelRowId);
  if (row.modelRowId === modelRowId) return row;
  const at = nowIso();
  sql(db, 'UPDATE cases SET model_id = ? WHERE id = ?').run(modelRowId, row.id);
  appendAudit(db, modelSetAudit(row, modelRowId, actor), at);
  return requireCase(db, row.id);
}

/** Makes modelRowId the model whose predictions count for the case (its "current model"). */
export function setCaseModel(db: MarrowDatabase, input: { caseId: number; modelRowId: number; actor: string }): CaseRow {
  return inTransaction(db, `Setting the model of case ${input.caseId}`, () => changeModel(db, requireCase(db, input.caseId), input.modelRowId, input.actor));
}

/**
 * One transaction: set the case's current model and move it to 'analysing' (from importing or in_review; a case
 * already analysing stays so, which is how an interrupted analysis resumes).
 */
export function beginAnalysis(db: MarrowDatabase, input: { caseId: number; modelRowId: number; actor: string }): CaseRow {
  return inTransaction(db, `Starting analysis of case ${input.caseId}`, () => {
    const row = changeModel(db, requireCase(db, input.caseId), input.modelRowId, input.actor);
    return changeStatus(db, row, 'analysing', input.actor);
  });
}

export interface SignCaseInput {
  caseId: number;
  signedBy: string;
  role: string;
  overrideReason: string | null;
  /** JSON of the differential at signing. */
  summarySnapshot: string;
  /** The signatures the release rests on (migration 0009): the technical validation and the medical authorisation. */
  validationSignatureId?: number | null;
  authorisationSignatureId?: number | null;
  /** The authorising pathologist's interpretation, printed on the report and sent to the LIS. */
  interpretiveComment?: string | null;
}

export interface SignOffDbRow {
  id: number;
  case_id: number;
  signed_by: string;
  role: string;
  signed_at: string;
  override_reason: string | null;
  summary_snapshot: string;
  user_id: number | null;
  validation_signature_id: number | null;
  authorisation_signature_id: number | null;
  interpretive_comment: string | null;
}

export const toSignOff = (r: SignOffDbRow): SignOffRow => ({
  id: r.id,
  caseId: r.case_id,
  signedBy: r.signed_by,
  role: r.role,
  signedAt: r.signed_at,
  overrideReason: r.override_reason,
  summarySnapshot: r.summary_snapshot,
  userId: r.user_id ?? null,
  validationSignatureId: r.validation_signature_id ?? null,
  authorisationSignatureId: r.authorisation_signature_id ?? null,
  interpretiveComment: r.interpretive_comment ?? null,
});

export interface AmendmentDbRow {
  id: number;
  case_id: number;
  sign_off_id: number;
  amended_by: string;
  reason: string;
  amended_at: string;
  user_id: number | null;
}

export const toAmendment = (r: AmendmentDbRow): AmendmentRow => ({
  id: r.id,
  caseId: r.case_id,
  signOffId: r.sign_off_id,
  userId: r.user_id ?? null,
  by: r.amended_by,
  reason: r.reason,
  at: r.amended_at,
});

/** A sign-off's values as stored, checked before any database work (both engines). */
export function signOffInput(input: SignCaseInput): { signedBy: string; role: string; overrideReason: string | null; interpretiveComment: string | null } {
  const signedBy = requireText(input.signedBy, "signing person's name");
  const role = requireText(input.role, "signing person's role");
  const overrideReason = input.overrideReason?.trim() ? input.overrideReason.trim() : null;
  try {
    JSON.parse(input.summarySnapshot);
  } catch (e) {
    throw new DatabaseError('constraint', 'The summary snapshot to store with the sign-off is not valid JSON.', { cause: e });
  }
  return { signedBy, role, overrideReason, interpretiveComment: input.interpretiveComment?.trim() ? input.interpretiveComment.trim() : null };
}

/** Only a case in review or submitted can be signed. */
export function requireSignable(row: CaseRow): void {
  if (row.status === 'signed') throw new DatabaseError('signed_case', `Case ${row.accession} is already signed.`);
  if (row.status !== 'in_review' && row.status !== 'submitted') {
    throw new DatabaseError('constraint', `Case ${row.accession} is ${row.status}; only a case in review or submitted can be signed.`);
  }
}

export const SIGN_OFF_COLUMNS =
  '(case_id, signed_by, role, signed_at, override_reason, summary_snapshot, user_id, validation_signature_id, authorisation_signature_id, interpretive_comment)';

/** A sign_offs row's values in SIGN_OFF_COLUMNS order; the person is the current call's (acting-user.ts). */
export function signOffValues(row: CaseRow, input: SignCaseInput, checked: ReturnType<typeof signOffInput>, at: string): unknown[] {
  return [
    row.id,
    checked.signedBy,
    checked.role,
    at,
    checked.overrideReason,
    input.summarySnapshot,
    actingUserId(),
    input.validationSignatureId ?? null,
    input.authorisationSignatureId ?? null,
    checked.interpretiveComment,
  ];
}

export function signedAudit(row: CaseRow, s: SignOffDbRow): AuditEntry {
  return { actor: s.signed_by, action: 'case_signed', caseId: row.id, detail: { signOffId: s.id, role: s.role, overrideReason: s.override_reason } };
}

/** Records the sign-off and freezes the case (status 'signed'), together or not at all. */
export function signCase(db: MarrowDatabase, input: SignCaseInput): { case: CaseRow; signOff: SignOffRow } {
  const checked = signOffInput(input);
  return inTransaction(db, `Signing case ${input.caseId}`, () => {
    const row = requireCase(db, input.caseId);
    requireSignable(row);
    const at = nowIso();
    const signOff = sql(db, `INSERT INTO sign_offs ${SIGN_OFF_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`).get(
      ...signOffValues(row, input, checked, at),
    ) as SignOffDbRow;
    sql(db, `UPDATE cases SET status = 'signed' WHERE id = ?`).run(row.id);
    appendAudit(db, signedAudit(row, signOff), at);
    return { case: requireCase(db, row.id), signOff: toSignOff(signOff) };
  });
}

/** An amendment's person and reason as stored, checked before any database work (both engines). */
export function amendmentInput(input: { by: string; reason: string }): { by: string; reason: string } {
  return { by: requireText(input.by, 'name of the person amending'), reason: requireText(input.reason, 'reason for the amendment') };
}

export function requireAmendable(row: CaseRow): void {
  if (row.status !== 'signed') {
    throw new DatabaseError('constraint', `Case ${row.accession} is not signed (it is ${row.status}); there is nothing to amend.`);
  }
}

export function amendedAudit(row: CaseRow, a: AmendmentDbRow): AuditEntry {
  return { actor: a.amended_by, action: 'case_amended', caseId: row.id, detail: { amendmentId: a.id, signOffId: a.sign_off_id, reason: a.reason } };
}

/** Re-opens a signed case (back to in_review) with a recorded reason; the sign-off itself stays on record. */
export function amendCase(db: MarrowDatabase, input: { caseId: number; by: string; reason: string }): { case: CaseRow; amendment: AmendmentRow } {
  const { by, reason } = amendmentInput(input);
  return inTransaction(db, `Amending case ${input.caseId}`, () => {
    const row = requireCase(db, input.caseId);
    requireAmendable(row);
    const latest = sql(db, 'SELECT max(id) AS id FROM sign_offs WHERE case_id = ?').get(row.id) as { id: number };
    const at = nowIso();
    const amendment = sql(
      db,
      'INSERT INTO amendments (case_id, sign_off_id, amended_by, reason, amended_at, user_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
    ).get(row.id, latest.id, by, reason, at, actingUserId()) as AmendmentDbRow;
    sql(db, `UPDATE cases SET status = 'in_review' WHERE id = ?`).run(row.id);
    appendAudit(db, amendedAudit(row, amendment), at);
    return { case: requireCase(db, row.id), amendment: toAmendment(amendment) };
  });
}

export function listSignOffs(db: MarrowDatabase, caseId: number): SignOffRow[] {
  return read(`Reading the sign-offs of case ${caseId}`, () =>
    (sql(db, 'SELECT * FROM sign_offs WHERE case_id = ? ORDER BY id').all(caseId) as SignOffDbRow[]).map(toSignOff),
  );
}

export function listAmendments(db: MarrowDatabase, caseId: number): AmendmentRow[] {
  return read(`Reading the amendments of case ${caseId}`, () =>
    (sql(db, 'SELECT * FROM amendments WHERE case_id = ? ORDER BY id').all(caseId) as AmendmentDbRow[]).map(toAmendment),
  );
}

/**
 * The case's version: the id of its latest audit entry other than LIS delivery. Every decision, undo, status or
 * model change, sign-off and amendment appends one, so a person who saw version v and acts on a case whose version
 * is no longer v acts on something they did not see (issue 21). Derived, so nothing can forget to bump it.
 */
export const CASE_VERSION_SQL = `SELECT id, actor, at, action FROM audit_log WHERE case_id = @caseId AND action NOT LIKE 'lis%' ORDER BY id DESC LIMIT 1`;

export function caseVersionFrom(r: { id: number; actor: string; at: string; action: string } | undefined): {
  version: number;
  actor: string | null;
  at: string | null;
  action: string | null;
} {
  return r === undefined ? { version: 0, actor: null, at: null, action: null } : { version: r.id, actor: r.actor, at: r.at, action: r.action };
}

export function caseVersionOf(db: MarrowDatabase, caseId: number): { version: number; actor: string | null; at: string | null; action: string | null } {
  return read(`Reading the version of case ${caseId}`, () => {
    const r = sql(db, CASE_VERSION_SQL).get({ caseId }) as { id: number; actor: string; at: string; action: string } | undefined;
    return caseVersionFrom(r);
  });
}

/** True when the case was re-opened after a release at least once. */
export function isAmended(db: MarrowDatabase, caseId: number): boolean {
  return read(`Reading the amendments of case ${caseId}`, () => sql(db, 'SELECT 1 FROM amendments WHERE case_id = ? LIMIT 1').get(caseId) !== undefined);
}

export const CHANGE_SINCE_SQL = `SELECT actor, at, action FROM audit_log
  WHERE case_id = @caseId AND id > @version AND action NOT LIKE 'lis%' AND actor <> @actor
  ORDER BY id DESC LIMIT 1`;

/** The latest change of the case after `version` made by someone other than `actor`, or null (see caseVersionOf). */
export function changeSince(db: MarrowDatabase, caseId: number, version: number, actor: string): { actor: string; at: string; action: string } | null {
  return read(`Reading the changes of case ${caseId}`, () => {
    const r = sql(db, CHANGE_SINCE_SQL).get({ caseId, version, actor: actor.trim() }) as { actor: string; at: string; action: string } | undefined;
    return r ?? null;
  });
}
