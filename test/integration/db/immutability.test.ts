import { describe, expect, it } from 'vitest';
import {
  addReview,
  amendCase,
  caseAuditLog,
  effectiveCountsByClass,
  getCase,
  insertImages,
  insertPredictions,
  listAmendments,
  listSignOffs,
  retractLatestReview,
  setCaseStatus,
  signCase,
} from '../../../src/main/db';
import { expectDbError } from './errors-helper';
import { addModel, caseInReview, openTemp, prediction, sha } from './helpers';

function signedCase() {
  const { db } = openTemp();
  const setup = caseInReview(db, [
    { predicted: 'BLA', confidence: 0.9 },
    { predicted: 'LYT', confidence: 0.4 },
  ]);
  addReview(db, { caseId: setup.caseId, imageId: setup.imageIds[1]!, label: 'NGS', reviewer: 'dr.a' });
  signCase(db, { caseId: setup.caseId, signedBy: 'dr.a', role: 'haematologist', overrideReason: null, summarySnapshot: '{"BLA":1,"NGS":1}' });
  return { db, ...setup };
}

describe('immutability enforced in SQL', () => {
  it('rejects an UPDATE of a stored prediction', () => {
    const { db } = openTemp();
    caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }]);
    expect(() => db.raw.exec(`UPDATE predictions SET predicted_class = 'LYT'`)).toThrow(/\[immutable\] a model's prediction is never changed/);
    expect(() => db.raw.exec(`UPDATE predictions SET confidence = 0.1`)).toThrow(/immutable/);
    expect(db.raw.prepare('SELECT predicted_class, confidence FROM predictions').get()).toEqual({ predicted_class: 'BLA', confidence: 0.9 });
  });

  it('rejects a DELETE of a stored prediction', () => {
    const { db } = openTemp();
    caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }]);
    expect(() => db.raw.exec('DELETE FROM predictions')).toThrow(/\[immutable\] a model's prediction is never deleted/);
    expect(db.raw.prepare('SELECT count(*) AS n FROM predictions').get()).toEqual({ n: 1 });
  });

  it('rejects UPDATE and DELETE of reviews, the audit log, sign-offs, amendments, images and models', () => {
    const { db } = signedCase();
    for (const table of ['reviews', 'audit_log', 'sign_offs', 'images', 'models', 'model_classes', 'cell_classes']) {
      expect(() => db.raw.exec(`DELETE FROM ${table}`), table).toThrow(/immutable/);
    }
    expect(() => db.raw.exec(`UPDATE reviews SET label = 'BLA'`)).toThrow(/immutable/);
    expect(() => db.raw.exec(`UPDATE audit_log SET actor = 'someone else'`)).toThrow(/append-only/);
    expect(() => db.raw.exec(`UPDATE sign_offs SET signed_by = 'someone else'`)).toThrow(/immutable/);
    expect(() => db.raw.exec(`UPDATE images SET relative_path = 'x.jpg'`)).toThrow(/immutable/);
  });

  it('rejects any change of a signed case in SQL, and its deletion', () => {
    const { db, caseId } = signedCase();
    expect(() => db.raw.prepare(`UPDATE cases SET folder = '/elsewhere' WHERE id = ?`).run(caseId)).toThrow(/\[signed_case\] case BM-001 is signed/);
    expect(() => db.raw.prepare(`UPDATE cases SET status = 'in_review' WHERE id = ?`).run(caseId)).toThrow(/signed_case/);
    expect(() => db.raw.prepare(`UPDATE cases SET model_id = NULL WHERE id = ?`).run(caseId)).toThrow(/signed_case/);
    expect(() => db.raw.prepare('DELETE FROM cases WHERE id = ?').run(caseId)).toThrow(/immutable/);
    expect(getCase(db, caseId).status).toBe('signed');
  });

  it('rejects inserting reviews, images and predictions for a signed case in SQL', () => {
    const { db, caseId, imageIds, modelRowId } = signedCase();
    expect(() =>
      db.raw
        .prepare(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES (?, ?, 'decision', 'BLA', 'x', 't')`)
        .run(caseId, imageIds[0]),
    ).toThrow(/\[signed_case\]/);
    expect(() =>
      db.raw.prepare(`INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES (?, 'new.jpg', ?, 1, 't')`).run(caseId, sha(999)),
    ).toThrow(/\[signed_case\]/);
    expect(() =>
      db.raw
        .prepare(
          `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
           VALUES (?, ?, ?, 'BLA', '[1,0,0,0]', 1, 0, '[]', 't')`,
        )
        .run(imageIds[0], caseId, addModel(db, 'b').id),
    ).toThrow(/\[signed_case\]/);
    expect(modelRowId).toBeGreaterThan(0);
  });

  it('refuses reviews, undo, images, predictions and status changes on a signed case with a signed_case error', () => {
    const { db, caseId, imageIds, modelRowId } = signedCase();
    expectDbError(() => addReview(db, { caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'dr.b' }), 'signed_case');
    expectDbError(() => retractLatestReview(db, { caseId, imageId: imageIds[1]!, reviewer: 'dr.b' }), 'signed_case');
    expectDbError(
      () => insertImages(db, caseId, [{ relativePath: 'late.jpg', sha256: sha(77), bytes: 1, width: 1, height: 1, importError: null }]),
      'signed_case',
    );
    expectDbError(() => setCaseStatus(db, caseId, 'analysing', 'tech'), 'signed_case');
    expectDbError(() => signCase(db, { caseId, signedBy: 'dr.b', role: 'x', overrideReason: null, summarySnapshot: '{}' }), 'signed_case');
    // A prediction of another model, which the image does not have yet: only the signed status stops it.
    const other = addModel(db, 'b');
    expect(other.id).not.toBe(modelRowId);
    const error = expectDbError(() => insertPredictions(db, other.id, [prediction(imageIds[0]!, 'BLA', 0.9)]), 'signed_case');
    expect(error.message).toContain('BM-001');
  });

  it('does not sign a case through a bare status change without a sign-off record', () => {
    const { db } = openTemp();
    const { caseId } = caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }]);
    expect(() => db.raw.prepare(`UPDATE cases SET status = 'signed' WHERE id = ?`).run(caseId)).toThrow(/sign-off record/);
    expectDbError(() => setCaseStatus(db, caseId, 'signed', 'tech'), 'constraint');
  });
});

describe('sign-off and amendment', () => {
  it('stores who signed, the role, the time, the override reason and the summary snapshot', () => {
    const { db } = openTemp();
    const { caseId } = caseInReview(db, [{ predicted: 'BLA', confidence: 0.3 }]);
    const { case: signed, signOff } = signCase(db, {
      caseId,
      signedBy: 'Dr Ada',
      role: 'consultant haematologist',
      overrideReason: 'Smear quality limits review; flagged cell judged irrelevant',
      summarySnapshot: JSON.stringify({ blastPercentage: 100 }),
    });
    expect(signed.status).toBe('signed');
    expect(listSignOffs(db, caseId)).toEqual([signOff]);
    expect(signOff).toMatchObject({
      signedBy: 'Dr Ada',
      role: 'consultant haematologist',
      overrideReason: 'Smear quality limits review; flagged cell judged irrelevant',
      summarySnapshot: '{"blastPercentage":100}',
    });
    expect(Date.parse(signOff.signedAt)).not.toBeNaN();
  });

  it('re-opens a signed case with a recorded reason, after which reviews are accepted again', () => {
    const { db, caseId, imageIds } = signedCase();
    const { case: reopened, amendment } = amendCase(db, { caseId, by: 'Dr Ada', reason: 'Cell 1 is a promyelocyte, not a blast' });
    expect(reopened.status).toBe('in_review');
    expect(amendment).toMatchObject({ by: 'Dr Ada', reason: 'Cell 1 is a promyelocyte, not a blast', signOffId: listSignOffs(db, caseId)[0]!.id });
    expect(listAmendments(db, caseId)).toEqual([amendment]);
    addReview(db, { caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'Dr Ada' });
    expect(effectiveCountsByClass(db, caseId)).toEqual({ LYT: 1, NGS: 1 });
    // The first sign-off stays on record; signing again adds a second one.
    signCase(db, { caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
    expect(listSignOffs(db, caseId)).toHaveLength(2);
    const actions = caseAuditLog(db, caseId).map((a) => a.action);
    expect(actions.slice(-4)).toEqual(['case_signed', 'case_amended', 'review_added', 'case_signed']);
  });

  it('refuses an amendment without a reason or of a case that is not signed', () => {
    const { db, caseId } = signedCase();
    expectDbError(() => amendCase(db, { caseId, by: 'Dr Ada', reason: '   ' }), 'constraint');
    amendCase(db, { caseId, by: 'Dr Ada', reason: 'typo' });
    expectDbError(() => amendCase(db, { caseId, by: 'Dr Ada', reason: 'again' }), 'constraint');
  });

  it('refuses to sign a case that is not in review', () => {
    const { db } = openTemp();
    const { caseId } = caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }]);
    setCaseStatus(db, caseId, 'analysing', 'tech');
    expectDbError(() => signCase(db, { caseId, signedBy: 'a', role: 'b', overrideReason: null, summarySnapshot: '{}' }), 'constraint');
  });
});
