// Holds the TypeScript lifecycle (src/shared/case-lifecycle.ts) against the SQL triggers of migration 0007: every
// pair of statuses is tried directly in SQL, as a second writer would, and the actions that SQL guards (a review
// decision, a sign-off row, an amendment) are tried in every status.
import { describe, expect, it } from 'vitest';
import { CASE_STATUSES, canDo, canTransition, type CaseStatus } from '../../../src/shared/case-lifecycle';
import type { MarrowDatabase } from '../../../src/main/db';
import { addModel, openTemp, sha } from './helpers';

interface Fixture {
  db: MarrowDatabase;
  modelRowId: number;
  /** A sign-off of some other case, for amendments tried on cases that never had one. */
  foreignSignOffId: number;
  next: number;
}

function fixture(): Fixture {
  const { db } = openTemp();
  const model = addModel(db);
  db.raw.exec(`INSERT INTO patients (id, lab_id, created_at, updated_at) VALUES (1, 'MRN-1', 't', 't')`);
  const fx: Fixture = { db, modelRowId: model.id, foreignSignOffId: 0, next: 1 };
  const other = caseIn(fx, 'signed');
  fx.foreignSignOffId = (db.raw.prepare('SELECT max(id) AS id FROM sign_offs WHERE case_id = ?').get(other.caseId) as { id: number }).id;
  return fx;
}

function signOff(db: MarrowDatabase, caseId: number): void {
  db.raw.prepare(`INSERT INTO sign_offs (case_id, signed_by, role, signed_at, summary_snapshot) VALUES (?, 'dr.a', 'haematologist', 't', '{}')`).run(caseId);
}

function amend(db: MarrowDatabase, caseId: number, signOffId: number): void {
  db.raw
    .prepare(`INSERT INTO amendments (case_id, sign_off_id, amended_by, reason, amended_at) VALUES (?, ?, 'dr.a', 'wrong count', 't')`)
    .run(caseId, signOffId);
}

function excludeRemaining(db: MarrowDatabase, caseId: number): void {
  db.raw
    .prepare(
      `INSERT INTO remaining_exclusions (case_id, cancellation_id, files_excluded, reason, excluded_by, excluded_at)
       VALUES (?, (SELECT max(id) FROM analysis_cancellations WHERE case_id = ?), 2, 'slide damaged', 'tech', 't')`,
    )
    .run(caseId, caseId);
}

const setStatus = (db: MarrowDatabase, caseId: number, status: CaseStatus) => db.raw.prepare('UPDATE cases SET status = ? WHERE id = ?').run(status, caseId);

/** A new case with one imported cell, driven to `status` by raw SQL along allowed transitions. */
function caseIn(fx: Fixture, status: CaseStatus): { caseId: number; imageId: number } {
  const n = fx.next++;
  const { db } = fx;
  const caseId = Number(
    db.raw.prepare(`INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES (1, ?, 'other', '/c', 't')`).run(`LC-${n}`).lastInsertRowid,
  );
  const imageId = Number(
    db.raw.prepare(`INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES (?, 'cell.jpg', ?, 1, 't')`).run(caseId, sha(10_000 + n))
      .lastInsertRowid,
  );
  if (status === 'importing') return { caseId, imageId };
  db.raw.prepare(`UPDATE cases SET status = 'analysing', model_id = ? WHERE id = ?`).run(fx.modelRowId, caseId);
  if (status === 'analysing') return { caseId, imageId };
  if (status === 'cancelled') {
    db.raw
      .prepare(`INSERT INTO analysis_cancellations (case_id, files_analysed, files_total, cancelled_by, cancelled_at) VALUES (?, 1, 3, 'tech', 't')`)
      .run(caseId);
    setStatus(db, caseId, 'cancelled');
    return { caseId, imageId };
  }
  setStatus(db, caseId, 'in_review');
  if (status === 'in_review') return { caseId, imageId };
  if (status === 'submitted') {
    setStatus(db, caseId, 'submitted');
    return { caseId, imageId };
  }
  signOff(db, caseId);
  setStatus(db, caseId, 'signed');
  return { caseId, imageId };
}

/** Runs the statements in a savepoint and rolls them back: true when SQL accepted all of them. */
function acceptedBySql(db: MarrowDatabase, run: () => void): boolean {
  db.raw.exec('SAVEPOINT attempt');
  try {
    run();
    return true;
  } catch (e) {
    expect(String(e)).toMatch(/\[(constraint|signed_case)\]/);
    return false;
  } finally {
    db.raw.exec('ROLLBACK TO attempt; RELEASE attempt');
  }
}

