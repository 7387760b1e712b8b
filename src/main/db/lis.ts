// Results to the LIS: the settings, the results waiting for their messages, the messages and their deliveries.
// Every change of a delivery's state is its own committed transaction, because the state on disk is what decides,
// after a crash, whether a message is sent again (see migrations/0005-lis-delivery.ts).
import {
  DEFAULT_LIS_SETTINGS,
  isLisComponent,
  type LisChannel,
  type LisDeliveryStatus,
  type LisDeliveryView,
  type LisFormat,
  type LisSettings,
} from '../../shared/lis';
import { appendAudit, type AuditEntry } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';

/** The saved settings over the defaults: a field added in a later version reads as its default. */
export function getLisSettings(db: MarrowDatabase): LisSettings {
  return read('Reading the LIS settings', () => readLisSettings(db));
}

function readLisSettings(db: MarrowDatabase): LisSettings {
  const row = sql(db, 'SELECT value FROM lis_settings WHERE id = 1').get() as { value: string } | undefined;
  return lisSettingsOf(row?.value);
}

/** The stored JSON (absent: never saved) as settings: the defaults under what was saved, unknown components dropped. Both engines. */
export function lisSettingsOf(stored: string | undefined): LisSettings {
  if (stored === undefined) return { ...DEFAULT_LIS_SETTINGS, codeMapping: [] };
  const saved = JSON.parse(stored) as Partial<LisSettings>;
  return {
    ...DEFAULT_LIS_SETTINGS,
    ...saved,
    codeMapping: (saved.codeMapping ?? []).filter((m) => isLisComponent(m.component)),
  };
}

