// Patients on PostgreSQL: the twin of ../patients.ts (PatientRepository of contract.ts). The checks, the fill rule,
// the mismatch refusal and the audit entries are ../patients.ts's own functions; only the SQL and the locking differ.
import { nowIso } from '../connection';
import type { PatientRepository } from '../contract';
import {
  nameCorrectedAudit,
  nameCorrectionInput,
  patientFill,
  patientNotFound,
  patientSavedAudit,
  patientUpsertInput,
  toPatientRow,
  type PatientDbRow,
} from '../patients';
import { appendAuditPg } from './audit';
import { pgRead, pgUnit, raceLost, type PgScope, type Queryable } from './scope';

async function patientById(q: Queryable, id: number, forUpdate = false): Promise<PatientDbRow | undefined> {
  return (await q.query<PatientDbRow>(`SELECT * FROM patients WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id])).rows[0];
}

export function pgPatientRepository(scope: PgScope): PatientRepository {
  return {
    upsertPatient: async (input) => {
      const { labId, name, birthDate, actor } = patientUpsertInput(input);
      return pgUnit(scope, `Saving patient ${labId}`, async (client) => {
        const at = nowIso();
        // Two stations registering one identifier at once: the row lock makes the second wait for the first's fill,
        // and a new identifier is inserted ON CONFLICT DO NOTHING (the unique lab_id decides), so the one that loses
        // the race re-reads the winner's row under the lock and applies the same rule to it as to any stored patient.
        const byLabId = async () => (await client.query<PatientDbRow>('SELECT * FROM patients WHERE lab_id = $1 FOR UPDATE', [labId])).rows[0];
        let existing = await byLabId();
        if (existing === undefined) {
          const created = (
            await client.query<PatientDbRow>(
              'INSERT INTO patients (lab_id, name, birth_date, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (lab_id) DO NOTHING RETURNING *',
              [labId, name ?? null, birthDate ?? null, at],
            )
          ).rows[0];
          if (created !== undefined) {
            await appendAuditPg(client, patientSavedAudit(actor, created), at);
            return toPatientRow(created);
          }
          existing = await byLabId();
          if (existing === undefined) throw raceLost(`Saving patient ${labId}`);
        }
        const filled = patientFill(existing, name, birthDate);
        if (filled === null) return toPatientRow(existing);
        const updated = (
          await client.query<PatientDbRow>('UPDATE patients SET name = $1, birth_date = $2, updated_at = $3 WHERE id = $4 RETURNING *', [
            filled.name,
            filled.birthDate,
            at,
            existing.id,
          ])
        ).rows[0]!;
        await appendAuditPg(client, patientSavedAudit(actor, existing, filled), at);
        return toPatientRow(updated);
      });
    },

    getPatient: async (id) => {
      const row = await pgRead(scope, `Reading patient ${id}`, (q) => patientById(q, id));
      if (row === undefined) throw patientNotFound(id);
      return toPatientRow(row);
    },

    correctPatientName: async (input) => {
      const { name, reason } = nameCorrectionInput(input);
      return pgUnit(scope, `Correcting the name of patient ${input.patientId}`, async (client) => {
        // Locked, so that two corrections at once are recorded one after the other, each with the name it replaced.
        const existing = await patientById(client, input.patientId, true);
        if (existing === undefined) throw patientNotFound(input.patientId);
        if (existing.name === name) return toPatientRow(existing);
        const at = nowIso();
        const updated = (await client.query<PatientDbRow>('UPDATE patients SET name = $1, updated_at = $2 WHERE id = $3 RETURNING *', [name, at, existing.id]))
          .rows[0]!;
        await appendAuditPg(client, nameCorrectedAudit(input, existing, name, reason), at);
        return toPatientRow(updated);
      });
    },
  };
}
