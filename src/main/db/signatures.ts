// Electronic signatures (migration 0009): appended, never changed. The service decides when one may be made (roles,
// password re-entered, case status); this module stores it with its person from the current session.
import type { Role } from '../../shared/roles';
import { actingUser, type ActingUser } from './acting-user';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
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

export interface SignatureDbRow {
  id: number;
  case_id: number;
  user_id: number;
  printed_name: string;
  role: SignatureRow['role'];
  meaning: SignatureMeaning;
  signed_at: string;
  content_sha256: string;
}

export const toSignature = (r: SignatureDbRow): SignatureRow => ({
  id: r.id,
  caseId: r.case_id,
  userId: r.user_id,
  printedName: r.printed_name,
  role: r.role,
  meaning: r.meaning,
  signedAt: r.signed_at,
  contentSha256: r.content_sha256,
});

export interface NewSignature {
  caseId: number;
  role: SignatureRow['role'];
  meaning: SignatureMeaning;
  contentSha256: string;
  at?: string;
  detail?: Record<string, unknown>;
}

/** The signing person (the current session's, never a name passed in) and the time; refused outside a session. */
export function signer(input: NewSignature): { person: ActingUser; at: string } {
  const person = actingUser();
  if (person === undefined) throw new DatabaseError('constraint', 'A signature needs a logged-in person.');
  return { person, at: input.at ?? nowIso() };
}

export function signatureEntry(input: NewSignature, person: ActingUser, signatureId: number): AuditEntry {
  return {
    actor: person.displayName,
    action: 'signature_made',
    caseId: input.caseId,
    detail: { ...input.detail, signatureId, meaning: input.meaning, role: input.role, contentSha256: input.contentSha256 },
  };
}

/** Call inside the transaction of the step it signs (submission or release). The person is the session's. */
export function insertSignature(db: MarrowDatabase, input: NewSignature): SignatureRow {
  const { person, at } = signer(input);
  // A unit of its own (a savepoint inside the step's transaction), so that a refusal of the triggers reaches the
  // caller as the same typed error on both engines.
  return inTransaction(db, `Signing case ${input.caseId}`, () => {
    const row = sql(
      db,
      'INSERT INTO signatures (case_id, user_id, printed_name, role, meaning, signed_at, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
    ).get(input.caseId, person.id, person.displayName, input.role, input.meaning, at, input.contentSha256) as SignatureDbRow;
    appendAudit(db, signatureEntry(input, person, row.id), at);
    return toSignature(row);
  });
}

export function listSignatures(db: MarrowDatabase, caseId: number): SignatureRow[] {
  return read(`Reading the signatures of case ${caseId}`, () =>
    (sql(db, 'SELECT * FROM signatures WHERE case_id = ? ORDER BY id').all(caseId) as SignatureDbRow[]).map(toSignature),
  );
}
