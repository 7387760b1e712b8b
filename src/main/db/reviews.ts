import { isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { actingUserId } from './acting-user';
import { appendAudit, type AuditEntry } from './audit';
import { requireCase } from './cases';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { CaseRow, ReviewRow } from './types';

// What both engines share of the review aggregate: the checks, the refusals and their words, the SQL text (named
// parameters, portable), the row mapper and the audit rows. postgres/reviews.ts adds only the locking that several
// stations on one server need.

export interface NewReview {
  caseId: number;
  imageId: number;
  /** Equal to the prediction to confirm it, different to reclassify. */
  label: CellClassCode;
  reviewer: string;
  note?: string;
  /** The cell's version (its latest review row id, 0 for none) the reviewer saw; refused 'stale' when it changed. */
  seenVersion?: number;
}

export interface UndoRequest {
  caseId: number;
  imageId: number;
  reviewer: string;
  seenVersion?: number;
}

/** When a stored time is shown in a refusal: the station's local date and time to the second. */
function shownTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The cell's latest review row (its version) and the label in force. Parameters @caseId, @imageId. */
export const LATEST_REVIEW_SQL = `SELECT r.id, r.kind, r.label, r.reviewer, r.created_at, i.relative_path,
       (SELECT d.label FROM current_decisions AS d WHERE d.image_id = r.image_id) AS in_force
     FROM reviews AS r JOIN images AS i ON i.id = r.image_id
     WHERE r.case_id = @caseId AND r.image_id = @imageId ORDER BY r.id DESC LIMIT 1`;

export interface LatestReviewDbRow {
  id: number;
  kind: 'decision' | 'retraction';
  label: CellClassCode | null;
  reviewer: string;
  created_at: string;
  relative_path: string;
  in_force: CellClassCode | null;
}

/**
 * The refusal of a decision made on a cell that changed since the reviewer saw it: "changed by <who> at <time> to
 * <label> — look again"; null when the version seen is the current one (or none was named). Both engines read
 * `latest` inside the writing transaction, with the cell locked on PostgreSQL, so two stations can never both win.
 */
export function staleRefusal(latest: LatestReviewDbRow | undefined, imageId: number, seenVersion: number | undefined): DatabaseError | null {
  if (seenVersion === undefined) return null;
  const current = latest?.id ?? 0;
  if (current === seenVersion) return null;
  if (latest === undefined) return new DatabaseError('stale', `Cell ${imageId} has no decision of version ${seenVersion}; look again.`);
  const to = latest.kind === 'decision' ? `${latest.label}` : latest.in_force !== null ? `${latest.in_force} (an undo)` : "the model's label (an undo)";
  return new DatabaseError('stale', `${latest.relative_path} was changed by ${latest.reviewer} at ${shownTime(latest.created_at)} to ${to} — look again.`);
}

function requireSeenVersion(db: MarrowDatabase, caseId: number, imageId: number, seenVersion: number | undefined): void {
  if (seenVersion === undefined) return;
  const refusal = staleRefusal(sql(db, LATEST_REVIEW_SQL).get({ caseId, imageId }) as LatestReviewDbRow | undefined, imageId, seenVersion);
  if (refusal !== null) throw refusal;
}

/** A reviews row as both engines return it. */
export interface ReviewDbRow {
  id: number;
  case_id: number;
  image_id: number;
  kind: 'decision' | 'retraction';
  label: CellClassCode | null;
  retracts_review_id: number | null;
  reviewer: string;
  note: string | null;
  created_at: string;
  user_id: number | null;
}

export const toReview = (r: ReviewDbRow): ReviewRow => ({
  id: r.id,
  caseId: r.case_id,
  imageId: r.image_id,
  kind: r.kind,
  label: r.label,
  reviewer: r.reviewer,
  note: r.note,
  retractsReviewId: r.retracts_review_id,
  createdAt: r.created_at,
  userId: r.user_id ?? null,
});

export interface CheckedReview {
  input: NewReview;
  reviewer: string;
  note: string | null;
}

/** The TypeScript checks of a decision, before any database work: a known class, a named reviewer, a trimmed note. */
export function checkedReview(input: NewReview): CheckedReview {
  if (!isCellClassCode(input.label)) {
    throw new DatabaseError('unknown_class', `Review of image ${input.imageId}: unknown cell class code "${String(input.label)}" (not a Matek 2021 code).`);
  }
  const reviewer = input.reviewer.trim();
  if (reviewer === '') throw new DatabaseError('constraint', `Review of image ${input.imageId}: the reviewer's name is empty.`);
  const note = input.note?.trim() ? input.note.trim() : null;
  return { input, reviewer, note };
}

/** The undo's reviewer, trimmed; refused when empty. */
export function undoReviewer(input: UndoRequest): string {
  const reviewer = input.reviewer.trim();
  if (reviewer === '') throw new DatabaseError('constraint', `Undo on image ${input.imageId}: the reviewer's name is empty.`);
  return reviewer;
}

/** Decisions are refused on a signed case (the trigger refuses them too; this says what to do). */
export function requireOpenForReview(row: CaseRow): void {
  if (row.status === 'signed') {
    throw new DatabaseError('signed_case', `Case ${row.accession} is signed; amend it (with a reason) before changing a cell's label.`);
  }
}

/** Each case of a batch once, in the order first named. */
export function casesOf(inputs: readonly { caseId: number }[]): number[] {
  return [...new Set(inputs.map((i) => i.caseId))];
}

export const INSERT_DECISION_SQL = `INSERT INTO reviews (case_id, image_id, kind, label, reviewer, note, created_at, user_id, seen_version)
  VALUES (@caseId, @imageId, 'decision', @label, @reviewer, @note, @at, @userId, @seenVersion) RETURNING *`;

export function decisionParams(checked: CheckedReview, at: string): Record<string, unknown> {
  const { input, reviewer, note } = checked;
  return {
    caseId: input.caseId,
    imageId: input.imageId,
    label: input.label,
    reviewer,
    note,
    at,
    userId: actingUserId(),
    seenVersion: input.seenVersion ?? null,
  };
}

export function reviewAddedEntry(checked: CheckedReview, created: ReviewRow): AuditEntry {
  const { input, reviewer, note } = checked;
  return { actor: reviewer, action: 'review_added', caseId: input.caseId, detail: { reviewId: created.id, imageId: input.imageId, label: input.label, note } };
}

function insertDecisions(db: MarrowDatabase, inputs: readonly NewReview[]): ReviewRow[] {
  const checked = inputs.map(checkedReview);
  for (const caseId of casesOf(inputs)) requireOpenForReview(requireCase(db, caseId));
  const at = nowIso();
  return checked.map((c) => {
    requireSeenVersion(db, c.input.caseId, c.input.imageId, c.input.seenVersion);
    const created = toReview(sql(db, INSERT_DECISION_SQL).get(decisionParams(c, at)) as ReviewDbRow);
    appendAudit(db, reviewAddedEntry(c, created), at);
    return created;
  });
}

/** Appends a human decision for a cell; refused ('signed_case') on a signed case. */
export function addReview(db: MarrowDatabase, input: NewReview): ReviewRow {
  return inTransaction(db, `Recording the review of image ${input.imageId}`, () => insertDecisions(db, [input])[0]!);
}

/** "Confirm all shown": every decision in one transaction, all or none. */
export function addReviews(db: MarrowDatabase, inputs: readonly NewReview[]): ReviewRow[] {
  if (inputs.length === 0) return [];
  return inTransaction(db, `Recording ${inputs.length} reviews`, () => insertDecisions(db, inputs));
}

/** The cell's decision in force. Parameters @caseId, @imageId. */
export const DECISION_IN_FORCE_SQL = `SELECT r.* FROM current_decisions AS d JOIN reviews AS r ON r.id = d.review_id WHERE d.case_id = @caseId AND d.image_id = @imageId`;

export const INSERT_RETRACTION_SQL = `INSERT INTO reviews (case_id, image_id, kind, retracts_review_id, reviewer, created_at, user_id, seen_version)
  VALUES (@caseId, @imageId, 'retraction', @retracts, @reviewer, @at, @userId, @seenVersion) RETURNING *`;

/**
 * What an undo appends, given the decision in force it withdraws: the retraction's values and its audit row
 * (who made the decision, who undid it); 'not_found' when the cell has no decision in force.
 */
export function retraction(
  row: CaseRow,
  input: UndoRequest,
  reviewer: string,
  latest: ReviewDbRow | undefined,
  at: string,
): { params: Record<string, unknown>; at: string; entry: (created: ReviewRow) => AuditEntry } {
  if (latest === undefined) throw new DatabaseError('not_found', `Image ${input.imageId} of case ${row.accession} has no review to undo.`);
  return {
    params: { caseId: input.caseId, imageId: input.imageId, retracts: latest.id, reviewer, at, userId: actingUserId(), seenVersion: input.seenVersion ?? null },
    at,
    entry: (created) => ({
      actor: reviewer,
      action: 'review_retracted',
      caseId: input.caseId,
      detail: { reviewId: created.id, retracts: latest.id, imageId: input.imageId, label: latest.label, by: latest.reviewer },
    }),
  };
}

/**
 * Undo: appends a retraction of the cell's latest decision that is still in force (whoever made it; the
 * retraction records who undid it). Repeated undos walk back through earlier decisions to the prediction.
 * 'not_found' when the cell has no decision in force.
 */
export function retractLatestReview(db: MarrowDatabase, input: UndoRequest): ReviewRow {
  const reviewer = undoReviewer(input);
  return inTransaction(db, `Undoing the review of image ${input.imageId}`, () => {
    const row = requireCase(db, input.caseId);
    requireOpenForReview(row);
    requireSeenVersion(db, input.caseId, input.imageId, input.seenVersion);
    const latest = sql(db, DECISION_IN_FORCE_SQL).get({ caseId: input.caseId, imageId: input.imageId }) as ReviewDbRow | undefined;
    const undo = retraction(row, input, reviewer, latest, nowIso());
    const created = toReview(sql(db, INSERT_RETRACTION_SQL).get(undo.params) as ReviewDbRow);
    appendAudit(db, undo.entry(created), undo.at);
    return created;
  });
}

/** The cell of a person's most recent decision in force in a case. Parameters @caseId, @reviewer. */
export const LATEST_DECISION_BY_SQL = `SELECT r.image_id FROM current_decisions AS d JOIN reviews AS r ON r.id = d.review_id
       WHERE d.case_id = @caseId AND r.reviewer = @reviewer ORDER BY r.id DESC LIMIT 1`;

/**
 * The cell of the person's most recent decision still in force in the case, or null. Undo with no cell named starts
 * here, so a reviewer's undo survives a reload of the screen: what they did last is on the server, not in the page.
 */
export function latestDecisionInForceBy(db: MarrowDatabase, caseId: number, reviewer: string): number | null {
  return read(`Finding the latest decision of ${reviewer} in case ${caseId}`, () => {
    const row = sql(db, LATEST_DECISION_BY_SQL).get({ caseId, reviewer: reviewer.trim() }) as { image_id: number } | undefined;
    return row?.image_id ?? null;
  });
}

/** The review history of a case, oldest first, or of one cell (@imageId). */
export function reviewHistorySql(imageId: number | undefined): string {
  return imageId === undefined
    ? 'SELECT * FROM reviews WHERE case_id = @caseId ORDER BY id'
    : 'SELECT * FROM reviews WHERE case_id = @caseId AND image_id = @imageId ORDER BY id';
}

/** The full review history (decisions and retractions), oldest first; of one cell when imageId is given. */
export function listReviews(db: MarrowDatabase, caseId: number, imageId?: number): ReviewRow[] {
  return read(`Reading the reviews of case ${caseId}`, () =>
    (sql(db, reviewHistorySql(imageId)).all(imageId === undefined ? { caseId } : { caseId, imageId }) as ReviewDbRow[]).map(toReview),
  );
}
