// A patient's cases on PostgreSQL: the twin of ../patient-history.ts (PatientHistoryRepository of contract.ts), read
// in one snapshot as there. The specimen-date rule and the not-found refusals are ../patient-history.ts's functions.
import { toAmendment, toSignOff, type AmendmentDbRow, type SignOffDbRow } from '../cases';
import { nowIso } from '../connection';
import type { PatientHistoryRepository } from '../contract';
import { PATIENT_CASES_SQL, SPECIMEN_DATE_SQL, patientOfLabId, specimenDateFrom, type SpecimenDateDbRow } from '../patient-history';
import type { PatientDbRow } from '../patients';
import { pgRequireCase } from './cases';
import { named } from './named';
import { pgSnapshot, pgUnit, type PgScope, type Queryable } from './scope';

async function specimenDateOf(q: Queryable, caseId: number) {
  const { text, values } = named(SPECIMEN_DATE_SQL, { caseId });
  return specimenDateFrom(caseId, (await q.query<SpecimenDateDbRow>(text, values)).rows[0]);
}

export function pgPatientHistoryRepository(scope: PgScope): PatientHistoryRepository {
  return {
    recordSpecimenDate: (input) =>
      pgUnit(scope, `Recording the specimen date of case ${input.caseId}`, async (client) => {
        await pgRequireCase(client, input.caseId);
        await client.query('INSERT INTO case_specimen_dates (case_id, collected_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4)', [
          input.caseId,
          input.collectedOn,
          input.actor,
          nowIso(),
        ]);
      }),

    caseSpecimenDate: (caseId) => pgSnapshot(scope, `Reading the specimen date of case ${caseId}`, (q) => specimenDateOf(q, caseId)),

    findPatientByLabId: (labId) =>
      pgSnapshot(scope, `Reading patient ${labId}`, async (q) =>
        patientOfLabId(
          labId,
          (await q.query<PatientDbRow>('SELECT id, lab_id, name, birth_date, created_at FROM patients WHERE lab_id = $1', [labId.trim()])).rows[0],
        ),
      ),

    listPatientCaseHistory: (patientId) =>
      pgSnapshot(scope, `Reading the cases of patient ${patientId}`, async (q) => {
        const cases = named(PATIENT_CASES_SQL, { patientId });
        const history = [];
        for (const { id } of (await q.query<{ id: number }>(cases.text, cases.values)).rows) {
          const signOffs = (await q.query<SignOffDbRow>('SELECT * FROM sign_offs WHERE case_id = $1 ORDER BY id', [id])).rows.map(toSignOff);
          const amendments = (await q.query<AmendmentDbRow>('SELECT * FROM amendments WHERE case_id = $1 ORDER BY id', [id])).rows.map(toAmendment);
          history.push({
            case: await pgRequireCase(q, id),
            ...(await specimenDateOf(q, id)),
            signOffs,
            amendedSignOffIds: amendments.map((a) => a.signOffId),
          });
        }
        return history;
      }),
  };
}
