import { isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { actingUserId } from './acting-user';
import { appendAudit } from './audit';
import { requireCase } from './cases';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { ReviewRow } from './types';

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

/** When a stored time is shown in a refusal: the station's local date and time to the second. */
function shownTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * Refuses a decision made on a cell that changed since the reviewer saw it: "changed by <who> at <time> to <label>
 * — look again". Inside the writing transaction, so two stations can never both win.
 */
function requireSeenVersion(db: MarrowDatabase, caseId: number, imageId: number, seenVersion: number | undefined): void {
  if (seenVersion === undefined) return;
  const latest = sql(
    db,
    `SELECT r.id, r.kind, r.label, r.reviewer, r.created_at, i.relative_path,
       (SELECT d.label FROM current_decisions AS d WHERE d.image_id = r.image_id) AS in_force
     FROM reviews AS r JOIN images AS i ON i.id = r.image_id
     WHERE r.case_id = ? AND r.image_id = ? ORDER BY r.id DESC LIMIT 1`,
  ).get(caseId, imageId) as
    | {
        id: number;
        kind: 'decision' | 'retraction';
        label: CellClassCode | null;
        reviewer: string;
        created_at: string;
        relative_path: string;
        in_force: CellClassCode | null;
      }
    | undefined;
  const current = latest?.id ?? 0;
  if (current === seenVersion) return;
  if (latest === undefined) {
    throw new DatabaseError('stale', `Cell ${imageId} has no decision of version ${seenVersion}; look again.`);
  }
  const to = latest.kind === 'decision' ? `${latest.label}` : latest.in_force !== null ? `${latest.in_force} (an undo)` : "the model's label (an undo)";
  throw new DatabaseError('stale', `${latest.relative_path} was changed by ${latest.reviewer} at ${shownTime(latest.created_at)} to ${to} — look again.`);
}

interface ReviewDbRow {
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

const toRow = (r: ReviewDbRow): ReviewRow => ({
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

function validate(input: NewReview): { reviewer: string; note: string | null } {
  if (!isCellClassCode(input.label)) {
    throw new DatabaseError('unknown_class', `Review of image ${input.imageId}: unknown cell class code "${String(input.label)}" (not a Matek 2021 code).`);
  }
  const reviewer = input.reviewer.trim();
  if (reviewer === '') throw new DatabaseError('constraint', `Review of image ${input.imageId}: the reviewer's name is empty.`);
  const note = input.note?.trim() ? input.note.trim() : null;
  return { reviewer, note };
}

function insertDecisions(db: MarrowDatabase, inputs: readonly NewReview[]): ReviewRow[] {
  const checked = inputs.map((input) => ({ input, ...validate(input) }));
  const caseIds = [...new Set(inputs.map((i) => i.caseId))];
  for (const caseId of caseIds) {
    const row = requireCase(db, caseId);
    if (row.status === 'signed') {
      throw new DatabaseError('signed_case', `Case ${row.accession} is signed; amend it (with a reason) before changing a cell's label.`);
    }
  }
  const insert = sql(
    db,
    `INSERT INTO reviews (case_id, image_id, kind, label, reviewer, note, created_at, user_id, seen_version) VALUES (?, ?, 'decision', ?, ?, ?, ?, ?, ?) RETURNING *`,
  );
  const at = nowIso();
  return checked.map(({ input, reviewer, note }) => {
    requireSeenVersion(db, input.caseId, input.imageId, input.seenVersion);
    const created = toRow(insert.get(input.caseId, input.imageId, input.label, reviewer, note, at, actingUserId(), input.seenVersion ?? null) as ReviewDbRow);
    appendAudit(
      db,
      { actor: reviewer, action: 'review_added', caseId: input.caseId, detail: { reviewId: created.id, imageId: input.imageId, label: input.label, note } },
      at,
    );
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

/**
 * Undo: appends a retraction of the cell's latest decision that is still in force (whoever made it; the
 * retraction records who undid it). Repeated undos walk back through earlier decisions to the prediction.
 * 'not_found' when the cell has no decision in force.
 */
export function retractLatestReview(db: MarrowDatabase, input: { caseId: number; imageId: number; reviewer: string; seenVersion?: number }): ReviewRow {
  const reviewer = input.reviewer.trim();
  if (reviewer === '') throw new DatabaseError('constraint', `Undo on image ${input.imageId}: the reviewer's name is empty.`);
  return inTransaction(db, `Undoing the review of image ${input.imageId}`, () => {
    const row = requireCase(db, input.caseId);
    if (row.status === 'signed') {
      throw new DatabaseError('signed_case', `Case ${row.accession} is signed; amend it (with a reason) before changing a cell's label.`);
    }
    requireSeenVersion(db, input.caseId, input.imageId, input.seenVersion);
    const latest = sql(db, `SELECT r.* FROM current_decisions AS d JOIN reviews AS r ON r.id = d.review_id WHERE d.case_id = ? AND d.image_id = ?`).get(
      input.caseId,
      input.imageId,
    ) as ReviewDbRow | undefined;
    if (latest === undefined) {
      throw new DatabaseError('not_found', `Image ${input.imageId} of case ${row.accession} has no review to undo.`);
    }
    const at = nowIso();
    const created = toRow(
      sql(
        db,
        `INSERT INTO reviews (case_id, image_id, kind, retracts_review_id, reviewer, created_at, user_id, seen_version) VALUES (?, ?, 'retraction', ?, ?, ?, ?, ?) RETURNING *`,
      ).get(input.caseId, input.imageId, latest.id, reviewer, at, actingUserId(), input.seenVersion ?? null) as ReviewDbRow,
    );
    appendAudit(
      db,
      {
        actor: reviewer,
        action: 'review_retracted',
        caseId: input.caseId,
        detail: { reviewId: created.id, retracts: latest.id, imageId: input.imageId, label: latest.label, by: latest.reviewer },
      },
      at,
    );
    return created;
  });
}

/**
 * The cell of the person's most recent decision still in force in the case, or null. Undo with no cell named starts
 * here, so a reviewer's undo survives a reload of the screen: what they did last is on the server, not in the page.
 */
export function latestDecisionInForceBy(db: MarrowDatabase, caseId: number, reviewer: string): number | null {
  return read(`Finding the latest decision of ${reviewer} in case ${caseId}`, () => {
    const row = sql(
      db,
      `SELECT r.image_id FROM current_decisions AS d JOIN reviews AS r ON r.id = d.review_id
       WHERE d.case_id = ? AND r.reviewer = ? ORDER BY r.id DESC LIMIT 1`,
    ).get(caseId, reviewer.trim()) as { image_id: number } | undefined;
    return row?.image_id ?? null;
  });
}

/** The full review history (decisions and retractions), oldest first; of one cell when imageId is given. */
export function listReviews(db: MarrowDatabase, caseId: number, imageId?: number): ReviewRow[] {
  return read(`Reading the reviews of case ${caseId}`, () =>
    (imageId === undefined
      ? (sql(db, 'SELECT * FROM reviews WHERE case_id = ? ORDER BY id').all(caseId) as ReviewDbRow[])
      : (sql(db, 'SELECT * FROM reviews WHERE case_id = ? AND image_id = ? ORDER BY id').all(caseId, imageId) as ReviewDbRow[])
    ).map(toRow),
  );
}
