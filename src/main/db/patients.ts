import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { PatientRow } from './types';

export interface PatientUpsert {
  labId: string;
  name?: string;
  /** ISO date YYYY-MM-DD. */
  birthDate?: string;
  /** Who made the change, for the audit log; defaults to 'system'. */
  actor?: string;
}

export function upsertPatient(db: MarrowDatabase, input: PatientUpsert): PatientRow {
  return pending('upsertPatient', db, input);
}

export function getPatient(db: MarrowDatabase, id: number): PatientRow {
  return pending('getPatient', db, id);
}
