// Electronic signatures on PostgreSQL: the twin of ../signatures.ts (SignatureRepository of contract.ts). Appended,
// never changed (trigger); the person is the current session's (acting-user.ts), as on SQLite.
import type { SignatureRepository } from '../contract';
import { signatureEntry, signer, toSignature, type SignatureDbRow } from '../signatures';
import { appendAuditPg } from './audit';
import { pgRead, pgUnit, type PgScope } from './scope';

export function pgSignatureRepository(scope: PgScope): SignatureRepository {
  return {
    insertSignature: async (input) => {
      // Before the unit (a rejection, like every refusal of the contract): no connection is taken for a call without a person.
      const { person, at } = signer(input);
      return pgUnit(scope, `Signing case ${input.caseId}`, async (client) => {
        const row = (
          await client.query<SignatureDbRow>(
            'INSERT INTO signatures (case_id, user_id, printed_name, role, meaning, signed_at, content_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
            [input.caseId, person.id, person.displayName, input.role, input.meaning, at, input.contentSha256],
          )
        ).rows[0]!;
        await appendAuditPg(client, signatureEntry(input, person, row.id), at);
        return toSignature(row);
      });
    },
    listSignatures: (caseId) =>
      pgRead(scope, `Reading the signatures of case ${caseId}`, async (q) =>
        (await q.query<SignatureDbRow>('SELECT * FROM signatures WHERE case_id = $1 ORDER BY id', [caseId])).rows.map(toSignature),
      ),
  };
}
