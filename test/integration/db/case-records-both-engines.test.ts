// The case records that the older repository tests reach only through the service (amendments, the case's version,
// a stopped analysis, a patient's history, name corrections, re-imports of fixed files, copies), held on both engines
// through the contract, so the PostgreSQL twins give the same rows, errors and audit trail as SQLite.
import { describe, expect, it } from 'vitest';
import { ENGINES } from './engines';
import { sha } from './helpers';
import { addCase, addImages, addModel, caseInReview, expectRejection, storesForEngines } from './store-for-engine';

const stores = storesForEngines();

const file = (relativePath: string, hash: number, importError: string | null = null) => ({
  relativePath,
  sha256: importError === null ? sha(hash) : '',
  bytes: importError === null ? 1000 : 0,
  width: importError === null ? 250 : null,
  height: importError === null ? 250 : null,
  importError,
});

describe.each(ENGINES)('on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    it('amends the latest sign-off with a reason, and refuses one without a reason or of a case not signed', async () => {
      const s = await stores.openReposFor(engine);
      const { caseId } = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }]);
      expect(await s.cases.isAmended(caseId)).toBe(false);
      await expectRejection(s.cases.amendCase({ caseId, by: 'Dr Ada', reason: 'typo' }), 'constraint');
      const { signOff } = await s.cases.signCase({ caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
      await expectRejection(s.cases.amendCase({ caseId, by: 'Dr Ada', reason: '   ' }), 'constraint');
      const { case: reopened, amendment } = await s.cases.amendCase({ caseId, by: 'Dr Ada', reason: 'typo' });
      expect(reopened.status).toBe('in_review');
      expect(amendment).toMatchObject({ caseId, signOffId: signOff.id, by: 'Dr Ada', reason: 'typo', userId: null });
      expect(await s.cases.listAmendments(caseId)).toEqual([amendment]);
      expect(await s.cases.isAmended(caseId)).toBe(true);
      await expectRejection(s.cases.amendCase({ caseId, by: 'Dr Ada', reason: 'again' }), 'constraint');
      const second = await s.cases.signCase({ caseId, signedBy: 'Dr Bo', role: 'haematologist', overrideReason: null, summarySnapshot: '{"a":1}' });
      expect((await s.cases.listSignOffs(caseId)).map((o) => o.id)).toEqual([signOff.id, second.signOff.id]);
      expect((await s.cases.listCases({ status: 'signed' }))[0]).toMatchObject({ id: caseId, signedBy: 'Dr Bo' });
    });

    it("derives the case's version from its audit trail and names the latest change of someone else", async () => {
      const s = await stores.openReposFor(engine);
      expect(await s.cases.caseVersionOf(999)).toEqual({ version: 0, actor: null, at: null, action: null });
      const model = await addModel(s);
      const row = await addCase(s);
      const v1 = await s.cases.caseVersionOf(row.id);
      expect(v1).toMatchObject({ actor: 'tech', action: 'case_created' });
      expect(await s.cases.changeSince(row.id, v1.version, 'tech')).toBeNull();
      await s.cases.setCaseModel({ caseId: row.id, modelRowId: model.id, actor: 'Dr Ada' });
      const v2 = await s.cases.caseVersionOf(row.id);
      expect(v2.version).toBeGreaterThan(v1.version);
      expect(v2).toMatchObject({ actor: 'Dr Ada', action: 'case_model_set' });
      expect(await s.cases.changeSince(row.id, v1.version, ' tech ')).toMatchObject({ actor: 'Dr Ada', action: 'case_model_set' });
      expect(await s.cases.changeSince(row.id, v1.version, 'Dr Ada')).toBeNull();
      await expectRejection(s.cases.setCaseModel({ caseId: row.id, modelRowId: 999, actor: 'Dr Ada' }), 'not_found');
      // Setting the model it already has changes nothing and records nothing.
      await s.cases.setCaseModel({ caseId: row.id, modelRowId: model.id, actor: 'Bo' });
      expect((await s.cases.caseVersionOf(row.id)).version).toBe(v2.version);
    });

    it('records a stopped analysis, tells the partial result, and releases it for review only with a reason', async () => {
      const s = await stores.openReposFor(engine);
      const model = await addModel(s);
      const row = await addCase(s);
      await addImages(s, row.id, 4);
      await s.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
      expect(await s.partialAnalysis.partialAnalysisOf(await s.cases.getCase(row.id))).toBeNull();
      await expectRejection(s.partialAnalysis.excludeRemainingFiles({ caseId: row.id, reason: 'slide broken', by: 'tech' }), 'constraint');
      const stopped = await s.partialAnalysis.recordCancellation({ caseId: row.id, filesAnalysed: 3, filesTotal: 2, actor: 'tech' });
      expect(stopped.status).toBe('cancelled');
      const partial = await s.partialAnalysis.partialAnalysisOf(stopped);
      expect(partial).toMatchObject({ cancellation: { caseId: row.id, filesAnalysed: 3, filesTotal: 3, by: 'tech' }, exclusion: null });
      // SQL refuses review of a stopped case without the recorded exclusion.
      await expectRejection(s.cases.setCaseStatus(row.id, 'in_review', 'tech'), 'constraint');
      await expectRejection(s.partialAnalysis.excludeRemainingFiles({ caseId: row.id, reason: '  ', by: 'tech' }), 'constraint');
      const released = await s.partialAnalysis.excludeRemainingFiles({ caseId: row.id, reason: ' slide broken ', by: 'Dr Ada' });
      expect(released.status).toBe('in_review');
      expect(await s.partialAnalysis.partialAnalysisOf(released)).toMatchObject({
        cancellation: { id: partial!.cancellation.id },
        exclusion: { cancellationId: partial!.cancellation.id, filesExcluded: 0, reason: 'slide broken', by: 'Dr Ada' },
      });
      expect((await s.audit.caseAuditLog(row.id)).map((e) => e.action).slice(-3)).toEqual([
        'case_status_changed',
        'remaining_files_excluded',
        'case_status_changed',
      ]);
    });

    it("lists a patient's cases in specimen order with their sign-offs and the amended ones", async () => {
      const s = await stores.openReposFor(engine);
      const older = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }], 'BM-OLD');
      const patient = await s.patientHistory.findPatientByLabId(' MRN-1 ');
      await expectRejection(s.patientHistory.findPatientByLabId('MRN-404'), 'not_found');
      const newer = await s.cases.createCase({ patientId: patient.id, accession: 'BM-NEW', specimen: 'other', folder: '/n', actor: 'tech' });
      await s.patientHistory.recordSpecimenDate({ caseId: newer.id, collectedOn: '2001-01-01', actor: 'tech' });
      await expectRejection(s.patientHistory.recordSpecimenDate({ caseId: 999, collectedOn: '2001-01-01', actor: 'tech' }), 'not_found');
      expect(await s.patientHistory.caseSpecimenDate(newer.id)).toEqual({ specimenDate: '2001-01-01', specimenDateSource: 'recorded' });
      const created = await s.patientHistory.caseSpecimenDate(older.caseId);
      expect(created.specimenDateSource).toBe('case_created');
      await expectRejection(s.patientHistory.caseSpecimenDate(999), 'not_found');
      const { signOff } = await s.cases.signCase({ caseId: older.caseId, signedBy: 'Dr Ada', role: 'h', overrideReason: null, summarySnapshot: '{}' });
      await s.cases.amendCase({ caseId: older.caseId, by: 'Dr Ada', reason: 'typo' });
      const history = await s.patientHistory.listPatientCaseHistory(patient.id);
      expect(history.map((h) => [h.case.accession, h.specimenDateSource, h.signOffs.length, h.amendedSignOffIds])).toEqual([
        ['BM-NEW', 'recorded', 0, []],
        ['BM-OLD', 'case_created', 1, [signOff.id]],
      ]);
      expect(history[1]!.specimenDate).toBe(created.specimenDate);
    });

    it("corrects a patient's name with a reason, audited against the case", async () => {
      const s = await stores.openReposFor(engine);
      const row = await addCase(s);
      await expectRejection(s.patients.correctPatientName({ patientId: row.patientId, caseId: row.id, name: ' ', reason: 'r', actor: 'Bo' }), 'constraint');
      await expectRejection(s.patients.correctPatientName({ patientId: row.patientId, caseId: row.id, name: 'X', reason: ' ', actor: 'Bo' }), 'constraint');
      await expectRejection(s.patients.correctPatientName({ patientId: 999, caseId: row.id, name: 'X', reason: 'r', actor: 'Bo' }), 'not_found');
      const corrected = await s.patients.correctPatientName({ patientId: row.patientId, caseId: row.id, name: ' Ada  Exampel ', reason: 'typo', actor: 'Bo' });
      expect(corrected.name).toBe('Ada Exampel');
      expect((await s.cases.getCase(row.id)).patientName).toBe('Ada Exampel');
      const [entry] = (await s.audit.caseAuditLog(row.id)).filter((e) => e.action === 'patient_name_corrected');
      expect(entry).toMatchObject({ actor: 'Bo', detail: { from: 'Ada Example', to: 'Ada Exampel', reason: 'typo' } });
      const log = (await s.audit.listAuditLog()).length;
      await s.patients.correctPatientName({ patientId: row.patientId, caseId: row.id, name: 'Ada Exampel', reason: 'again', actor: 'Bo' });
      expect(await s.audit.listAuditLog()).toHaveLength(log);
    });

    it('finds a model by its file hash in any letter case', async () => {
      const s = await stores.openReposFor(engine);
      const model = await addModel(s);
      expect(await s.models.findModelBySha256(model.sha256.toUpperCase())).toEqual(model);
      expect(await s.models.findModelBySha256('f'.repeat(64))).toBeNull();
      await expectRejection(s.models.getModel(999), 'not_found');
    });

    it('re-imports a fixed file over its failed record, lists copies, and audits each import', async () => {
      const s = await stores.openReposFor(engine);
      const row = await addCase(s);
      const first = await s.images.insertImages(row.id, [file('a.jpg', 1), file('bad.jpg', 0, 'bad.jpg is truncated'), file('c.jpg', 1)], 'tech');
      expect(first.duplicates).toEqual([{ relativePath: 'c.jpg', duplicateOf: 'a.jpg' }]);
      const again = await s.images.insertImages(row.id, [file('bad.jpg', 7), file('d.jpg', 7), file('e.jpg', 1)], 'tech');
      expect(again.reimported).toEqual(['bad.jpg']);
      expect(again.duplicates).toEqual([
        { relativePath: 'd.jpg', duplicateOf: 'bad.jpg' },
        { relativePath: 'e.jpg', duplicateOf: 'a.jpg' },
      ]);
      const fixed = again.inserted[0]!;
      expect(again.inserted[1]!.duplicateOf).toBe(fixed.id);
      expect(await s.images.listCopiesOf(row.id, first.inserted[0]!.id)).toEqual(['c.jpg', 'e.jpg']);
      expect(await s.images.listCopiesOf(row.id, fixed.id)).toEqual(['d.jpg']);
      expect((await s.images.listImages(row.id)).map((i) => i.relativePath)).toEqual(['a.jpg', 'c.jpg', 'bad.jpg', 'd.jpg', 'e.jpg']);
      expect((await s.images.listImportFailures(row.id)).map((f) => f.file)).toEqual(['c.jpg', 'd.jpg', 'e.jpg']);
      // A failed record is replaced once; the same path failing again after its fix is the changed-file refusal.
      await expectRejection(s.images.insertImages(row.id, [file('bad.jpg', 0, 'bad.jpg is truncated')]), 'duplicate');
      expect((await s.audit.caseAuditLog(row.id)).filter((e) => e.action === 'images_imported').map((e) => e.detail)).toEqual([
        { inserted: 3, importErrors: 1, duplicates: 1, alreadyImported: 0, reimported: 0 },
        { inserted: 3, importErrors: 0, duplicates: 2, alreadyImported: 0, reimported: 1 },
      ]);
    });

    it('keeps nothing of repository calls inside a transaction that is abandoned', async () => {
      const s = await stores.openReposFor(engine);
      const model = await addModel(s);
      const row = await addCase(s);
      await expect(
        s.transaction(async (tx) => {
          await tx.images.insertImages(row.id, [file('a.jpg', 1)]);
          await tx.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
          expect((await tx.cases.getCase(row.id)).status).toBe('analysing');
          throw new Error('abandoned');
        }),
      ).rejects.toThrow(/abandoned/);
      expect(await s.cases.getCase(row.id)).toEqual(row);
      expect(await s.images.listImages(row.id)).toEqual([]);
    });
  });
});