const PAIRS = CASE_STATUSES.flatMap((from) => CASE_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));

describe('case lifecycle: the TypeScript table and the SQL triggers agree', () => {
  it('allows in SQL exactly the status changes of CASE_TRANSITIONS (every pair tried)', () => {
    const fx = fixture();
    const sqlAllowed: string[] = [];
    for (const [from, to] of PAIRS) {
      const { caseId } = caseIn(fx, from);
      const ok = acceptedBySql(fx.db, () => {
        // Each transition is tried with the record it needs, if any: releasing needs a sign-off, leaving a
        // released case needs an amendment of its latest sign-off.
        if (to === 'signed') signOff(fx.db, caseId);
        // Releasing a stopped case needs the remaining files excluded with a reason.
        if (from === 'cancelled' && to === 'in_review') excludeRemaining(fx.db, caseId);
        if (from === 'signed') {
          const latest = fx.db.raw.prepare('SELECT max(id) AS id FROM sign_offs WHERE case_id = ?').get(caseId) as { id: number };
          amend(fx.db, caseId, latest.id);
        }
        setStatus(fx.db, caseId, to);
      });
      if (ok) sqlAllowed.push(`${from}->${to}`);
    }
    const tsAllowed = PAIRS.filter(([from, to]) => canTransition(from, to)).map(([from, to]) => `${from}->${to}`);
    expect(sqlAllowed).toEqual(tsAllowed);
    // Written out from the issue, so that the table itself is checked and not only its agreement with SQL.
    expect(tsAllowed.sort()).toEqual(
      [
        'importing->analysing',
        'importing->cancelled',
        'analysing->in_review',
        'analysing->cancelled',
        'cancelled->analysing',
        'cancelled->in_review',
        'in_review->analysing',
        'in_review->submitted',
        'in_review->signed',
        'submitted->in_review',
        'submitted->signed',
        'signed->in_review',
      ].sort(),
    );
  });

  it('refuses in SQL a release without a sign-off, leaving a released case without an amendment, and reviewing a stopped case for release without an exclusion', () => {
    const fx = fixture();
    const stopped = caseIn(fx, 'cancelled');
    expect(() => setStatus(fx.db, stopped.caseId, 'in_review')).toThrow(/exclude the remaining files with a reason/);
    excludeRemaining(fx.db, stopped.caseId);
    setStatus(fx.db, stopped.caseId, 'in_review');
    for (const from of ['in_review', 'submitted'] as const) {
      const { caseId } = caseIn(fx, from);
      expect(() => setStatus(fx.db, caseId, 'signed')).toThrow(/can only be signed together with a sign-off record/);
    }
    const { caseId } = caseIn(fx, 'signed');
    expect(() => setStatus(fx.db, caseId, 'in_review')).toThrow(/\[signed_case\]/);
  });

  it('takes a review decision in SQL exactly in the statuses where canDo allows review', () => {
    const fx = fixture();
    for (const status of CASE_STATUSES) {
      const { caseId, imageId } = caseIn(fx, status);
      const ok = acceptedBySql(fx.db, () =>
        fx.db.raw
          .prepare(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES (?, ?, 'decision', 'BLA', 'tech', 't')`)
          .run(caseId, imageId),
      );
      expect(ok, status).toBe(canDo('review', { status }).allowed);
    }
  });

  it('stores a sign-off row in SQL exactly in the statuses where canDo allows authorising', () => {
    const fx = fixture();
    for (const status of CASE_STATUSES) {
      const { caseId } = caseIn(fx, status);
      const ok = acceptedBySql(fx.db, () => signOff(fx.db, caseId));
      expect(ok, status).toBe(canDo('authorise', { status }).allowed);
    }
  });

  it('stores an amendment in SQL exactly in the statuses where canDo allows amending', () => {
    const fx = fixture();
    for (const status of CASE_STATUSES) {
      const { caseId } = caseIn(fx, status);
      const latest = fx.db.raw.prepare('SELECT max(id) AS id FROM sign_offs WHERE case_id = ?').get(caseId) as { id: number | null };
      const ok = acceptedBySql(fx.db, () => amend(fx.db, caseId, latest.id ?? fx.foreignSignOffId));
      expect(ok, status).toBe(canDo('amend', { status }).allowed);
    }
  });
});
