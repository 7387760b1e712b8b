// The rules the schema itself enforces, tried in raw SQL as a second writer would, on both engines: the same
// statements against a migrated SQLite file and a migrated PostgreSQL database must be accepted or refused alike,
// with the same typed error. Covers the case lifecycle (every pair of statuses, against CASE_TRANSITIONS),
// append-only tables, the frozen signed case, class codes, the derived tables, LIS delivery states and lab-model
// states.
import { describe, expect, it } from 'vitest';
import { CELL_CLASS_CODES } from '../../../src/shared/cell-classes';
import { CASE_STATUSES, canDo, canTransition, type CaseStatus } from '../../../src/shared/case-lifecycle';
import type { DatabaseError } from '../../../src/main/db';
import { ENGINES, attempt, engineFactory, usePostgres, type SqlEngine } from './engines';

const setup = usePostgres();
const open = engineFactory(setup);

const FOUR = '["BLA","LYT","NGS","EBO"]';
const PROBS = '[0.7,0.1,0.1,0.1]';

interface Fixture {
  e: SqlEngine;
  patientId: number;
  modelId: number;
  /** A sign-off of some other case, for amendments tried on cases that never had one. */
  foreignSignOffId: number;
  next: number;
}

const sha = (n: number) => n.toString(16).padStart(64, '0');

async function insertId(e: SqlEngine, sql: string, params: readonly unknown[]): Promise<number> {
  const rows = await e.query<{ id: number }>(`${sql} RETURNING id`, params);
  return Number(rows[0]!.id);
}

async function fixture(e: SqlEngine): Promise<Fixture> {
  const patientId = await insertId(e, `INSERT INTO patients (lab_id, created_at, updated_at) VALUES ('MRN-1', 't', 't')`, []);
  const modelId = await insertId(
    e,
    `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('m', '1', ?, 'M', ?, 4, 't')`,
    [sha(1), FOUR],
  );
  const fx: Fixture = { e, patientId, modelId, foreignSignOffId: 0, next: 1 };
  const other = await caseIn(fx, 'signed');
  fx.foreignSignOffId = await latestSignOff(e, other.caseId);
  return fx;
}

async function latestSignOff(e: SqlEngine, caseId: number): Promise<number> {
  const rows = await e.query<{ id: number | null }>('SELECT max(id) AS id FROM sign_offs WHERE case_id = ?', [caseId]);
  return Number(rows[0]!.id);
}

const signOff = (e: SqlEngine, caseId: number) =>
  e.query(`INSERT INTO sign_offs (case_id, signed_by, role, signed_at, summary_snapshot) VALUES (?, 'dr.a', 'haematologist', 't', '{}')`, [caseId]);
const amend = (e: SqlEngine, caseId: number, signOffId: number) =>
  e.query(`INSERT INTO amendments (case_id, sign_off_id, amended_by, reason, amended_at) VALUES (?, ?, 'dr.a', 'wrong count', 't')`, [caseId, signOffId]);
const setStatus = (e: SqlEngine, caseId: number, status: CaseStatus) => e.query('UPDATE cases SET status = ? WHERE id = ?', [status, caseId]);
const review = (e: SqlEngine, caseId: number, imageId: number, label = 'BLA') =>
  insertId(e, `INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES (?, ?, 'decision', ?, 'tech', 't')`, [caseId, imageId, label]);
const retract = (e: SqlEngine, caseId: number, imageId: number, reviewId: number) =>
  insertId(e, `INSERT INTO reviews (case_id, image_id, kind, retracts_review_id, reviewer, created_at) VALUES (?, ?, 'retraction', ?, 'tech', 't')`, [
    caseId,
    imageId,
    reviewId,
  ]);

async function addImage(fx: Fixture, caseId: number, path = `cell-${fx.next++}.jpg`): Promise<number> {
  return insertId(fx.e, `INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES (?, ?, ?, 1, 't')`, [
    caseId,
    path,
    sha(100_000 + fx.next++),
  ]);
}

