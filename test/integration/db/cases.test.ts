// Patients, cases and settings through the repository contract, on both engines.
import { describe, expect, it } from 'vitest';
import { ENGINES } from './engines';
import { addCase, addModel, caseInReview, expectRejection, storesForEngines } from './store-for-engine';

const stores = storesForEngines();

describe.each(ENGINES)('on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    describe('patients', () => {
      it('creates a patient once per lab identifier and updates the name and birth date given', async () => {
        const s = await stores.openReposFor(engine);
        const first = await s.patients.upsertPatient({ labId: ' MRN-7 ', name: 'Ada' });
        const again = await s.patients.upsertPatient({ labId: 'MRN-7', birthDate: '1961-12-31' });
        expect(again).toMatchObject({ id: first.id, labId: 'MRN-7', name: 'Ada', birthDate: '1961-12-31' });
      });

      it('refuses an empty identifier and a birth date that is not a calendar date', async () => {
        const s = await stores.openReposFor(engine);
        await expectRejection(s.patients.upsertPatient({ labId: '  ' }), 'constraint');
        const error = await expectRejection(s.patients.upsertPatient({ labId: 'MRN-8', birthDate: '2001-02-30' }), 'constraint');
        expect(error.message).toContain('2001-02-30');
      });
    });

    describe('cases', () => {
      it('creates a case in status importing and records who created it', async () => {
        const s = await stores.openReposFor(engine);
        const row = await addCase(s, 'BM-2026-0001');
        expect(row).toMatchObject({ accession: 'BM-2026-0001', status: 'importing', modelRowId: null, analysedAt: null, patientLabId: 'MRN-1' });
        expect(await s.audit.caseAuditLog(row.id)).toMatchObject([{ action: 'case_created', actor: 'tech', detail: { accession: 'BM-2026-0001' } }]);
      });

      it('refuses a second case with the same accession number, whatever its letter case, naming it', async () => {
        const s = await stores.openReposFor(engine);
        const first = await addCase(s, 'BM-2026-0001');
        const error = await expectRejection(
          s.cases.createCase({ patientId: first.patientId, accession: 'bm-2026-0001', specimen: 'other', folder: '/x', actor: 'tech' }),
          'duplicate',
        );
        expect(error.message).toContain('bm-2026-0001');
        expect(error.message).toContain('BM-2026-0001');
      });

      it('refuses an unknown specimen type and a missing patient', async () => {
        const s = await stores.openReposFor(engine);
        const row = await addCase(s);
        await expectRejection(
          s.cases.createCase({ patientId: row.patientId, accession: 'X', specimen: 'urine' as 'other', folder: '/x', actor: 'tech' }),
          'constraint',
        );
        await expectRejection(s.cases.createCase({ patientId: 999, accession: 'Y', specimen: 'other', folder: '/x', actor: 'tech' }), 'not_found');
        await expectRejection(s.cases.getCase(999), 'not_found');
      });

      it('moves through importing → analysing → in review, and back to analysing for a re-run', async () => {
        const s = await stores.openReposFor(engine);
        const model = await addModel(s);
        const row = await addCase(s);
        await expectRejection(s.cases.setCaseStatus(row.id, 'in_review', 'tech'), 'constraint');
        const analysing = await s.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
        expect(analysing).toMatchObject({ status: 'analysing', modelRowId: model.id });
        const inReview = await s.cases.setCaseStatus(row.id, 'in_review', 'tech');
        expect(inReview.status).toBe('in_review');
        expect(inReview.analysedAt).not.toBeNull();
        await expectRejection(s.cases.setCaseStatus(row.id, 'importing', 'tech'), 'constraint');
        expect((await s.cases.setCaseStatus(row.id, 'analysing', 'tech')).status).toBe('analysing');
        // The SQL trigger enforces the same lifecycle for any other writer.
        await expect(s.sql(`UPDATE cases SET status = 'importing' WHERE id = ?`, [row.id])).rejects.toThrow(/cannot go from analysing to importing/);
      });

      it('filters the case list by status and by patient identifier, name or accession, newest first', async () => {
        const s = await stores.openReposFor(engine);
        const a = await addCase(s, 'BM-100', 'MRN-1');
        const patient = await s.patients.upsertPatient({ labId: 'MRN-2', name: 'Grace Hopper' });
        const b = await s.cases.createCase({ patientId: patient.id, accession: 'PB-200', specimen: 'peripheral_blood', folder: '/b', actor: 'tech' });
        expect((await s.cases.listCases({})).map((r) => r.id)).toEqual([b.id, a.id]);
        expect((await s.cases.listCases({ search: 'hopper' })).map((r) => r.id)).toEqual([b.id]);
        expect((await s.cases.listCases({ search: 'mrn-1' })).map((r) => r.id)).toEqual([a.id]);
        expect((await s.cases.listCases({ search: 'BM-1' })).map((r) => r.id)).toEqual([a.id]);
        expect(await s.cases.listCases({ search: '%' })).toEqual([]);
        expect(await s.cases.listCases({ status: 'importing' })).toHaveLength(2);
        expect(await s.cases.listCases({ status: 'signed' })).toEqual([]);
        expect((await s.cases.listCases({ limit: 1, offset: 1 })).map((r) => r.id)).toEqual([a.id]);
      });

      it('shows the latest sign-off in the case list', async () => {
        const s = await stores.openReposFor(engine);
        const { caseId } = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }]);
        await s.cases.signCase({ caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
        const [row] = await s.cases.listCases({ status: 'signed' });
        expect(row).toMatchObject({ id: caseId, signedBy: 'Dr Ada', cellCount: 1, countsByClass: { BLA: 1 } });
        expect(row!.signedAt).not.toBeNull();
      });
    });

    describe('settings', () => {
      it('starts empty, saves the lab name, and audits what changed and by whom', async () => {
        const s = await stores.openReposFor(engine);
        expect(await s.settings.getSettings()).toEqual({ labName: '' });
        await s.settings.saveSettings({ labName: 'St Elsewhere Haematology' }, 'Dr Ada');
        await s.settings.saveSettings({ labName: 'St Elsewhere Haematology' }, 'Dr Ada');
        await s.settings.saveSettings({ labName: 'St Elsewhere Haem.' }, 'Dr Grace');
        expect(await s.settings.getSettings()).toEqual({ labName: 'St Elsewhere Haem.' });
        const changes = await s.sql<{ actor: string; detail: string }>(`SELECT actor, detail FROM audit_log WHERE action = 'settings_changed' ORDER BY id`);
        // The unchanged second save records nothing.
        expect(changes).toHaveLength(2);
        expect(changes[1]!.actor).toBe('Dr Grace');
        expect(JSON.parse(changes[1]!.detail)).toEqual({ labName: { from: 'St Elsewhere Haematology', to: 'St Elsewhere Haem.' } });
      });
    });
  });
});
