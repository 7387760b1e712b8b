// A patient's cases in specimen order, with what history needs to tell released results from drafts: the sign-offs
// (each holds the differential it signed) and which of them an amendment re-opened. The rule of what counts as
// released lives in the service (service/patient-history.ts); this module only reads and records rows.
import type { SpecimenDateSource } from '../../shared/marrow-history';
import { nowIso, readSnapshot, sql, type MarrowDatabase } from './connection';
import { caseNotFound, getCase, listAmendments, listSignOffs, requireCase } from './cases';
import { DatabaseError } from './errors';
import { toPatientRow, type PatientDbRow } from './patients';
import type { CaseRow, PatientRow, SignOffRow } from './types';

export interface PatientCaseHistoryRow {
  case: CaseRow;
  /** YYYY-MM-DD: the recorded specimen date, else the (UTC) day the case was created. */
  specimenDate: string;
  specimenDateSource: SpecimenDateSource;
  /** Oldest first. */
  signOffs: SignOffRow[];
  /** Sign-offs that an amendment re-opened: each was the case's released result until then. */
  amendedSignOffIds: number[];
}

export interface SpecimenDateDbRow {
  collected_on: string | null;
  created_at: string;
}

/** Inside the case's creation transaction: the date the specimen was taken. */
export function recordSpecimenDate(db: MarrowDatabase, input: { caseId: number; collectedOn: string; actor: string }): void {
  requireCase(db, input.caseId);
  sql(db, 'INSERT INTO case_specimen_dates (case_id, collected_on, recorded_by, recorded_at) VALUES (?, ?, ?, ?)').run(
    input.caseId,
    input.collectedOn,
    input.actor,
    nowIso(),
  );
}

export const SPECIMEN_DATE_SQL =
  'SELECT d.collected_on, c.created_at FROM cases AS c LEFT JOIN case_specimen_dates AS d ON d.case_id = c.id WHERE c.id = @caseId';

/** The recorded specimen date, else the (UTC) day the case was created; 'not_found' without the case (both engines). */
export function specimenDateFrom(caseId: number, row: SpecimenDateDbRow | undefined): { specimenDate: string; specimenDateSource: SpecimenDateSource } {
  if (row === undefined) throw caseNotFound(caseId);
  return row.collected_on !== null
    ? { specimenDate: row.collected_on, specimenDateSource: 'recorded' }
    : { specimenDate: row.created_at.slice(0, 10), specimenDateSource: 'case_created' };
}

function specimenDateOf(db: MarrowDatabase, caseId: number): { specimenDate: string; specimenDateSource: SpecimenDateSource } {
  return specimenDateFrom(caseId, sql(db, SPECIMEN_DATE_SQL).get({ caseId }) as SpecimenDateDbRow | undefined);
}

/** The specimen date of one case (recorded, or its creation day). */
export function caseSpecimenDate(db: MarrowDatabase, caseId: number): { specimenDate: string; specimenDateSource: SpecimenDateSource } {
  return readSnapshot(db, `Reading the specimen date of case ${caseId}`, () => specimenDateOf(db, caseId));
}

/** The patient found by identifier, or 'not_found' naming the identifier (both engines). */
export function patientOfLabId(labId: string, row: PatientDbRow | undefined): PatientRow {
  if (row === undefined) throw new DatabaseError('not_found', `There is no patient with the identifier ${labId.trim()}.`);
  return toPatientRow(row);
}

export function findPatientByLabId(db: MarrowDatabase, labId: string): PatientRow {
  const row = readSnapshot(db, `Reading patient ${labId}`, () =>
    sql(db, 'SELECT id, lab_id, name, birth_date, created_at FROM patients WHERE lab_id = ?').get(labId.trim()),
  ) as PatientDbRow | undefined;
  return patientOfLabId(labId, row);
}

export const PATIENT_CASES_SQL = `SELECT c.id FROM cases AS c LEFT JOIN case_specimen_dates AS d ON d.case_id = c.id
  WHERE c.patient_id = @patientId
  ORDER BY coalesce(d.collected_on, substr(c.created_at, 1, 10)), c.created_at, c.id`;

/** Every case of the patient, oldest specimen first (same day: the case created first), read in one snapshot. */
export function listPatientCaseHistory(db: MarrowDatabase, patientId: number): PatientCaseHistoryRow[] {
  return readSnapshot(db, `Reading the cases of patient ${patientId}`, () => {
    const ids = sql(db, PATIENT_CASES_SQL).all({ patientId }) as { id: number }[];
    return ids.map(({ id }) => ({
      case: getCase(db, id),
      ...specimenDateOf(db, id),
      signOffs: listSignOffs(db, id),
      amendedSignOffIds: listAmendments(db, id).map((a) => a.signOffId),
    }));
  });
}
