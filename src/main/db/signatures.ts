// Electronic signatures (migration 0009): appended, never changed. The service decides when one may be made (roles,
// password re-entered, case status); this module stores it with its person from the current session.
import type { Role } from '../../shared/roles';
import { actingUser } from './acting-user';
import { appendAudit } from './audit';
import { nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';

export type SignatureMeaning = 'technical_validation' | 'medical_authorisation';

export interface SignatureRow {
  id: number;
  caseId: number;
  userId: number;
  printedName: string;
  role: Extract<Role, 'technician' | 'pathologist'>;
  meaning: SignatureMeaning;
  signedAt: string;
  contentSha256: string;
}

interface SignatureDbRow {
  id: number;
  case_id: number;
  user_id: number;
  printed_name: string;
  role: SignatureRow['role'];
  meaning: SignatureMeaning;
  signed_at: string;
  content_sha256: string;
}

const toSignature = (r: SignatureDbRow): SignatureRow => ({
  id: r.id,
  caseId: r.case_id,
  userId: r.user_id,
  printedName: r.printed_name,
  role: r.role,
  meaning: r.meaning,
  signedAt: r.signed_at,
  contentSha256: r.content_sha256,
});

/** Call inside the transaction of the step it signs (submission or release). The person is the session's. */
export function insertSignature(
  db: MarrowDatabase,
  input: { caseId: number; role: SignatureRow['role']; meaning: SignatureMeaning; contentSha256: string; at?: string; detail?: Record<string, unknown> },
): SignatureRow {
  const person = actingUser();
  if (person === undefined) throw new DatabaseError('constraint', 'A signature needs a logged-in person.');
  const at = input.at ?? nowIso();
  const row = sql(
    db,
    'INSERT INTO signatures (case_id, user_id, printed_name, role, meaning, signed_at, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  ).get(input.caseId, person.id, person.displayName, input.role, input.meaning, at, input.contentSha256) as SignatureDbRow;
  appendAudit(
    db,
    {
      actor: person.displayName,
      action: 'signature_made',
      caseId: input.caseId,
      detail: { ...input.detail, signatureId: row.id, meaning: input.meaning, role: input.role, contentSha256: input.contentSha256 },
    },
    at,
  );
  return toSignature(row);
}

export function listSignatures(db: MarrowDatabase, caseId: number): SignatureRow[] {
  return read(`Reading the signatures of case ${caseId}`, () =>
    (sql(db, 'SELECT * FROM signatures WHERE case_id = ? ORDER BY id').all(caseId) as SignatureDbRow[]).map(toSignature),
  );
}
