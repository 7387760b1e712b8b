// Results to the LIS on PostgreSQL: the twin of ../lis.ts (LisRepository of contract.ts). The same tables, the same
// state machine ('sending' committed before the first byte, 'acknowledged' after the ACK, a delivered row never
// goes back), the same SQL text where the dialects agree (../lis.ts exports it with the pure rules).
//
// What several stations add: two servers must never send one message twice, nor send a channel's messages out of
// order (a corrected result must not overtake the final one). So only the HEAD of a channel's queue is ever handed
// out, and a delivery is claimed by one sender at a time:
// - nextOpenDelivery takes the head's row with `FOR UPDATE SKIP LOCKED`: inside the claiming transaction (claim, then
//   markDeliverySending/markDeliverySent, then COMMIT) a second server finds the head locked and gets null rather
//   than waiting or skipping ahead to the next message.
// - Once 'sending' is committed, the head belongs to its sender for SENDING_LEASE_MS (far longer than a send's
//   connect + ACK timeouts): other servers get null meanwhile. A 'sending' older than that is a sender that died
//   between the mark and the ACK, and the message is handed out again under the same control id, as on SQLite after
//   a restart. (SQLite has one delivery loop per database, so there a 'sending' row is always an interrupted one.)
// - markDeliverySending and markDeliverySent only move a delivery that is still claimable (compare-and-set under the
//   row lock), so even a caller that claims outside a transaction cannot make two servers send one message: the
//   second is refused with 'locked' and must not send.
import type { LisChannel } from '../../../shared/lis';
import { nowIso } from '../connection';
import type { LisRepository } from '../contract';
import { DatabaseError } from '../errors';
import {
  CASE_DELIVERIES_SELECT,
  DELIVERY_CHANGES,
  DELIVERY_SELECT,
  LIS_RESULT_INSERT,
  LIS_SETTINGS_UPSERT,
  deliveryFailure,
  deliveryViewOf,
  lisBuildErrorText,
  lisResendAuditEntry,
  lisResultStatus,
  lisSettingsChange,
  lisSettingsOf,
  noSuchDelivery,
  toDelivery,
  toResult,
  type DeliveryDbRow,
  type DeliveryViewDbRow,
  type LisDeliveryRow,
  type LisResultDbRow,
} from '../lis';
import { appendAuditPg } from './audit';
import { named } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

/** How long a committed 'sending' is its sender's before another server may send the message again. */
export const SENDING_LEASE_MS = 5 * 60_000;

/** Deliveries whose 'sending' mark is older than this are from a sender that is gone. */
function staleBefore(now = Date.now()): string {
  return new Date(now - SENDING_LEASE_MS).toISOString();
}

/** Still claimable: queued, or marked 'sending' by a sender whose lease ran out. */
const claimable = (prefix: '' | 'd.'): string => `(${prefix}status = 'queued' OR (${prefix}status = 'sending' AND ${prefix}updated_at <= @staleBefore))`;

async function readLisSettings(q: Queryable) {
  const { rows } = await q.query<{ value: string }>('SELECT value FROM lis_settings WHERE id = 1');
  return lisSettingsOf(rows[0]?.value);
}

async function updateDelivery(
  scope: PgScope,
  id: number,
  change: keyof typeof DELIVERY_CHANGES,
  params: Record<string, unknown>,
  claim = false,
): Promise<void> {
  const { context, set } = DELIVERY_CHANGES[change];
  await pgUnit(scope, context, async (client) => {
    const where = claim ? `id = @id AND ${claimable('')}` : 'id = @id';
    const q = named(`UPDATE lis_deliveries SET ${set}, updated_at = @at WHERE ${where}`, {
      ...params,
      id,
      at: nowIso(),
      ...(claim ? { staleBefore: staleBefore() } : {}),
    });
    const changed = await client.query(q.text, q.values);
    if (changed.rowCount === 1) return;
    const { rows } = await client.query<{ status: string }>('SELECT status FROM lis_deliveries WHERE id = $1', [id]);
    if (rows.length === 0) throw noSuchDelivery(id);
    throw new DatabaseError(
      'locked',
      `LIS delivery ${id} is ${rows[0]!.status === 'sending' ? 'being sent by another station' : `already ${rows[0]!.status}`}; it was not sent again.`,
    );
  });
}

