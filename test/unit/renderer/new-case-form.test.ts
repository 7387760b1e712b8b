import { describe, expect, it } from 'vitest';
import { EMPTY_FORM, formFieldOf, toNewCaseInput, validateNewCase } from '../../../src/renderer/src/screens/newCaseForm';

describe('new case form', () => {
  it('requires the patient identifier, accession number and folder', () => {
    expect(Object.keys(validateNewCase(EMPTY_FORM)).sort()).toEqual(['accession', 'folder', 'labId']);
    expect(validateNewCase({ ...EMPTY_FORM, labId: '   ', accession: 'A1', folder: '/x' })).toHaveProperty('labId');
  });

  it('accepts a complete form and rejects a malformed birth date', () => {
    const form = { ...EMPTY_FORM, labId: 'MRN1', accession: 'A1', folder: '/data/case' };
    expect(validateNewCase(form)).toEqual({});
    expect(validateNewCase({ ...form, birthDate: '1/2/1960' })).toHaveProperty('birthDate');
  });

  it('trims the input and leaves out empty optional fields', () => {
    const input = toNewCaseInput({ ...EMPTY_FORM, labId: ' MRN1 ', accession: ' A1 ', folder: ' /data/case ' });
    expect(input).toEqual({ patient: { labId: 'MRN1' }, accession: 'A1', specimen: 'bone_marrow_aspirate', folder: '/data/case' });
  });

  it('maps server error fields to form fields', () => {
    expect(formFieldOf('patient.labId')).toBe('labId');
    expect(formFieldOf('folder')).toBe('folder');
    expect(formFieldOf('something.else')).toBeNull();
    expect(formFieldOf(undefined)).toBeNull();
  });
});
