// The patient repository never overwrites a recorded name or birth date: a differing one is refused with a typed
// error that names the field, and nothing is written.
import { describe, expect, it } from 'vitest';
import { getPatient, listAuditLog, upsertPatient } from '../../../src/main/db';
import { PatientMismatchError } from '../../../src/main/db/patients';
import { openTemp } from './helpers';

function mismatch(fn: () => unknown): PatientMismatchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PatientMismatchError);
    return e as PatientMismatchError;
  }
  throw new Error('expected a PatientMismatchError');
}

describe('patient identity on record', () => {
  it('refuses a different name or birth date for a known identifier and leaves the row and the log as they were', () => {
    const { db } = openTemp();
    const stored = upsertPatient(db, { labId: 'MRN-1', name: 'Doe, Jane', birthDate: '1961-04-12' });
    const logBefore = listAuditLog(db).length;

    const byName = mismatch(() => upsertPatient(db, { labId: 'MRN-1', name: 'Roe, Jane' }));
    const byBirth = mismatch(() => upsertPatient(db, { labId: 'MRN-1', birthDate: '1961-12-04' }));

    expect(byName.field).toBe('name');
    expect(byName.kind).toBe('constraint');
    expect(byBirth.field).toBe('birthDate');
    expect(byName.stored).toMatchObject({ labId: 'MRN-1', name: 'Doe, Jane', birthDate: '1961-04-12' });
    expect(getPatient(db, stored.id)).toEqual(stored);
    expect(listAuditLog(db)).toHaveLength(logBefore);
  });

  it('keeps the stored values when none are given, or blank ones', () => {
    const { db } = openTemp();
    const stored = upsertPatient(db, { labId: 'MRN-2', name: 'Doe, Jane', birthDate: '1961-04-12' });
    expect(upsertPatient(db, { labId: 'MRN-2' })).toEqual(stored);
    expect(upsertPatient(db, { labId: 'MRN-2', name: ' ', birthDate: '' })).toEqual(stored);
  });
});