/** The fields a save changes, or null when it changes nothing (nothing is written then); both engines. */
export function lisSettingsChange(before: LisSettings, settings: LisSettings): Record<string, { from: unknown; to: unknown }> | null {
  const changed = (Object.keys(settings) as (keyof LisSettings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(settings[k]));
  return changed.length === 0 ? null : Object.fromEntries(changed.map((k) => [k, { from: before[k], to: settings[k] }]));
}

export const LIS_SETTINGS_UPSERT =
  'INSERT INTO lis_settings (id, value, updated_at) VALUES (1, @value, @at) ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at';

export function saveLisSettings(db: MarrowDatabase, settings: LisSettings, actor: string): LisSettings {
  return inTransaction(db, 'Saving the LIS settings', () => {
    const before = readLisSettings(db);
    const change = lisSettingsChange(before, settings);
    if (change === null) return before;
    const at = nowIso();
    sql(db, LIS_SETTINGS_UPSERT).run({ value: JSON.stringify(settings), at });
    appendAudit(db, { actor, action: 'lis_settings_changed', caseId: null, detail: change }, at);
    return readLisSettings(db);
  });
}

export interface LisResultRow {
  id: number;
  caseId: number;
  signOffId: number;
  resultStatus: 'F' | 'C';
  createdAt: string;
  builtAt: string | null;
  buildError: string | null;
}

export interface LisResultDbRow {
  id: number;
  case_id: number;
  sign_off_id: number;
  result_status: 'F' | 'C';
  created_at: string;
  built_at: string | null;
  build_error: string | null;
}

export const toResult = (r: LisResultDbRow): LisResultRow => ({
  id: r.id,
  caseId: r.case_id,
  signOffId: r.sign_off_id,
  resultStatus: r.result_status,
  createdAt: r.created_at,
  builtAt: r.built_at,
  buildError: r.build_error,
});

/** F for the first result the LIS gets of a case, C (corrected) when it was sent an earlier one. Both engines. */
export function lisResultStatus(earlierResultOfCase: boolean): 'F' | 'C' {
  return earlierResultOfCase ? 'C' : 'F';
}

export const LIS_RESULT_INSERT =
  'INSERT INTO lis_results (case_id, sign_off_id, result_status, created_at) VALUES (@caseId, @signOffId, @resultStatus, @at) RETURNING *';

/** The build error as stored: bounded, never empty (the column refuses ''). Both engines. */
export function lisBuildErrorText(error: string): string {
  return error.slice(0, 2000) || 'unknown error';
}

/**
 * Records that a sign-off is to be sent. Call inside the sign-off's transaction. The result is corrected (C) when
 * the LIS was already sent an earlier result of the case, final (F) otherwise.
 */
export function recordLisResult(db: MarrowDatabase, input: { caseId: number; signOffId: number }): LisResultRow {
  return inTransaction(db, `Queuing the result of case ${input.caseId} for the LIS`, () => {
    const earlier = sql(db, 'SELECT 1 FROM lis_results WHERE case_id = ? AND sign_off_id <> ?').get(input.caseId, input.signOffId);
    const row = sql(db, LIS_RESULT_INSERT).get({
      caseId: input.caseId,
      signOffId: input.signOffId,
      resultStatus: lisResultStatus(earlier !== undefined),
      at: nowIso(),
    }) as LisResultDbRow;
    return toResult(row);
  });
}

export function findLisResultForSignOff(db: MarrowDatabase, signOffId: number): LisResultRow | null {
  return read('Reading a result for the LIS', () => {
    const row = sql(db, 'SELECT * FROM lis_results WHERE sign_off_id = ?').get(signOffId) as LisResultDbRow | undefined;
    return row === undefined ? null : toResult(row);
  });
}

/** Results whose messages are not built yet, oldest first (a build that failed is tried again). */
export function listUnbuiltLisResults(db: MarrowDatabase): LisResultRow[] {
  return read('Reading the results waiting for the LIS', () =>
    (sql(db, 'SELECT * FROM lis_results WHERE built_at IS NULL ORDER BY id').all() as LisResultDbRow[]).map(toResult),
  );
}

export function recordLisBuildError(db: MarrowDatabase, resultId: number, error: string): void {
  inTransaction(db, 'Recording a failed LIS message build', () => {
    // The build is retried every round; the same failure again is not written again (no fsync every few seconds).
    sql(db, 'UPDATE lis_results SET build_error = @error WHERE id = @id AND built_at IS NULL AND build_error IS NOT @error').run({
      error: lisBuildErrorText(error),
      id: resultId,
    });
  });
}

export interface NewLisMessage {
  format: LisFormat;
  controlId: string;
  payload: string;
  channels: LisChannel[];
}

/** The audit entry of a resend: who asked, for which result, under which new control ids (both engines write it). */
export function lisResendAuditEntry(input: { actor: string; resultId: number; messages: readonly { controlId: string }[] }, caseId: number): AuditEntry {
  return {
    actor: input.actor,
    action: 'lis_resend_requested',
    caseId,
    detail: { resultId: input.resultId, controlIds: input.messages.map((m) => m.controlId) },
  };
}

/**
 * Stores a result's messages and queues their deliveries, in one transaction. With `resend` false this is the
 * result's first build and it marks the result built; a second first build (two builders racing) is refused, so a
 * result is never queued twice.
 */
export function storeLisMessages(db: MarrowDatabase, input: { resultId: number; messages: NewLisMessage[]; resend: boolean; actor: string }): number[] {
  return inTransaction(db, 'Queuing messages for the LIS', () => {
    const result = sql(db, 'SELECT * FROM lis_results WHERE id = ?').get(input.resultId) as LisResultDbRow | undefined;
    if (result === undefined) throw new DatabaseError('not_found', `There is no LIS result with id ${input.resultId}.`);
    const at = nowIso();
    if (!input.resend) {
      const marked = sql(db, 'UPDATE lis_results SET built_at = ?, build_error = NULL WHERE id = ? AND built_at IS NULL').run(at, input.resultId);
      if (marked.changes !== 1) throw new DatabaseError('duplicate', `The messages of LIS result ${input.resultId} are already queued.`);
    } else {
      appendAudit(db, lisResendAuditEntry(input, result.case_id), at);
    }
    const ids: number[] = [];
    for (const message of input.messages) {
      const { id } = sql(
        db,
        'INSERT INTO lis_messages (result_id, case_id, format, control_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      ).get(input.resultId, result.case_id, message.format, message.controlId, message.payload, at) as { id: number };
      for (const channel of message.channels) {
        sql(db, `INSERT INTO lis_deliveries (message_id, channel, status, updated_at) VALUES (?, ?, 'queued', ?)`).run(id, channel, at);
      }
      ids.push(id);
    }
    return ids;
  });
}

export interface LisDeliveryRow {
  id: number;
  messageId: number;
  caseId: number;
  controlId: string;
  format: LisFormat;
  channel: LisChannel;
  payload: string;
  status: 'queued' | 'sending' | 'sent' | 'acknowledged' | 'error';
  attempts: number;
  nextAttemptAt: string | null;
}

export const DELIVERY_SELECT = `SELECT d.id, d.message_id, m.case_id, m.control_id, m.format, d.channel, m.payload, d.status, d.attempts,
  d.next_attempt_at FROM lis_deliveries AS d JOIN lis_messages AS m ON m.id = d.message_id`;

export interface DeliveryDbRow {
  id: number;
  message_id: number;
  case_id: number;
  control_id: string;
  format: LisFormat;
  channel: LisChannel;
  payload: string;
  status: LisDeliveryRow['status'];
  attempts: number;
  next_attempt_at: string | null;
}

export const toDelivery = (r: DeliveryDbRow): LisDeliveryRow => ({
  id: r.id,
  messageId: r.message_id,
  caseId: r.case_id,
  controlId: r.control_id,
  format: r.format,
  channel: r.channel,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
});

/**
 * The oldest undelivered delivery of a channel (queued, or 'sending' when a crash interrupted it), due or not:
 * MLLP sends in order, so a message waiting for its retry holds back the ones after it (a corrected result must
 * never overtake the final one it corrects).
 */
export function nextOpenDelivery(db: MarrowDatabase, channel: LisChannel): LisDeliveryRow | null {
  return read('Reading the LIS queue', () => {
    const row = sql(db, `${DELIVERY_SELECT} WHERE d.channel = ? AND d.status IN ('queued', 'sending') ORDER BY d.id LIMIT 1`).get(channel) as
      DeliveryDbRow | undefined;
    return row === undefined ? null : toDelivery(row);
  });
}

/**
 * Each state change of a delivery as its SET clause and parameters, for both engines (the PostgreSQL twin adds its
 * claim condition to 'sending' and 'sent').
 */
export const DELIVERY_CHANGES = {
  sending: { context: 'Marking a LIS message as sending', set: `status = 'sending', attempts = attempts + 1, destination = @destination` },
  sent: {
    context: 'Marking a LIS message as written',
    set: `status = 'sent', attempts = attempts + 1, destination = @destination, last_error = NULL, next_attempt_at = NULL`,
  },
  acknowledged: {
    context: 'Marking a LIS message as acknowledged',
    set: `status = 'acknowledged', ack_code = @ackCode, last_error = NULL, next_attempt_at = NULL`,
  },
  failed: { context: 'Recording a failed LIS delivery', set: `status = @status, last_error = @error, next_attempt_at = @retryAt, ack_code = @ackCode` },
  deferred: { context: 'Deferring a LIS delivery', set: `status = 'queued', last_error = @reason, next_attempt_at = @retryAt` },
} as const;

/** markDeliveryFailed's parameters: queued again for retryAt, or an error a person must look at. Both engines. */
export function deliveryFailure(failure: { error: string; retryAt: string | null; ackCode?: string }): Record<string, unknown> {
  return {
    status: failure.retryAt === null ? 'error' : 'queued',
    error: failure.error.slice(0, 2000),
    retryAt: failure.retryAt,
    ackCode: failure.ackCode ?? null,
  };
}

export function noSuchDelivery(id: number): DatabaseError {
  return new DatabaseError('not_found', `There is no LIS delivery with id ${id}.`);
}

function updateDelivery(db: MarrowDatabase, id: number, context: string, set: string, params: Record<string, unknown>): void {
  inTransaction(db, context, () => {
    const changed = sql(db, `UPDATE lis_deliveries SET ${set}, updated_at = @at WHERE id = @id`).run({ ...params, id, at: nowIso() });
    if (changed.changes !== 1) throw noSuchDelivery(id);
  });
}

/** Committed before the message is written to the wire: from here on a crash means "send it again". */
export function markDeliverySending(db: MarrowDatabase, id: number, destination: string): void {
  updateDelivery(db, id, DELIVERY_CHANGES.sending.context, DELIVERY_CHANGES.sending.set, { destination });
}

export function markDeliverySent(db: MarrowDatabase, id: number, destination: string): void {
  updateDelivery(db, id, DELIVERY_CHANGES.sent.context, DELIVERY_CHANGES.sent.set, { destination });
}

export function markDeliveryAcknowledged(db: MarrowDatabase, id: number, ackCode: string): void {
  updateDelivery(db, id, DELIVERY_CHANGES.acknowledged.context, DELIVERY_CHANGES.acknowledged.set, { ackCode });
}

/** A failed attempt: queued again for retryAt, or, with retryAt null, an error a person must look at. */
export function markDeliveryFailed(db: MarrowDatabase, id: number, failure: { error: string; retryAt: string | null; ackCode?: string }): void {
  updateDelivery(db, id, DELIVERY_CHANGES.failed.context, DELIVERY_CHANGES.failed.set, deliveryFailure(failure));
}

/** For a retry counted against an attempt that never reached the wire (no host configured): no attempt added. */
export function deferDelivery(db: MarrowDatabase, id: number, reason: string, retryAt: string): void {
  updateDelivery(db, id, DELIVERY_CHANGES.deferred.context, DELIVERY_CHANGES.deferred.set, { reason, retryAt });
}

export interface DeliveryViewDbRow {
  message_id: number;
  control_id: string;
  format: LisFormat;
  channel: LisChannel;
  result_status: 'F' | 'C';
  status: LisDeliveryRow['status'];
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  destination: string | null;
  created_at: string;
  updated_at: string;
}

/** 'sending' is shown as sent: the message is on the wire (or was when the app stopped), waiting for its ACK. */
function viewStatus(status: LisDeliveryRow['status']): LisDeliveryStatus {
  return status === 'sending' ? 'sent' : status;
}

export const CASE_DELIVERIES_SELECT = `SELECT m.id AS message_id, m.control_id, m.format, d.channel, r.result_status, d.status, d.attempts, d.last_error,
    d.next_attempt_at, d.destination, m.created_at, d.updated_at
  FROM lis_deliveries AS d JOIN lis_messages AS m ON m.id = d.message_id JOIN lis_results AS r ON r.id = m.result_id
  WHERE m.case_id = @caseId ORDER BY m.id DESC, d.channel`;

export function listCaseLisDeliveries(db: MarrowDatabase, caseId: number): LisDeliveryView[] {
  return read(`Reading the LIS deliveries of case ${caseId}`, () =>
    (sql(db, CASE_DELIVERIES_SELECT).all({ caseId }) as DeliveryViewDbRow[]).map(deliveryViewOf),
  );
}

/** A delivery as the case's LIS panel shows it. Both engines. */
export function deliveryViewOf(r: DeliveryViewDbRow): LisDeliveryView {
  return {
    messageId: r.message_id,
    controlId: r.control_id,
    format: r.format,
    channel: r.channel,
    resultStatus: r.result_status,
    status: viewStatus(r.status),
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at,
    destination: r.destination,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function countUnbuiltLisResults(db: MarrowDatabase, caseId: number): number {
  return read(
    `Reading the LIS results of case ${caseId}`,
    () => (sql(db, 'SELECT count(*) AS n FROM lis_results WHERE case_id = ? AND built_at IS NULL').get(caseId) as { n: number }).n,
  );
}

/** The build error of the case's unbuilt results, if any (shown in the status so a person sees why nothing went). */
export function unbuiltLisResultErrors(db: MarrowDatabase, caseId: number): string[] {
  return read(`Reading the LIS results of case ${caseId}`, () =>
    (
      sql(db, 'SELECT build_error FROM lis_results WHERE case_id = ? AND built_at IS NULL AND build_error IS NOT NULL ORDER BY id').all(caseId) as {
        build_error: string;
      }[]
    ).map((r) => r.build_error),
  );
}
