// A new case names its patient by the lab identifier (MRN). When that identifier is already on record, a different
// name or birth date on the form is far more likely a mistyped MRN than a renamed patient, so it is refused beside
// the field instead of renaming the person everywhere (reprints of earlier signed reports included). Real service,
// real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody, CaseDetail, NewCaseInput } from '../../../src/shared/api';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { ENGINES, startService, usePostgres, type ServiceFixture } from './helpers';

const pgSetup = usePostgres();

describe.each(ENGINES)('a new case for a patient identifier already on record on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  let folder: string;
  let accessions = 0;

  beforeAll(async () => {
    fx = await startService('patient-identity', { engine, pg: pgSetup });
    folder = fx.caseFolder('crops');
  });
  afterAll(async () => {
    await fx.dispose();
  });

  const newCase = (patient: NewCaseInput['patient'], accession = `PI-${++accessions}`): NewCaseInput => ({
    patient,
    accession,
    specimen: 'bone_marrow_aspirate',
    folder,
  });

  async function created(patient: NewCaseInput['patient']): Promise<CaseDetail> {
    const result = await dispatch(fx.service, 'createCase', [newCase(patient)]);
    if (!result.ok) throw new Error(result.error.message);
    return result.value as CaseDetail;
  }

  async function refused(input: NewCaseInput): Promise<ApiErrorBody> {
    const result = await dispatch(fx.service, 'createCase', [input]);
    if (result.ok) throw new Error('createCase unexpectedly succeeded');
    return result.error;
  }

  /** The patient_saved entries of one identifier, oldest first, read through a second connection. */
  async function patientAudit(labId: string): Promise<Array<Record<string, unknown>>> {
    return (await (await fx.store()).audit.listAuditLog({ limit: 10_000 }))
      .filter((row) => row.action === 'patient_saved')
      .map((row) => row.detail as Record<string, unknown>)
      .filter((detail) => detail['labId'] === labId)
      .reverse();
  }

  it('refuses a different name beside the name field, naming the stored record, and writes nothing', async () => {
    const first = await created({ labId: 'MRN-0042', name: 'Doe, Jane', birthDate: '1961-04-12' });
    const auditBefore = await patientAudit('MRN-0042');
    const input = newCase({ labId: 'MRN-0042', name: 'Roe, Richard', birthDate: '1961-04-12' });

    const error = await refused(input);

    expect(error).toMatchObject({ kind: 'conflict', field: 'patient.name' });
    expect(error.message).toBe(
      'Patient MRN-0042 is already recorded as Doe, Jane (born 1961-04-12). Check the identifier, or leave the name blank to use the stored record.',
    );
    expect(await fx.service.getCase(first.id)).toMatchObject({ patientName: 'Doe, Jane', patientBirthDate: '1961-04-12' });
    expect(await fx.service.listCases({ search: input.accession })).toHaveLength(0);
    expect(await patientAudit('MRN-0042')).toEqual(auditBefore);
  });

  it('refuses a different birth date beside the birth date field', async () => {
    const first = await created({ labId: 'MRN-0043', name: 'Doe, John', birthDate: '1958-07-01' });

    const error = await refused(newCase({ labId: 'MRN-0043', birthDate: '1958-01-07' }));

    expect(error).toMatchObject({ kind: 'conflict', field: 'patient.birthDate' });
    expect(error.message).toContain('Patient MRN-0043 is already recorded as Doe, John (born 1958-07-01).');
    expect(error.message).toContain('leave the birth date blank');
    expect(await fx.service.getCase(first.id)).toMatchObject({ patientName: 'Doe, John', patientBirthDate: '1958-07-01' });
  });

  it('names the name field, and both values to leave blank, when name and birth date both differ', async () => {
    await created({ labId: 'MRN-0044', name: 'Poe, Edgar', birthDate: '1949-01-19' });

    const error = await refused(newCase({ labId: 'MRN-0044', name: 'Moe, Edna', birthDate: '1990-12-31' }));

    expect(error).toMatchObject({ kind: 'conflict', field: 'patient.name' });
    expect(error.message).toContain('leave the name and birth date blank');
  });

  it('says what is recorded when the stored record has no birth date', async () => {
    await created({ labId: 'MRN-0045', name: 'Lee, Ann' });

    const error = await refused(newCase({ labId: 'MRN-0045', name: 'Lee, Anna' }));

    expect(error.message).toContain('Patient MRN-0045 is already recorded as Lee, Ann (no birth date recorded).');
  });

  it('uses the stored record when the name and birth date are left blank', async () => {
    const first = await created({ labId: 'MRN-0046', name: 'Kay, Alan', birthDate: '1940-05-17' });
    const auditBefore = await patientAudit('MRN-0046');

    const omitted = await created({ labId: 'MRN-0046' });
    const blank = await created({ labId: 'MRN-0046', name: '   ', birthDate: '' });

    for (const c of [omitted, blank]) {
      expect(c).toMatchObject({ patientLabId: 'MRN-0046', patientName: 'Kay, Alan', patientBirthDate: '1940-05-17' });
    }
    expect(await fx.service.getCase(first.id)).toMatchObject({ patientName: 'Kay, Alan', patientBirthDate: '1940-05-17' });
    expect(await patientAudit('MRN-0046')).toEqual(auditBefore);
  });

  it('accepts the stored name typed in other case or spacing and keeps the stored spelling', async () => {
    await created({ labId: 'MRN-0047', name: 'Doe, Jane', birthDate: '1961-04-12' });

    const again = await created({ labId: 'MRN-0047', name: '  DOE,   jane ', birthDate: '1961-04-12' });

    expect(again).toMatchObject({ patientName: 'Doe, Jane', patientBirthDate: '1961-04-12' });
  });

  it('fills a name and birth date that were never recorded, and audits the change', async () => {
    const first = await created({ labId: 'MRN-0048' });

    const second = await created({ labId: 'MRN-0048', name: 'Ng, Mary', birthDate: '1972-03-09' });

    expect(second).toMatchObject({ patientName: 'Ng, Mary', patientBirthDate: '1972-03-09' });
    expect(await fx.service.getCase(first.id)).toMatchObject({ patientName: 'Ng, Mary', patientBirthDate: '1972-03-09' });
    const audit = await patientAudit('MRN-0048');
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({
      before: { name: null, birthDate: null },
      after: { name: 'Ng, Mary', birthDate: '1972-03-09' },
    });
  });

  it('refuses a changed value once a filled one is on record', async () => {
    await created({ labId: 'MRN-0049', birthDate: '1980-02-29' });
    await created({ labId: 'MRN-0049', name: 'Ito, Ken' });

    const error = await refused(newCase({ labId: 'MRN-0049', name: 'Ito, Kenji' }));

    expect(error).toMatchObject({ kind: 'conflict', field: 'patient.name' });
    expect(error.message).toContain('Patient MRN-0049 is already recorded as Ito, Ken (born 1980-02-29).');
  });

  it('still refuses a duplicate accession without filling the patient’s empty fields', async () => {
    const first = await created({ labId: 'MRN-0050' });

    const error = await refused(newCase({ labId: 'MRN-0050', name: 'Roe, Richard', birthDate: '1990-12-31' }, first.accession));

    expect(error).toMatchObject({ kind: 'conflict', field: 'accession' });
    expect(await fx.service.getCase(first.id)).toMatchObject({ patientName: null, patientBirthDate: null });
  });
});
