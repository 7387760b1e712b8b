import { describe, expect, it } from 'vitest';
import {
  beginAnalysis,
  caseAuditLog,
  createCase,
  getCase,
  getSettings,
  listCases,
  saveSettings,
  setCaseStatus,
  signCase,
  upsertPatient,
} from '../../../src/main/db';
import { expectDbError } from './errors-helper';
import { addCase, addModel, caseInReview, openTemp } from './helpers';

describe('patients', () => {
  it('creates a patient once per lab identifier and updates the name and birth date given', () => {
    const { db } = openTemp();
    const first = upsertPatient(db, { labId: ' MRN-7 ', name: 'Ada' });
    const again = upsertPatient(db, { labId: 'MRN-7', birthDate: '1961-12-31' });
    expect(again).toMatchObject({ id: first.id, labId: 'MRN-7', name: 'Ada', birthDate: '1961-12-31' });
  });

  it('refuses an empty identifier and a birth date that is not a calendar date', () => {
    const { db } = openTemp();
    expectDbError(() => upsertPatient(db, { labId: '  ' }), 'constraint');
    const error = expectDbError(() => upsertPatient(db, { labId: 'MRN-8', birthDate: '2001-02-30' }), 'constraint');
    expect(error.message).toContain('2001-02-30');
  });
});

describe('cases', () => {
  it('creates a case in status importing and records who created it', () => {
    const { db } = openTemp();
    const row = addCase(db, 'BM-2026-0001');
    expect(row).toMatchObject({ accession: 'BM-2026-0001', status: 'importing', modelRowId: null, analysedAt: null, patientLabId: 'MRN-1' });
    expect(caseAuditLog(db, row.id)).toMatchObject([{ action: 'case_created', actor: 'tech', detail: { accession: 'BM-2026-0001' } }]);
  });

  it('refuses a second case with the same accession number, whatever its letter case, naming it', () => {
    const { db } = openTemp();
    const first = addCase(db, 'BM-2026-0001');
    const error = expectDbError(
      () => createCase(db, { patientId: first.patientId, accession: 'bm-2026-0001', specimen: 'other', folder: '/x', actor: 'tech' }),
      'duplicate',
    );
    expect(error.message).toContain('bm-2026-0001');
    expect(error.message).toContain('BM-2026-0001');
  });

  it('refuses an unknown specimen type and a missing patient', () => {
    const { db } = openTemp();
    const row = addCase(db);
    expectDbError(() => createCase(db, { patientId: row.patientId, accession: 'X', specimen: 'urine' as 'other', folder: '/x', actor: 'tech' }), 'constraint');
    expectDbError(() => createCase(db, { patientId: 999, accession: 'Y', specimen: 'other', folder: '/x', actor: 'tech' }), 'not_found');
    expectDbError(() => getCase(db, 999), 'not_found');
  });

  it('moves through importing → analysing → in review, and back to analysing for a re-run', () => {
    const { db } = openTemp();
    const model = addModel(db);
    const row = addCase(db);
    expectDbError(() => setCaseStatus(db, row.id, 'in_review', 'tech'), 'constraint');
    const analysing = beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
    expect(analysing).toMatchObject({ status: 'analysing', modelRowId: model.id });
    const inReview = setCaseStatus(db, row.id, 'in_review', 'tech');
    expect(inReview.status).toBe('in_review');
    expect(inReview.analysedAt).not.toBeNull();
    expectDbError(() => setCaseStatus(db, row.id, 'importing', 'tech'), 'constraint');
    expect(setCaseStatus(db, row.id, 'analysing', 'tech').status).toBe('analysing');
    // The SQL trigger enforces the same lifecycle for any other writer.
    expect(() => db.raw.prepare(`UPDATE cases SET status = 'importing' WHERE id = ?`).run(row.id)).toThrow(/cannot go from analysing to importing/);
  });

  it('filters the case list by status and by patient identifier, name or accession, newest first', () => {
    const { db } = openTemp();
    const a = addCase(db, 'BM-100', 'MRN-1');
    const patient = upsertPatient(db, { labId: 'MRN-2', name: 'Grace Hopper' });
    const b = createCase(db, { patientId: patient.id, accession: 'PB-200', specimen: 'peripheral_blood', folder: '/b', actor: 'tech' });
    expect(listCases(db, {}).map((r) => r.id)).toEqual([b.id, a.id]);
    expect(listCases(db, { search: 'hopper' }).map((r) => r.id)).toEqual([b.id]);
    expect(listCases(db, { search: 'mrn-1' }).map((r) => r.id)).toEqual([a.id]);
    expect(listCases(db, { search: 'BM-1' }).map((r) => r.id)).toEqual([a.id]);
    expect(listCases(db, { search: '%' })).toEqual([]);
    expect(listCases(db, { status: 'importing' })).toHaveLength(2);
    expect(listCases(db, { status: 'signed' })).toEqual([]);
    expect(listCases(db, { limit: 1, offset: 1 }).map((r) => r.id)).toEqual([a.id]);
  });

  it('shows the latest sign-off in the case list', () => {
    const { db } = openTemp();
    const { caseId } = caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }]);
    signCase(db, { caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
    const [row] = listCases(db, { status: 'signed' });
    expect(row).toMatchObject({ id: caseId, signedBy: 'Dr Ada', cellCount: 1, countsByClass: { BLA: 1 } });
    expect(row!.signedAt).not.toBeNull();
  });
});

describe('settings', () => {
  it('starts empty, saves the lab name, and audits what changed and by whom', () => {
    const { db } = openTemp();
    expect(getSettings(db)).toEqual({ labName: '' });
    saveSettings(db, { labName: 'St Elsewhere Haematology' }, 'Dr Ada');
    saveSettings(db, { labName: 'St Elsewhere Haematology' }, 'Dr Ada');
    saveSettings(db, { labName: 'St Elsewhere Haem.' }, 'Dr Grace');
    expect(getSettings(db)).toEqual({ labName: 'St Elsewhere Haem.' });
    const changes = db.raw.prepare(`SELECT actor, detail FROM audit_log WHERE action = 'settings_changed' ORDER BY id`).all() as {
      actor: string;
      detail: string;
    }[];
    // The unchanged second save records nothing.
    expect(changes).toHaveLength(2);
    expect(changes[1]!.actor).toBe('Dr Grace');
    expect(JSON.parse(changes[1]!.detail)).toEqual({ labName: { from: 'St Elsewhere Haematology', to: 'St Elsewhere Haem.' } });
  });
});
