import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listCaseLisDeliveries, saveLisSettings } from '../../../src/main/db';
import { LisDelivery, type LisDeliveryOptions } from '../../../src/main/lis/delivery';
import { startMllpTestServer, type MllpTestServer } from '../../helpers/mllp-test-server';
import { openTemp } from '../db/helpers';
import { deliveryStates, lisSettingsFor, queueMessages } from './helpers';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

let server: MllpTestServer;

beforeEach(async () => {
  server = await startMllpTestServer();
});
afterEach(async () => {
  await server.close();
});

function setUp(count: number, options: Partial<LisDeliveryOptions> = {}) {
  const { db, dir } = openTemp();
  const outbox = join(dir, 'outbox');
  const controlIds = queueMessages(db, count, lisSettingsFor(server.port, outbox));
  const delivery = new LisDelivery(sqliteStore(db), {
    defaultOutboxDir: join(dir, 'unused'),
    connectTimeoutMs: 2000,
    ackTimeoutMs: 2000,
    retryDelayMs: () => 0,
    ...options,
  });
  return { db, outbox, controlIds, delivery };
}

describe('delivery to the outbox folder', () => {
  it('writes each message once, under its control id, exactly as stored, with no partial file left', async () => {
    const { db, outbox, controlIds, delivery } = setUp(3);
    await delivery.runOnce();
    expect(readdirSync(outbox).sort()).toEqual(controlIds.map((id) => `${id}.hl7`));
    const stored = db.raw.prepare('SELECT control_id, payload FROM lis_messages').all() as { control_id: string; payload: string }[];
    for (const { control_id, payload } of stored) expect(readFileSync(join(outbox, `${control_id}.hl7`), 'utf8')).toBe(payload);
    expect([...deliveryStates(db, 'outbox').values()].map((s) => s.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it('keeps a message queued with the reason when the folder cannot be written, and writes it once it can', async () => {
    const { db, dir } = openTemp();
    const blocked = join(dir, 'not-a-folder');
    writeFileSync(blocked, 'a file where the outbox folder should be');
    queueMessages(db, 1, lisSettingsFor(null, blocked));
    const delivery = new LisDelivery(sqliteStore(db), { defaultOutboxDir: dir, retryDelayMs: () => 0 });
    await delivery.runOnce();
    const [state] = [...deliveryStates(db, 'outbox').values()];
    expect(state!.status).toBe('queued');
    expect(state!.lastError).toContain(blocked);
    saveLisSettings(db, lisSettingsFor(null, join(dir, 'outbox')), 'test');
    await delivery.runOnce();
    expect([...deliveryStates(db, 'outbox').values()][0]!.status).toBe('sent');
    expect(existsSync(join(dir, 'outbox'))).toBe(true);
  });
});

describe('delivery over MLLP', () => {
  it('sends every message in queue order and records each ACK', async () => {
    const { db, controlIds, delivery } = setUp(4);
    await delivery.runOnce();
    expect(server.receipts).toEqual(controlIds);
    expect([...deliveryStates(db, 'mllp').values()].map((s) => [s.status, s.attempts])).toEqual(controlIds.map(() => ['acknowledged', 1]));
    // What the LIS received is the stored text, byte for byte.
    const stored = db.raw.prepare('SELECT payload FROM lis_messages ORDER BY id').pluck().all() as string[];
    expect(controlIds.map((id) => server.messages.get(id))).toEqual(stored);
  });

  it('records a NAK as an error with the LIS’s reason and does not send that message again', async () => {
    const { db, controlIds, delivery } = setUp(2);
    server.behave((id) => (id === controlIds[0] ? { kind: 'nak', code: 'AE', reason: 'Unknown patient MRN|42 ^ not in PAS' } : { kind: 'ack' }));
    await delivery.runOnce();
    await delivery.runOnce();
    const states = deliveryStates(db, 'mllp');
    expect(states.get(controlIds[0]!)).toMatchObject({ status: 'error', attempts: 1 });
    expect(states.get(controlIds[0]!)!.lastError).toBe('The LIS reported an error for the message (AE): Unknown patient MRN|42 ^ not in PAS');
    // An error is final for that message only: the next one still goes.
    expect(states.get(controlIds[1]!)!.status).toBe('acknowledged');
    expect(server.receipts).toEqual(controlIds);
    // The case view shows it as an error with the reason.
    const caseId = db.raw.prepare('SELECT case_id FROM lis_messages LIMIT 1').pluck().get() as number;
    const view = listCaseLisDeliveries(db, caseId).find((d) => d.controlId === controlIds[0] && d.channel === 'mllp')!;
    expect(view).toMatchObject({ status: 'error', lastError: expect.stringContaining('Unknown patient') });
  });

  it('calls an AR a rejection', async () => {
    const { db, controlIds, delivery } = setUp(1);
    server.behave(() => ({ kind: 'nak', code: 'AR', reason: 'Processing id P not accepted' }));
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)!.lastError).toBe('The LIS rejected the message (AR): Processing id P not accepted');
  });

  it('retries a dropped connection with the same control id, and holds later messages back until it goes', async () => {
    const { db, controlIds, delivery } = setUp(3);
    server.behave((_id, receipt) => (receipt === 1 ? { kind: 'drop' } : { kind: 'ack' }));
    await delivery.runOnce();
    let states = deliveryStates(db, 'mllp');
    expect(states.get(controlIds[0]!)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(states.get(controlIds[0]!)!.lastError).toMatch(/closed the connection before acknowledging/);
    // In order: nothing after the first message was sent while it waited for its retry.
    expect(server.receipts).toEqual([controlIds[0]]);
    await delivery.runOnce();
    states = deliveryStates(db, 'mllp');
    expect([...states.values()].map((s) => s.status)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    expect(server.receipts).toEqual([controlIds[0], ...controlIds]);
    expect(server.distinct()).toEqual(controlIds);
  });

  it('treats an ACK slower than the timeout as a failed attempt and resends', async () => {
    const { db, controlIds, delivery } = setUp(1, { ackTimeoutMs: 150 });
    server.behave((_id, receipt) => (receipt === 1 ? { kind: 'slow', delayMs: 600 } : { kind: 'ack' }));
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)!.lastError).toMatch(/did not acknowledge the message in time/);
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)).toMatchObject({ status: 'acknowledged', attempts: 2 });
  });

  it('accepts a slow ACK that arrives within the timeout', async () => {
    const { db, controlIds, delivery } = setUp(1, { ackTimeoutMs: 2000 });
    server.behave(() => ({ kind: 'slow', delayMs: 300 }));
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)).toMatchObject({ status: 'acknowledged', attempts: 1 });
  });

  it('retries an answer that is not an ACK', async () => {
    const { db, controlIds, delivery } = setUp(1);
    server.behave((_id, receipt) => (receipt === 1 ? { kind: 'garbage' } : { kind: 'ack' }));
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)!.lastError).toMatch(/not an HL7 ACK/);
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)!.status).toBe('acknowledged');
  });

  it('waits out the backoff before the next attempt', async () => {
    let now = new Date('2026-12-04T12:00:00.000Z');
    const { db, controlIds, delivery } = setUp(1, { retryDelayMs: (n) => n * 60_000, now: () => now });
    server.behave((_id, receipt) => (receipt === 1 ? { kind: 'drop' } : { kind: 'ack' }));
    await delivery.runOnce();
    expect(db.raw.prepare('SELECT next_attempt_at FROM lis_deliveries WHERE channel = ?').pluck().get('mllp')).toBe('2026-12-04T12:01:00.000Z');
    now = new Date('2026-12-04T12:00:59.000Z');
    await delivery.runOnce();
    expect(server.receipts).toHaveLength(1);
    now = new Date('2026-12-04T12:01:00.000Z');
    await delivery.runOnce();
    expect(server.receipts).toHaveLength(2);
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)!.status).toBe('acknowledged');
  });

  it('gives up after the last attempt and says so, leaving the message for a person to resend', async () => {
    const { db, controlIds, delivery } = setUp(1, { maxAttempts: 3 });
    server.behave(() => ({ kind: 'drop' }));
    for (let i = 0; i < 4; i++) await delivery.runOnce();
    const state = deliveryStates(db, 'mllp').get(controlIds[0]!)!;
    expect(state).toMatchObject({ status: 'error', attempts: 3 });
    expect(state.lastError).toMatch(/Gave up after 3 attempts/);
    expect(server.receipts).toHaveLength(3);
  });

  it('keeps messages queued while the LIS is down and sends them when it is back', async () => {
    const { db, controlIds, delivery } = setUp(2);
    await server.close();
    await delivery.runOnce();
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(deliveryStates(db, 'mllp').get(controlIds[0]!)!.lastError).toMatch(/Could not send to the LIS at 127\.0\.0\.1/);
    server = await startMllpTestServer();
    saveLisSettings(db, { ...lisSettingsFor(server.port, join(db.path, '..', 'outbox')) }, 'test');
    await delivery.runOnce();
    expect(server.receipts).toEqual(controlIds);
  });
});