function predict(fx: Fixture, caseId: number, imageId: number, cls = 'BLA', flagged = 0, probs = PROBS): Promise<number> {
  return insertId(
    fx.e,
    `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
     VALUES (?, ?, ?, ?, ?, 0.7, ?, '[]', 't')`,
    [imageId, caseId, fx.modelId, cls, probs, flagged],
  );
}

/** A new case with one imported cell, driven to `status` by raw SQL along allowed transitions. */
async function excludeRemaining(e: SqlEngine, caseId: number): Promise<void> {
  await e.query(`INSERT INTO analysis_cancellations (case_id, files_analysed, files_total, cancelled_by, cancelled_at) VALUES (?, 1, 3, 'tech', 't')`, [
    caseId,
  ]);
  await e.query(
    `INSERT INTO remaining_exclusions (case_id, cancellation_id, files_excluded, reason, excluded_by, excluded_at)
     VALUES (?, (SELECT max(id) FROM analysis_cancellations WHERE case_id = ?), 2, 'slide damaged', 'tech', 't')`,
    [caseId, caseId],
  );
}

async function caseIn(fx: Fixture, status: CaseStatus): Promise<{ caseId: number; imageId: number }> {
  const { e } = fx;
  const caseId = await insertId(e, `INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES (?, ?, 'other', '/c', 't')`, [
    fx.patientId,
    `LC-${fx.next++}`,
  ]);
  const imageId = await addImage(fx, caseId);
  if (status === 'importing') return { caseId, imageId };
  await e.query(`UPDATE cases SET status = 'analysing', model_id = ? WHERE id = ?`, [fx.modelId, caseId]);
  if (status === 'analysing') return { caseId, imageId };
  if (status === 'cancelled') {
    await setStatus(e, caseId, 'cancelled');
    return { caseId, imageId };
  }
  await setStatus(e, caseId, 'in_review');
  if (status === 'in_review') return { caseId, imageId };
  if (status === 'submitted') {
    await setStatus(e, caseId, 'submitted');
    return { caseId, imageId };
  }
  await signOff(e, caseId);
  await setStatus(e, caseId, 'signed');
  return { caseId, imageId };
}

function expectRefused(error: DatabaseError | null, kind: DatabaseError['kind'], message?: RegExp): void {
  expect(error, 'the engine accepted what it must refuse').not.toBeNull();
  expect(error!.kind, error!.message).toBe(kind);
  if (message) expect(error!.message).toMatch(message);
}

const PAIRS = CASE_STATUSES.flatMap((from) => CASE_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));

