// Immutability and the sign-off lifecycle, through the repository contract on both engines (raw SQL for the rules
// the schema holds against any writer).
import { describe, expect, it } from 'vitest';
import { ENGINES } from './engines';
import { prediction, sha } from './helpers';
import { addModel, caseInReview, expectRejection, storesForEngines } from './store-for-engine';

const stores = storesForEngines();

describe.each(ENGINES)('on %s', (engine) => {
  async function signedCase() {
    const s = await stores.openReposFor(engine);
    const setup = await caseInReview(s, [
      { predicted: 'BLA', confidence: 0.9 },
      { predicted: 'LYT', confidence: 0.4 },
    ]);
    await s.reviews.addReview({ caseId: setup.caseId, imageId: setup.imageIds[1]!, label: 'NGS', reviewer: 'dr.a' });
    await s.cases.signCase({ caseId: setup.caseId, signedBy: 'dr.a', role: 'haematologist', overrideReason: null, summarySnapshot: '{"BLA":1,"NGS":1}' });
    return { s, ...setup };
  }

  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    describe('immutability enforced in SQL', () => {
      it('rejects an UPDATE of a stored prediction', async () => {
        const s = await stores.openReposFor(engine);
        await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }]);
        await expect(s.sql(`UPDATE predictions SET predicted_class = 'LYT'`)).rejects.toThrow(/\[immutable\] a model's prediction is never changed/);
        await expect(s.sql(`UPDATE predictions SET confidence = 0.1`)).rejects.toThrow(/immutable/);
        expect(await s.sql('SELECT predicted_class, confidence FROM predictions')).toEqual([{ predicted_class: 'BLA', confidence: 0.9 }]);
      });

      it('rejects a DELETE of a stored prediction', async () => {
        const s = await stores.openReposFor(engine);
        await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }]);
        await expect(s.sql('DELETE FROM predictions')).rejects.toThrow(/\[immutable\] a model's prediction is never deleted/);
        expect(await s.sql('SELECT count(*) AS n FROM predictions')).toEqual([{ n: 1 }]);
      });

      it('rejects UPDATE and DELETE of reviews, the audit log, sign-offs, amendments, images and models', async () => {
        const { s } = await signedCase();
        for (const table of ['reviews', 'audit_log', 'sign_offs', 'images', 'models', 'model_classes', 'cell_classes']) {
          await expect(s.sql(`DELETE FROM ${table}`), table).rejects.toThrow(/immutable/);
        }
        await expect(s.sql(`UPDATE reviews SET label = 'BLA'`)).rejects.toThrow(/immutable/);
        await expect(s.sql(`UPDATE audit_log SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
        await expect(s.sql(`UPDATE sign_offs SET signed_by = 'someone else'`)).rejects.toThrow(/immutable/);
        await expect(s.sql(`UPDATE images SET relative_path = 'x.jpg'`)).rejects.toThrow(/immutable/);
      });

      it('rejects any change of a signed case in SQL, and its deletion', async () => {
        const { s, caseId } = await signedCase();
        await expect(s.sql(`UPDATE cases SET folder = '/elsewhere' WHERE id = ?`, [caseId])).rejects.toThrow(/\[signed_case\] case BM-001 is signed/);
        await expect(s.sql(`UPDATE cases SET status = 'in_review' WHERE id = ?`, [caseId])).rejects.toThrow(/signed_case/);
        await expect(s.sql(`UPDATE cases SET model_id = NULL WHERE id = ?`, [caseId])).rejects.toThrow(/signed_case/);
        await expect(s.sql('DELETE FROM cases WHERE id = ?', [caseId])).rejects.toThrow(/immutable/);
        expect((await s.cases.getCase(caseId)).status).toBe('signed');
      });

      it('rejects inserting reviews, images and predictions for a signed case in SQL', async () => {
        const { s, caseId, imageIds, modelRowId } = await signedCase();
        await expect(
          s.sql(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES (?, ?, 'decision', 'BLA', 'x', 't')`, [caseId, imageIds[0]]),
        ).rejects.toThrow(/\[signed_case\]/);
        await expect(
          s.sql(`INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES (?, 'new.jpg', ?, 1, 't')`, [caseId, sha(999)]),
        ).rejects.toThrow(/\[signed_case\]/);
        const other = await addModel(s, 'b');
        await expect(
          s.sql(
            `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
             VALUES (?, ?, ?, 'BLA', '[1,0,0,0]', 1, 0, '[]', 't')`,
            [imageIds[0], caseId, other.id],
          ),
        ).rejects.toThrow(/\[signed_case\]/);
        expect(modelRowId).toBeGreaterThan(0);
      });

      it('refuses reviews, undo, images, predictions and status changes on a signed case with a signed_case error', async () => {
        const { s, caseId, imageIds, modelRowId } = await signedCase();
        await expectRejection(s.reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'dr.b' }), 'signed_case');
        await expectRejection(s.reviews.retractLatestReview({ caseId, imageId: imageIds[1]!, reviewer: 'dr.b' }), 'signed_case');
        await expectRejection(
          s.images.insertImages(caseId, [{ relativePath: 'late.jpg', sha256: sha(77), bytes: 1, width: 1, height: 1, importError: null }]),
          'signed_case',
        );
        await expectRejection(s.cases.setCaseStatus(caseId, 'analysing', 'tech'), 'signed_case');
        await expectRejection(s.cases.signCase({ caseId, signedBy: 'dr.b', role: 'x', overrideReason: null, summarySnapshot: '{}' }), 'signed_case');
        // A prediction of another model, which the image does not have yet: only the signed status stops it.
        const other = await addModel(s, 'b');
        expect(other.id).not.toBe(modelRowId);
        const error = await expectRejection(s.predictions.insertPredictions(other.id, [prediction(imageIds[0]!, 'BLA', 0.9)]), 'signed_case');
        expect(error.message).toContain('BM-001');
      });

      it('does not sign a case through a bare status change without a sign-off record', async () => {
        const s = await stores.openReposFor(engine);
        const { caseId } = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }]);
        await expect(s.sql(`UPDATE cases SET status = 'signed' WHERE id = ?`, [caseId])).rejects.toThrow(/sign-off record/);
        await expectRejection(s.cases.setCaseStatus(caseId, 'signed', 'tech'), 'constraint');
      });
    });

    describe('sign-off and amendment', () => {
      it('stores who signed, the role, the time, the override reason and the summary snapshot', async () => {
        const s = await stores.openReposFor(engine);
        const { caseId } = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.3 }]);
        const { case: signed, signOff } = await s.cases.signCase({
          caseId,
          signedBy: 'Dr Ada',
          role: 'consultant haematologist',
          overrideReason: 'Smear quality limits review; flagged cell judged irrelevant',
          summarySnapshot: JSON.stringify({ blastPercentage: 100 }),
        });
        expect(signed.status).toBe('signed');
        expect(await s.cases.listSignOffs(caseId)).toEqual([signOff]);
        expect(signOff).toMatchObject({
          signedBy: 'Dr Ada',
          role: 'consultant haematologist',
          overrideReason: 'Smear quality limits review; flagged cell judged irrelevant',
          summarySnapshot: '{"blastPercentage":100}',
        });
        expect(Date.parse(signOff.signedAt)).not.toBeNaN();
      });

      it('re-opens a signed case with a recorded reason, after which reviews are accepted again', async () => {
        const { s, caseId, imageIds } = await signedCase();
        const { case: reopened, amendment } = await s.cases.amendCase({ caseId, by: 'Dr Ada', reason: 'Cell 1 is a promyelocyte, not a blast' });
        expect(reopened.status).toBe('in_review');
        expect(amendment).toMatchObject({
          by: 'Dr Ada',
          reason: 'Cell 1 is a promyelocyte, not a blast',
          signOffId: (await s.cases.listSignOffs(caseId))[0]!.id,
        });
        expect(await s.cases.listAmendments(caseId)).toEqual([amendment]);
        await s.reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'Dr Ada' });
        expect(await s.cells.effectiveCountsByClass(caseId)).toEqual({ LYT: 1, NGS: 1 });
        // The first sign-off stays on record; signing again adds a second one.
        await s.cases.signCase({ caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
        expect(await s.cases.listSignOffs(caseId)).toHaveLength(2);
        const actions = (await s.audit.caseAuditLog(caseId)).map((a) => a.action);
        expect(actions.slice(-4)).toEqual(['case_signed', 'case_amended', 'review_added', 'case_signed']);
      });

      it('refuses an amendment without a reason or of a case that is not signed', async () => {
        const { s, caseId } = await signedCase();
        await expectRejection(s.cases.amendCase({ caseId, by: 'Dr Ada', reason: '   ' }), 'constraint');
        await s.cases.amendCase({ caseId, by: 'Dr Ada', reason: 'typo' });
        await expectRejection(s.cases.amendCase({ caseId, by: 'Dr Ada', reason: 'again' }), 'constraint');
      });

      it('refuses to sign a case that is not in review', async () => {
        const s = await stores.openReposFor(engine);
        const { caseId } = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }]);
        await s.cases.setCaseStatus(caseId, 'analysing', 'tech');
        await expectRejection(s.cases.signCase({ caseId, signedBy: 'a', role: 'b', overrideReason: null, summarySnapshot: '{}' }), 'constraint');
      });
    });
  });
});
