// The patient repository never overwrites a recorded name or birth date: a differing one is refused with a typed
// error that names the field, and nothing is written. On both engines, through the contract.
import { describe, expect, it } from 'vitest';
import { PatientMismatchError } from '../../../src/main/db/patients';
import { ENGINES } from './engines';
import { storesForEngines } from './store-for-engine';

const stores = storesForEngines();

async function mismatch(promise: Promise<unknown>): Promise<PatientMismatchError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(PatientMismatchError);
    return e as PatientMismatchError;
  }
  throw new Error('expected a PatientMismatchError');
}

describe.each(ENGINES)('patient identity on record (%s)', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    it('refuses a different name or birth date for a known identifier and leaves the row and the log as they were', async () => {
      const s = await stores.openReposFor(engine);
      const stored = await s.patients.upsertPatient({ labId: 'MRN-1', name: 'Doe, Jane', birthDate: '1961-04-12' });
      const logBefore = (await s.audit.listAuditLog()).length;

      const byName = await mismatch(s.patients.upsertPatient({ labId: 'MRN-1', name: 'Roe, Jane' }));
      const byBirth = await mismatch(s.patients.upsertPatient({ labId: 'MRN-1', birthDate: '1961-12-04' }));

      expect(byName.field).toBe('name');
      expect(byName.kind).toBe('constraint');
      expect(byBirth.field).toBe('birthDate');
      expect(byName.stored).toMatchObject({ labId: 'MRN-1', name: 'Doe, Jane', birthDate: '1961-04-12' });
      expect(await s.patients.getPatient(stored.id)).toEqual(stored);
      expect(await s.audit.listAuditLog()).toHaveLength(logBefore);
    });

    it('keeps the stored values when none are given, or blank ones', async () => {
      const s = await stores.openReposFor(engine);
      const stored = await s.patients.upsertPatient({ labId: 'MRN-2', name: 'Doe, Jane', birthDate: '1961-04-12' });
      expect(await s.patients.upsertPatient({ labId: 'MRN-2' })).toEqual(stored);
      expect(await s.patients.upsertPatient({ labId: 'MRN-2', name: ' ', birthDate: '' })).toEqual(stored);
    });
  });
});