describe.each(ENGINES)('SQL rules on %s', (engine) => {
  const skip = engine === 'postgres' && setup.unavailable !== null;

  describe.skipIf(skip)('case lifecycle', () => {
    it('allows exactly the status changes of CASE_TRANSITIONS (every pair tried)', async () => {
      const fx = await fixture(await open(engine));
      const allowed: string[] = [];
      for (const [from, to] of PAIRS) {
        const { caseId } = await caseIn(fx, from);
        const error = await attempt(fx.e, async () => {
          // Each transition is tried with the record it needs: releasing needs a sign-off, leaving a released case
          // needs an amendment of its latest sign-off.
          if (to === 'signed') await signOff(fx.e, caseId);
          if (from === 'signed') await amend(fx.e, caseId, await latestSignOff(fx.e, caseId));
          // Reviewing a stopped case for release needs its remaining files excluded with a reason (migration 0010).
          if (from === 'cancelled' && to === 'in_review') await excludeRemaining(fx.e, caseId);
          await setStatus(fx.e, caseId, to);
        });
        if (error === null) allowed.push(`${from}->${to}`);
        else expect(['constraint', 'signed_case']).toContain(error.kind);
      }
      expect(allowed).toEqual(PAIRS.filter(([from, to]) => canTransition(from, to)).map(([from, to]) => `${from}->${to}`));
    });

    it('refuses a release without a sign-off, leaving a released case without an amendment, and a new case not importing', async () => {
      const fx = await fixture(await open(engine));
      for (const from of ['in_review', 'submitted'] as const) {
        const { caseId } = await caseIn(fx, from);
        expectRefused(await attempt(fx.e, () => setStatus(fx.e, caseId, 'signed')), 'constraint', /can only be signed together with a sign-off record/);
      }
      const { caseId } = await caseIn(fx, 'signed');
      expectRefused(await attempt(fx.e, () => setStatus(fx.e, caseId, 'in_review')), 'signed_case', /is signed; amend it/);
      expectRefused(
        await attempt(fx.e, () =>
          fx.e.query(`INSERT INTO cases (patient_id, accession, specimen, folder, status, created_at) VALUES (?, 'X-1', 'other', '/c', 'in_review', 't')`, [
            fx.patientId,
          ]),
        ),
        'constraint',
        /a new case starts in status importing/,
      );
    });

    it('takes a review decision, a sign-off and an amendment exactly in the statuses canDo allows', async () => {
      const fx = await fixture(await open(engine));
      for (const status of CASE_STATUSES) {
        const reviewCase = await caseIn(fx, status);
        const reviewed = await attempt(fx.e, () => review(fx.e, reviewCase.caseId, reviewCase.imageId));
        expect(reviewed === null, `review while ${status}`).toBe(canDo('review', { status }).allowed);

        const signCase = await caseIn(fx, status);
        const signed = await attempt(fx.e, () => signOff(fx.e, signCase.caseId));
        expect(signed === null, `sign-off while ${status}`).toBe(canDo('authorise', { status }).allowed);

        const amendCase = await caseIn(fx, status);
        const latest = (await latestSignOff(fx.e, amendCase.caseId)) || fx.foreignSignOffId;
        const amended = await attempt(fx.e, () => amend(fx.e, amendCase.caseId, latest));
        expect(amended === null, `amendment while ${status}`).toBe(canDo('amend', { status }).allowed);
      }
    });

    it('refuses to delete a case and treats accession numbers case-insensitively as one', async () => {
      const fx = await fixture(await open(engine));
      const { caseId } = await caseIn(fx, 'in_review');
      expectRefused(await attempt(fx.e, () => fx.e.query('DELETE FROM cases WHERE id = ?', [caseId])), 'constraint', /a case is never deleted/);
      const accession = (await fx.e.query<{ accession: string }>('SELECT accession FROM cases WHERE id = ?', [caseId]))[0]!.accession;
      expectRefused(
        await attempt(fx.e, () =>
          fx.e.query(`INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES (?, ?, 'other', '/c', 't')`, [
            fx.patientId,
            accession.toLowerCase(),
          ]),
        ),
        'duplicate',
      );
    });
  });

  describe.skipIf(skip)('append-only records', () => {
    /** One row in every append-only table, then each UPDATE and DELETE tried. */
    async function populated(): Promise<Fixture> {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'in_review');
      const predictionId = await predict(fx, caseId, imageId);
      await fx.e.query('INSERT INTO prediction_embeddings (prediction_id, dim, vector) VALUES (?, 2, ?)', [predictionId, Buffer.from([0, 60, 0, 60])]);
      await review(fx.e, caseId, imageId);
      await fx.e.query(`INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES ('t', 'tech', 'review', ?, '{}')`, [caseId]);
      // The fixture's signed case, amended: a sign-off and an amendment row.
      const signedCase = await caseIn(fx, 'signed');
      await amend(fx.e, signedCase.caseId, await latestSignOff(fx.e, signedCase.caseId));
      const resultId = await insertId(fx.e, `INSERT INTO lis_results (case_id, sign_off_id, result_status, created_at) VALUES (?, ?, 'F', 't')`, [
        signedCase.caseId,
        await latestSignOff(fx.e, signedCase.caseId),
      ]);
      const messageId = await insertId(
        fx.e,
        `INSERT INTO lis_messages (result_id, case_id, format, control_id, payload, created_at) VALUES (?, ?, 'hl7v2', 'MC-1', 'MSH|...', 't')`,
        [resultId, signedCase.caseId],
      );
      await fx.e.query(`INSERT INTO lis_deliveries (message_id, channel, status, updated_at) VALUES (?, 'outbox', 'queued', 't')`, [messageId]);
      const labModelRow = await insertId(
        fx.e,
        `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('lab', '1', ?, 'Lab', ?, 4, 't')`,
        [sha(2), FOUR],
      );
      await insertLabModel(fx, labModelRow);
      return fx;
    }

    const UPDATES: readonly (readonly [string, string])[] = [
      ['cell_classes', `UPDATE cell_classes SET code = 'BLX' WHERE code = 'BLA'`],
      ['models', `UPDATE models SET name = 'renamed'`],
      ['model_classes', 'UPDATE model_classes SET position = position + 10'],
      ['images', `UPDATE images SET relative_path = 'other.jpg'`],
      ['predictions', `UPDATE predictions SET predicted_class = 'LYT'`],
      ['prediction_embeddings', 'UPDATE prediction_embeddings SET open_set_score = 1'],
      ['reviews', `UPDATE reviews SET label = 'LYT'`],
      ['sign_offs', `UPDATE sign_offs SET signed_by = 'someone else'`],
      ['amendments', `UPDATE amendments SET reason = 'another reason'`],
      ['audit_log', `UPDATE audit_log SET actor = 'someone else'`],
      ['lis_messages', `UPDATE lis_messages SET payload = 'MSH|changed'`],
    ];
    const DELETES = [...UPDATES.map(([table]) => table), 'cases', 'lis_results', 'lis_deliveries', 'lab_models'];

    it('refuses to change a row of any append-only table', async () => {
      const fx = await populated();
      for (const [table, sql] of UPDATES) {
        expectRefused(await attempt(fx.e, () => fx.e.query(sql)), 'constraint', /never|append-only|only through a migration/);
        expect(table).toBeTruthy();
      }
    });

    it('refuses to delete a row of any append-only table', async () => {
      const fx = await populated();
      for (const table of DELETES) {
        const rows = await fx.e.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
        expect(Number(rows[0]!.n), `${table} has rows to delete`).toBeGreaterThan(0);
        expectRefused(await attempt(fx.e, () => fx.e.query(`DELETE FROM ${table}`)), 'constraint', /never|append-only|only through a migration/);
      }
    });

    it.runIf(engine === 'postgres')('refuses TRUNCATE of an append-only table (PostgreSQL skips row triggers for it)', async () => {
      const fx = await populated();
      for (const table of DELETES) {
        expectRefused(await attempt(fx.e, () => fx.e.query(`TRUNCATE ${table} CASCADE`)), 'constraint', /never|append-only|only through a migration/);
      }
    });
  });

  describe.skipIf(skip)('a signed case is frozen', () => {
    it('refuses changing the case and adding images, predictions, reviews or a second sign-off', async () => {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'signed');
      const frozen = /is (already )?signed/;
      expectRefused(await attempt(fx.e, () => fx.e.query(`UPDATE cases SET folder = '/elsewhere' WHERE id = ?`, [caseId])), 'signed_case', frozen);
      expectRefused(await attempt(fx.e, () => addImage(fx, caseId)), 'signed_case', frozen);
      expectRefused(await attempt(fx.e, () => predict(fx, caseId, imageId)), 'signed_case', frozen);
      expectRefused(await attempt(fx.e, () => review(fx.e, caseId, imageId)), 'signed_case', frozen);
      expectRefused(await attempt(fx.e, () => signOff(fx.e, caseId)), 'signed_case', frozen);
      // An amendment re-opens it, and then only the status may change.
      await amend(fx.e, caseId, await latestSignOff(fx.e, caseId));
      expectRefused(
        await attempt(fx.e, () => fx.e.query(`UPDATE cases SET status = 'in_review', folder = '/elsewhere' WHERE id = ?`, [caseId])),
        'signed_case',
      );
      expect(await attempt(fx.e, () => setStatus(fx.e, caseId, 'in_review'))).toBeNull();
    });
  });

  describe.skipIf(skip)('specimen dates', () => {
    it('are fixed once the case is signed, never deleted, and name a real day', async () => {
      const fx = await fixture(await open(engine));
      const record = (caseId: number, day: string) =>
        fx.e.query(`INSERT INTO case_specimen_dates (case_id, collected_on, recorded_by, recorded_at) VALUES (?, ?, 'tech', 't')`, [caseId, day]);
      const open_ = await caseIn(fx, 'in_review');
      expectRefused(await attempt(fx.e, () => record(open_.caseId, '2026-02-30')), 'constraint');
      await record(open_.caseId, '2026-02-03');
      await fx.e.query(`UPDATE case_specimen_dates SET collected_on = '2026-02-04' WHERE case_id = ?`, [open_.caseId]);
      expectRefused(await attempt(fx.e, () => fx.e.query('DELETE FROM case_specimen_dates')), 'constraint', /never deleted/);
      await signOff(fx.e, open_.caseId);
      await setStatus(fx.e, open_.caseId, 'signed');
      expectRefused(
        await attempt(fx.e, () => fx.e.query(`UPDATE case_specimen_dates SET collected_on = '2026-02-05' WHERE case_id = ?`, [open_.caseId])),
        'signed_case',
        /before changing its specimen date/,
      );
      const signed = await caseIn(fx, 'signed');
      expectRefused(await attempt(fx.e, () => record(signed.caseId, '2026-02-03')), 'signed_case', /before recording its specimen date/);
    });
  });

  describe.skipIf(skip)('review layout', () => {
    const CODES: string[] = [...CELL_CLASS_CODES];
    const keys = () => Object.fromEntries(CODES.map((c, i) => [c, 'abcdefghijklmnopqrstu'[i]!]));
    const save = (e: SqlEngine, classKeys: Record<string, string>, order: string[], hidden: string[]) =>
      e.query(`INSERT INTO review_layout (id, class_keys, class_order, hidden_classes, updated_at, updated_by) VALUES (1, ?, ?, ?, 't', 'tech')`, [
        JSON.stringify(classKeys),
        JSON.stringify(order),
        JSON.stringify(hidden),
      ]);

    it('holds known classes, every class once in the order, and one key per class in use', async () => {
      const e = await open(engine);
      expect(await attempt(e, () => save(e, keys(), CODES, []))).toBeNull();
      expectRefused(await attempt(e, () => save(e, keys(), [...CODES.slice(1), 'XYZ'], [])), 'unknown_class', /not a Matek 2021 class/);
      expectRefused(await attempt(e, () => save(e, { ...keys(), XYZ: 'z' }, CODES, [])), 'unknown_class');
      expectRefused(await attempt(e, () => save(e, keys(), CODES.slice(1), [])), 'constraint', /must list every class once/);
      expectRefused(await attempt(e, () => save(e, keys(), [...CODES.slice(1), 'BLA'], [])), 'constraint', /must list every class once/);
      const shared = { ...keys(), LYT: keys()['BLA']! };
      expectRefused(await attempt(e, () => save(e, shared, CODES, [])), 'constraint', /two classes in use share a review key/);
      // A hidden class's key is not in use, so it may repeat one.
      expect(await attempt(e, () => save(e, shared, CODES, ['LYT']))).toBeNull();
      await save(e, keys(), CODES, []);
      expectRefused(
        await attempt(e, () => e.query('UPDATE review_layout SET class_keys = ? WHERE id = 1', [JSON.stringify(shared)])),
        'constraint',
        /share a review key/,
      );
    });
  });

  describe.skipIf(skip)('class codes and probability vectors', () => {
    it('refuses unknown codes in a model, a prediction and a review, naming the code', async () => {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'in_review');
      expectRefused(
        await attempt(fx.e, () =>
          fx.e.query(
            `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('x', '1', ?, 'X', '["BLA","XYZ"]', 2, 't')`,
            [sha(9)],
          ),
        ),
        'unknown_class',
        /model x declares unknown cell class code "XYZ"/,
      );
      expectRefused(await attempt(fx.e, () => predict(fx, caseId, imageId, 'XYZ')), 'unknown_class', /unknown cell class code "XYZ"/);
      expectRefused(await attempt(fx.e, () => review(fx.e, caseId, imageId, 'XYZ')), 'unknown_class', /unknown cell class code "XYZ"/);
      expectRefused(await attempt(fx.e, () => fx.e.query(`INSERT INTO cell_classes (code) VALUES ('abc')`)), 'constraint');
    });

    it("refuses a probability vector of the wrong length and a class outside the model's classes", async () => {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'in_review');
      expectRefused(
        await attempt(fx.e, () => predict(fx, caseId, imageId, 'BLA', 0, '[0.5,0.5,0]')),
        'constraint',
        /has 3 probabilities; the model has 4 classes/,
      );
      expectRefused(await attempt(fx.e, () => predict(fx, caseId, imageId, 'MON')), 'constraint', /class MON is not one of the model's classes/);
      const rows = await fx.e.query<{ code: string; position: number }>('SELECT code, position FROM model_classes WHERE model_id = ? ORDER BY position', [
        fx.modelId,
      ]);
      expect(rows.map((r) => [r.code, Number(r.position)])).toEqual([
        ['BLA', 0],
        ['LYT', 1],
        ['NGS', 2],
        ['EBO', 3],
      ]);
    });

    it('refuses a birth date that is not a real day', async () => {
      const fx = await fixture(await open(engine));
      const insert = (date: string) =>
        fx.e.query(`INSERT INTO patients (lab_id, birth_date, created_at, updated_at) VALUES (?, ?, 't', 't')`, [`P-${date}`, date]);
      expectRefused(await attempt(fx.e, () => insert('2023-02-30')), 'constraint');
      expectRefused(await attempt(fx.e, () => insert('12/03/1950')), 'constraint');
      expect(await attempt(fx.e, () => insert('2024-02-29'))).toBeNull();
    });
  });

  describe.skipIf(skip)('derived tables kept by triggers', () => {
    it('counts predictions per case, model and class, flagged apart', async () => {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'analysing');
      const classes = ['BLA', 'BLA', 'LYT', 'NGS', 'BLA', 'EBO', 'LYT'];
      const flags = [1, 0, 0, 1, 1, 0, 0];
      await predict(fx, caseId, imageId, classes[0], flags[0]);
      for (let i = 1; i < classes.length; i++) await predict(fx, caseId, await addImage(fx, caseId), classes[i], flags[i]);
      const counts = await fx.e.query<{ predicted_class: string; cells: number; flagged: number }>(
        'SELECT predicted_class, cells, flagged FROM prediction_counts WHERE case_id = ? ORDER BY predicted_class',
        [caseId],
      );
      // Written out from the lists above: BLA 3 (2 flagged), EBO 1, LYT 2, NGS 1 (flagged).
      expect(counts.map((c) => [c.predicted_class, Number(c.cells), Number(c.flagged)])).toEqual([
        ['BLA', 3, 2],
        ['EBO', 1, 0],
        ['LYT', 2, 0],
        ['NGS', 1, 1],
      ]);
    });

    it('counts a batch written in one statement exactly (PostgreSQL counts per statement)', async () => {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'analysing');
      await predict(fx, caseId, imageId, 'LYT', 1);
      for (let i = 0; i < 6; i++) await addImage(fx, caseId);
      // Six more cells in one INSERT: classes by image order BLA, LYT, BLA, LYT, BLA, LYT; flagged where even.
      await fx.e.query(
        `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
         SELECT id, case_id, ?, CASE WHEN id % 2 = 0 THEN 'BLA' ELSE 'LYT' END, ?, 0.7, CASE WHEN id % 2 = 0 THEN 1 ELSE 0 END, '[]', 't'
         FROM images WHERE case_id = ? AND id <> ?`,
        [fx.modelId, PROBS, caseId, imageId],
      );
      const counts = await fx.e.query<{ predicted_class: string; cells: number; flagged: number }>(
        'SELECT predicted_class, cells, flagged FROM prediction_counts WHERE case_id = ? ORDER BY predicted_class',
        [caseId],
      );
      // Three BLA (all flagged), three LYT plus the first cell's LYT (flagged).
      expect(counts.map((c) => [c.predicted_class, Number(c.cells), Number(c.flagged)])).toEqual([
        ['BLA', 3, 3],
        ['LYT', 4, 1],
      ]);
    });

    it("keeps each cell's decision in force: the latest decision no retraction withdrew", async () => {
      const fx = await fixture(await open(engine));
      const { caseId, imageId } = await caseIn(fx, 'in_review');
      const other = await addImage(fx, caseId);
      const inForce = async () =>
        (
          await fx.e.query<{ image_id: number; label: string }>('SELECT image_id, label FROM current_decisions WHERE case_id = ? ORDER BY image_id', [caseId])
        ).map((r) => `${Number(r.image_id) === imageId ? 'first' : 'second'}:${r.label}`);
      const first = await review(fx.e, caseId, imageId, 'LYT');
      const second = await review(fx.e, caseId, imageId, 'NGS');
      await review(fx.e, caseId, other, 'EBO');
      expect(await inForce()).toEqual(['first:NGS', 'second:EBO']);
      await retract(fx.e, caseId, imageId, second);
      expect(await inForce()).toEqual(['first:LYT', 'second:EBO']);
      await retract(fx.e, caseId, imageId, first);
      expect(await inForce()).toEqual(['second:EBO']);
      // A decision is withdrawn once, and only by a retraction on its own cell.
      expectRefused(await attempt(fx.e, () => retract(fx.e, caseId, imageId, first)), 'duplicate');
      const onOther = await review(fx.e, caseId, other, 'BLA');
      expectRefused(await attempt(fx.e, () => retract(fx.e, caseId, imageId, onOther)), 'constraint', /withdraw a decision on the same cell/);
    });
  });

  describe.skipIf(skip)('images', () => {
    it('refuses the same path twice unless it replaces the current failed import, once', async () => {
      const fx = await fixture(await open(engine));
      const { caseId } = await caseIn(fx, 'importing');
      await addImage(fx, caseId, 'a.jpg');
      expectRefused(await attempt(fx.e, () => addImage(fx, caseId, 'a.jpg')), 'duplicate', /a\.jpg is already in the case/);
      const failed = await insertId(
        fx.e,
        `INSERT INTO images (case_id, relative_path, sha256, bytes, import_error, created_at) VALUES (?, 'b.jpg', '', 0, 'empty file', 't')`,
        [caseId],
      );
      const replace = () =>
        fx.e.query(`INSERT INTO images (case_id, relative_path, sha256, bytes, replaces, created_at) VALUES (?, 'b.jpg', ?, 5, ?, 't')`, [
          caseId,
          sha(777 + fx.next++),
          failed,
        ]);
      await replace();
      expectRefused(await attempt(fx.e, replace), 'constraint', /may only replace the current failed import/);
      const failedId = failed;
      expectRefused(await attempt(fx.e, () => predict(fx, caseId, failedId)), 'constraint', /failed import or is a duplicate/);
    });
  });

  describe.skipIf(skip)('LIS delivery states', () => {
    async function message(fx: Fixture, format: 'hl7v2' | 'fhir-r4') {
      const { caseId } = await caseIn(fx, 'signed');
      const resultId = await insertId(fx.e, `INSERT INTO lis_results (case_id, sign_off_id, result_status, created_at) VALUES (?, ?, 'F', 't')`, [
        caseId,
        await latestSignOff(fx.e, caseId),
      ]);
      return insertId(fx.e, `INSERT INTO lis_messages (result_id, case_id, format, control_id, payload, created_at) VALUES (?, ?, ?, ?, 'payload', 't')`, [
        resultId,
        caseId,
        format,
        `MC-${fx.next++}`,
      ]);
    }
    const deliver = (fx: Fixture, messageId: number, channel: 'outbox' | 'mllp') =>
      insertId(fx.e, `INSERT INTO lis_deliveries (message_id, channel, status, updated_at) VALUES (?, ?, 'queued', 't')`, [messageId, channel]);
    const setDelivery = (fx: Fixture, id: number, status: string) => fx.e.query('UPDATE lis_deliveries SET status = ? WHERE id = ?', [status, id]);

    it('sends only HL7 v2 over MLLP, and a delivered message stays delivered', async () => {
      const fx = await fixture(await open(engine));
      const fhir = await message(fx, 'fhir-r4');
      expectRefused(await attempt(fx.e, () => deliver(fx, fhir, 'mllp')), 'constraint', /only HL7 v2 messages are sent over MLLP/);
      const hl7 = await message(fx, 'hl7v2');
      const mllp = await deliver(fx, hl7, 'mllp');
      for (const status of ['sending', 'error', 'queued', 'sending', 'acknowledged']) await setDelivery(fx, mllp, status);
      for (const back of ['queued', 'sending', 'error', 'sent']) {
        expectRefused(await attempt(fx.e, () => setDelivery(fx, mllp, back)), 'constraint', /a delivered message stays delivered/);
      }
      const outbox = await deliver(fx, fhir, 'outbox');
      await setDelivery(fx, outbox, 'sent');
      expectRefused(await attempt(fx.e, () => setDelivery(fx, outbox, 'error')), 'constraint', /stays delivered/);
      expectRefused(await attempt(fx.e, () => deliver(fx, hl7, 'mllp')), 'duplicate');
      expectRefused(
        await attempt(fx.e, () =>
          fx.e.query(
            `INSERT INTO lis_messages (result_id, case_id, format, control_id, payload, created_at) SELECT result_id, case_id, format, control_id, payload, created_at FROM lis_messages WHERE id = ?`,
            [hl7],
          ),
        ),
        'duplicate',
      );
    });
  });

  describe.skipIf(skip)('lab-model states', () => {
    it('goes pending -> approved -> retired and no other way; the record and the approval never change', async () => {
      const fx = await fixture(await open(engine));
      const rows = [3, 4].map((n) =>
        insertId(fx.e, `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('lab', ?, ?, 'Lab', ?, 4, 't')`, [
          String(n),
          sha(n),
          FOUR,
        ]),
      );
      const [first, second] = [await insertLabModel(fx, await rows[0]!), await insertLabModel(fx, await rows[1]!)];
      expectRefused(await attempt(fx.e, () => retire(fx, first)), 'constraint', /can only go pending -> approved -> retired \(from pending to retired\)/);
      await approve(fx, first);
      expectRefused(await attempt(fx.e, () => approve(fx, second)), 'duplicate');
      expectRefused(await attempt(fx.e, () => fx.e.query(`UPDATE lab_models SET head = '{"w":[]}' WHERE id = ?`, [first])), 'constraint', /never changed/);
      expectRefused(await attempt(fx.e, () => fx.e.query(`UPDATE lab_models SET approved_reason = 'other' WHERE id = ?`, [first])), 'constraint');
      await retire(fx, first);
      expectRefused(await attempt(fx.e, () => approve(fx, first)), 'constraint', /from retired to approved/);
      expect(await attempt(fx.e, () => approve(fx, second))).toBeNull();
      expectRefused(
        await attempt(fx.e, () =>
          fx.e.query(
            `INSERT INTO lab_models (model_row_id, base_model_row_id, head_sha256, head, training_cases, minimum_per_class, validation, trained_by, trained_at, status)
             SELECT model_row_id, base_model_row_id, head_sha256, head, training_cases, minimum_per_class, validation, trained_by, trained_at, 'approved' FROM lab_models WHERE id = ?`,
            [first],
          ),
        ),
        'constraint',
        /stored pending/,
      );
    });
  });
});

function insertLabModel(fx: Fixture, modelRowId: number): Promise<number> {
  return insertId(
    fx.e,
    `INSERT INTO lab_models (model_row_id, base_model_row_id, head_sha256, head, training_cases, minimum_per_class, validation, trained_by, trained_at)
     VALUES (?, ?, ?, '{"w":[1]}', '[]', 20, '{}', 'tech', 't')`,
    [modelRowId, fx.modelId, sha(5)],
  );
}
const approve = (fx: Fixture, id: number) =>
  fx.e.query(
    `UPDATE lab_models SET status = 'approved', approved_by = 'dr.a', approved_role = 'haematologist', approved_reason = 'better', approved_at = 't' WHERE id = ?`,
    [id],
  );
const retire = (fx: Fixture, id: number) =>
  fx.e.query(`UPDATE lab_models SET status = 'retired', retired_by = 'dr.a', retired_reason = 'superseded', retired_at = 't' WHERE id = ?`, [id]);
