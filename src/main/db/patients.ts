import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';
import type { PatientRow } from './types';

export interface PatientUpsert {
  labId: string;
  name?: string;
  /** ISO date YYYY-MM-DD. */
  birthDate?: string;
  /** Who made the change, for the audit log; defaults to 'system'. */
  actor?: string;
}

/** A patients row as either engine returns it. */
export interface PatientDbRow {
  id: number;
  lab_id: string;
  name: string | null;
  birth_date: string | null;
  created_at: string;
}

export const toPatientRow = (r: PatientDbRow): PatientRow => ({
  id: r.id,
  labId: r.lab_id,
  name: r.name,
  birthDate: r.birth_date,
  createdAt: r.created_at,
});

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isCalendarDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/**
 * A name or birth date given for an existing patient that differs from the one on record. The identifier is what
 * ties a case to a person, so a mismatch is far more likely a mistyped MRN than a renamed patient; replacing the
 * stored value would rename that person everywhere, reprints of earlier signed reports included.
 */
export class PatientMismatchError extends DatabaseError {
  /** The first field that disagrees with the record (the name when both do). */
  readonly field: 'name' | 'birthDate';
  readonly stored: PatientRow;

  constructor(stored: PatientRow, mismatched: ReadonlyArray<'name' | 'birthDate'>) {
    const recorded =
      stored.name !== null
        ? `as ${stored.name} (${stored.birthDate !== null ? `born ${stored.birthDate}` : 'no birth date recorded'})`
        : `with birth date ${stored.birthDate ?? 'not recorded'} and no name`;
    const blank = mismatched.length === 2 ? 'the name and birth date' : mismatched[0] === 'name' ? 'the name' : 'the birth date';
    super('constraint', `Patient ${stored.labId} is already recorded ${recorded}. Check the identifier, or leave ${blank} blank to use the stored record.`);
    this.name = 'PatientMismatchError';
    this.field = mismatched[0] ?? 'name';
    this.stored = stored;
  }
}

/** Names are compared as a person reads them: case, surrounding and repeated spaces and Unicode form do not count. */
function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase();
  return norm(a) === norm(b);
}

/**
 * Finds the patient by lab identifier, creating it if new. For an existing patient, a name or birth date fills the
 * stored one only where none is recorded (audited); one that differs from a recorded value is refused with
 * PatientMismatchError and nothing is written; an omitted one leaves the record as it is.
 */
/** The identifier, name and birth date of an upsert as stored, checked before any database work (both engines). */
export function patientUpsertInput(input: PatientUpsert): { labId: string; name: string | null | undefined; birthDate: string | undefined; actor: string } {
  const labId = input.labId.trim();
  if (labId === '') throw new DatabaseError('constraint', 'The patient identifier is empty; enter the lab’s patient ID.');
  const name = input.name === undefined ? undefined : input.name.trim() === '' ? null : input.name.trim();
  const birthDate = input.birthDate === undefined || input.birthDate === '' ? undefined : input.birthDate;
  if (birthDate !== undefined && !isCalendarDate(birthDate)) {
    throw new DatabaseError('constraint', `The birth date "${birthDate}" is not a date of the form YYYY-MM-DD.`);
  }
  return { labId, name, birthDate, actor: input.actor ?? 'system' };
}

/**
 * What an upsert does to a patient already on record: null when nothing changes, else the values to store. A name
 * or birth date that differs from a recorded one is refused (PatientMismatchError); only an empty field is filled.
 */
export function patientFill(
  existing: PatientDbRow,
  name: string | null | undefined,
  birthDate: string | undefined,
): { name: string | null; birthDate: string | null } | null {
  const mismatched: Array<'name' | 'birthDate'> = [];
  if (name !== undefined && name !== null && existing.name !== null && !sameName(name, existing.name)) mismatched.push('name');
  if (birthDate !== undefined && existing.birth_date !== null && birthDate !== existing.birth_date) mismatched.push('birthDate');
  if (mismatched.length > 0) throw new PatientMismatchError(toPatientRow(existing), mismatched);
  // A blank or omitted value, or one equal to the record, keeps what is stored; only an empty field is filled.
  const nextName = existing.name ?? name ?? null;
  const nextBirth = existing.birth_date ?? birthDate ?? null;
  if (nextName === existing.name && nextBirth === existing.birth_date) return null;
  return { name: nextName, birthDate: nextBirth };
}