export function pgLisRepository(scope: PgScope): LisRepository {
  return {
    getLisSettings: () => pgRead(scope, 'Reading the LIS settings', readLisSettings),

    saveLisSettings: (settings, actor) =>
      pgUnit(scope, 'Saving the LIS settings', async (client) => {
        // Two stations saving at once: the second waits here and compares with what the first saved.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('marrowcount lis settings'))`);
        const before = await readLisSettings(client);
        const change = lisSettingsChange(before, settings);
        if (change === null) return before;
        const at = nowIso();
        const q = named(LIS_SETTINGS_UPSERT, { value: JSON.stringify(settings), at });
        await client.query(q.text, q.values);
        await appendAuditPg(client, { actor, action: 'lis_settings_changed', caseId: null, detail: change }, at);
        return readLisSettings(client);
      }),

    recordLisResult: (input) =>
      pgUnit(scope, `Queuing the result of case ${input.caseId} for the LIS`, async (client) => {
        const earlier = await client.query('SELECT 1 FROM lis_results WHERE case_id = $1 AND sign_off_id <> $2', [input.caseId, input.signOffId]);
        const q = named(LIS_RESULT_INSERT, {
          caseId: input.caseId,
          signOffId: input.signOffId,
          resultStatus: lisResultStatus((earlier.rowCount ?? 0) > 0),
          at: nowIso(),
        });
        return toResult((await client.query<LisResultDbRow>(q.text, q.values)).rows[0]!);
      }),

    findLisResultForSignOff: (signOffId) =>
      pgRead(scope, 'Reading a result for the LIS', async (q) => {
        const { rows } = await q.query<LisResultDbRow>('SELECT * FROM lis_results WHERE sign_off_id = $1', [signOffId]);
        return rows.length === 0 ? null : toResult(rows[0]!);
      }),

    listUnbuiltLisResults: () =>
      pgRead(scope, 'Reading the results waiting for the LIS', async (q) =>
        (await q.query<LisResultDbRow>('SELECT * FROM lis_results WHERE built_at IS NULL ORDER BY id')).rows.map(toResult),
      ),

    recordLisBuildError: async (resultId, error) => {
      await pgUnit(scope, 'Recording a failed LIS message build', async (client) => {
        // As on SQLite: the same failure again is not written again.
        await client.query('UPDATE lis_results SET build_error = $1 WHERE id = $2 AND built_at IS NULL AND build_error IS DISTINCT FROM $1', [
          lisBuildErrorText(error),
          resultId,
        ]);
      });
    },

    storeLisMessages: (input) =>
      pgUnit(scope, 'Queuing messages for the LIS', async (client) => {
        const { rows } = await client.query<LisResultDbRow>('SELECT * FROM lis_results WHERE id = $1', [input.resultId]);
        const result = rows[0];
        if (result === undefined) throw new DatabaseError('not_found', `There is no LIS result with id ${input.resultId}.`);
        const at = nowIso();
        if (!input.resend) {
          // Under the row lock the UPDATE takes, a second builder re-reads built_at and changes nothing.
          const marked = await client.query('UPDATE lis_results SET built_at = $1, build_error = NULL WHERE id = $2 AND built_at IS NULL', [
            at,
            input.resultId,
          ]);
          if (marked.rowCount !== 1) throw new DatabaseError('duplicate', `The messages of LIS result ${input.resultId} are already queued.`);
        } else {
          await appendAuditPg(client, lisResendAuditEntry(input, result.case_id), at);
        }
        const ids: number[] = [];
        for (const message of input.messages) {
          const inserted = await client.query<{ id: number }>(
            'INSERT INTO lis_messages (result_id, case_id, format, control_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
            [input.resultId, result.case_id, message.format, message.controlId, message.payload, at],
          );
          const id = inserted.rows[0]!.id;
          for (const channel of message.channels) {
            await client.query(`INSERT INTO lis_deliveries (message_id, channel, status, updated_at) VALUES ($1, $2, 'queued', $3)`, [id, channel, at]);
          }
          ids.push(id);
        }
        return ids;
      }),

    nextOpenDelivery: (channel: LisChannel) =>
      pgUnit(scope, 'Reading the LIS queue', async (client): Promise<LisDeliveryRow | null> => {
        const head = await client.query<{ id: number; status: string; updated_at: string }>(
          `SELECT id, status, updated_at FROM lis_deliveries WHERE channel = $1 AND status IN ('queued', 'sending') ORDER BY id LIMIT 1`,
          [channel],
        );
        const first = head.rows[0];
        if (first === undefined) return null;
        const limit = staleBefore();
        // Another station is sending the head: the queue waits behind it (in order), nothing is handed out.
        if (first.status === 'sending' && first.updated_at > limit) return null;
        // Locked by another station's claim in progress: null, not a wait and not the next message. The condition is
        // evaluated again on the row as locked, so a claim committed since the head was read is seen.
        const q = named(`${DELIVERY_SELECT} WHERE d.id = @id AND ${claimable('d.')} FOR UPDATE OF d SKIP LOCKED`, { id: first.id, staleBefore: limit });
        const { rows } = await client.query<DeliveryDbRow>(q.text, q.values);
        return rows.length === 0 ? null : toDelivery(rows[0]!);
      }),

    markDeliverySending: (id, destination) => updateDelivery(scope, id, 'sending', { destination }, true),
    markDeliverySent: (id, destination) => updateDelivery(scope, id, 'sent', { destination }, true),
    markDeliveryAcknowledged: (id, ackCode) => updateDelivery(scope, id, 'acknowledged', { ackCode }),
    markDeliveryFailed: (id, failure) => updateDelivery(scope, id, 'failed', deliveryFailure(failure)),
    deferDelivery: (id, reason, retryAt) => updateDelivery(scope, id, 'deferred', { reason, retryAt }),

    listCaseLisDeliveries: (caseId) =>
      pgRead(scope, `Reading the LIS deliveries of case ${caseId}`, async (q) => {
        const query = named(CASE_DELIVERIES_SELECT, { caseId });
        return (await q.query<DeliveryViewDbRow>(query.text, query.values)).rows.map(deliveryViewOf);
      }),

    countUnbuiltLisResults: (caseId) =>
      pgRead(
        scope,
        `Reading the LIS results of case ${caseId}`,
        async (q) => (await q.query<{ n: number }>('SELECT count(*) AS n FROM lis_results WHERE case_id = $1 AND built_at IS NULL', [caseId])).rows[0]!.n,
      ),

    unbuiltLisResultErrors: (caseId) =>
      pgRead(scope, `Reading the LIS results of case ${caseId}`, async (q) =>
        (
          await q.query<{ build_error: string }>(
            'SELECT build_error FROM lis_results WHERE case_id = $1 AND built_at IS NULL AND build_error IS NOT NULL ORDER BY id',
            [caseId],
          )
        ).rows.map((r) => r.build_error),
      ),
  };
}