/** The audit entry of a created patient, or of the fields an upsert filled. */
export function patientSavedAudit(actor: string, patient: PatientDbRow, filled?: { name: string | null; birthDate: string | null }): AuditEntry {
  const detail =
    filled === undefined
      ? { patientId: patient.id, labId: patient.lab_id, created: true }
      : { patientId: patient.id, labId: patient.lab_id, before: { name: patient.name, birthDate: patient.birth_date }, after: filled };
  return { actor, action: 'patient_saved', caseId: null, detail };
}

/**
 * Finds the patient by lab identifier, creating it if new. For an existing patient, a name or birth date fills the
 * stored one only where none is recorded (audited); one that differs from a recorded value is refused with
 * PatientMismatchError and nothing is written; an omitted one leaves the record as it is.
 */
export function upsertPatient(db: MarrowDatabase, input: PatientUpsert): PatientRow {
  const { labId, name, birthDate, actor } = patientUpsertInput(input);
  return inTransaction(db, `Saving patient ${labId}`, () => {
    const at = nowIso();
    const existing = sql(db, 'SELECT * FROM patients WHERE lab_id = ?').get(labId) as PatientDbRow | undefined;
    if (existing === undefined) {
      const created = sql(db, 'INSERT INTO patients (lab_id, name, birth_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *').get(
        labId,
        name ?? null,
        birthDate ?? null,
        at,
        at,
      ) as PatientDbRow;
      appendAudit(db, patientSavedAudit(actor, created), at);
      return toPatientRow(created);
    }
    const filled = patientFill(existing, name, birthDate);
    if (filled === null) return toPatientRow(existing);
    const updated = sql(db, 'UPDATE patients SET name = ?, birth_date = ?, updated_at = ? WHERE id = ? RETURNING *').get(
      filled.name,
      filled.birthDate,
      at,
      existing.id,
    ) as PatientDbRow;
    appendAudit(db, patientSavedAudit(actor, existing, filled), at);
    return toPatientRow(updated);
  });
}

/**
 * Corrects the name stored for a patient (a typing error at registration): the only way a recorded name changes.
 * The reason, the old and the new name and who made the correction go into the audit log, against the case it was
 * made from; every case of the patient (earlier reports when reprinted included) then shows the corrected name.
 */
/** A name correction's name (as a person reads it) and reason, checked before any database work (both engines). */
export function nameCorrectionInput(input: { name: string; reason: string }): { name: string; reason: string } {
  const name = input.name.normalize('NFC').trim().replace(/\s+/g, ' ');
  const reason = input.reason.trim();
  if (name === '') throw new DatabaseError('constraint', 'The corrected name is empty; enter the patient’s name as it should read.');
  if (reason === '') throw new DatabaseError('constraint', 'Give the reason for correcting the patient’s name.');
  return { name, reason };
}

export function nameCorrectedAudit(input: { caseId: number; actor: string }, existing: PatientDbRow, name: string, reason: string): AuditEntry {
  return {
    actor: input.actor,
    action: 'patient_name_corrected',
    caseId: input.caseId,
    detail: { patientId: existing.id, labId: existing.lab_id, from: existing.name, to: name, reason },
  };
}

export function patientNotFound(id: number): DatabaseError {
  return new DatabaseError('not_found', `There is no patient with id ${id}.`);
}

/**
 * Corrects the name stored for a patient (a typing error at registration): the only way a recorded name changes.
 * The reason, the old and the new name and who made the correction go into the audit log, against the case it was
 * made from; every case of the patient (earlier reports when reprinted included) then shows the corrected name.
 */
export function correctPatientName(db: MarrowDatabase, input: { patientId: number; caseId: number; name: string; reason: string; actor: string }): PatientRow {
  const { name, reason } = nameCorrectionInput(input);
  return inTransaction(db, `Correcting the name of patient ${input.patientId}`, () => {
    const existing = sql(db, 'SELECT * FROM patients WHERE id = ?').get(input.patientId) as PatientDbRow | undefined;
    if (existing === undefined) throw patientNotFound(input.patientId);
    if (existing.name === name) return toPatientRow(existing);
    const at = nowIso();
    const updated = sql(db, 'UPDATE patients SET name = ?, updated_at = ? WHERE id = ? RETURNING *').get(name, at, existing.id) as PatientDbRow;
    appendAudit(db, nameCorrectedAudit(input, existing, name, reason), at);
    return toPatientRow(updated);
  });
}

export function getPatient(db: MarrowDatabase, id: number): PatientRow {
  const row = read(`Reading patient ${id}`, () => sql(db, 'SELECT * FROM patients WHERE id = ?').get(id) as PatientDbRow | undefined);
  if (row === undefined) throw patientNotFound(id);
  return toPatientRow(row);
}
