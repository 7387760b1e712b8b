// The LIS repository (LisRepository of contract.ts) on both engines: SQLite through sqliteStore over db/lis.ts,
// PostgreSQL through db/postgres/lis.ts. Each test's database starts from the same SQLite file written by the real
// synchronous functions (a case signed, amended and signed again), used as it is on SQLite and moved to PostgreSQL
// with `db copy`. Then the same calls must give the same results, refusals and audit rows on both; where the engines
// differ on purpose (a fresh 'sending' on PostgreSQL belongs to another station) the test says so.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIS_SETTINGS, type LisSettings } from '../../../src/shared/lis';
import { amendCase, closeDatabase, openDatabase, signCase, type DatabaseError } from '../../../src/main/db';
import type { AuditRepository, LisRepository } from '../../../src/main/db/contract';
import { copySqliteToPostgres } from '../../../src/main/db/copy-to-postgres';
import { pgAuditRepository } from '../../../src/main/db/postgres/audit';
import { closePostgresDatabase, openPostgresDatabase, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgLisRepository, SENDING_LEASE_MS } from '../../../src/main/db/postgres/lis';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { ENGINES, usePostgres, type EngineName } from './engines';
import { caseInReview, tempDir, track } from './helpers';

const pgSetup = usePostgres();
const pgDatabases: PostgresDatabase[] = [];
afterEach(async () => {
  for (const db of pgDatabases.splice(0)) await closePostgresDatabase(db);
});

interface Seed {
  caseId: number;
  firstSignOffId: number;
  secondSignOffId: number;
}

/** A case signed, amended and signed again, written by the synchronous functions into a new SQLite file. */
function writeSeed(path: string): Seed {
  const db = openDatabase(path);
  try {
    const { caseId } = caseInReview(db, [
      { predicted: 'BLA', confidence: 0.9 },
      { predicted: 'LYT', confidence: 0.8 },
    ]);
    const first = signCase(db, { caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
    amendCase(db, { caseId, by: 'Dr Ada', reason: 'count corrected' });
    const second = signCase(db, { caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{"v":2}' });
    return { caseId, firstSignOffId: first.signOff.id, secondSignOffId: second.signOff.id };
  } finally {
    closeDatabase(db);
  }
}

interface Engine {
  seed: Seed;
  lis: LisRepository;
  audit: AuditRepository;
  /** Raw SQL for what the repository cannot do (ageing a 'sending' mark); `?` placeholders. */
  exec(sql: string, params?: unknown[]): Promise<void>;
}

async function lisEngine(name: EngineName, seedPath?: string): Promise<Engine & { url?: string }> {
  const path = seedPath ?? join(tempDir(), 'seed.sqlite');
  const seed = writeSeed(path);
  if (name === 'sqlite') {
    const db = track(openDatabase(path));
    const store = sqliteStore(db);
    return {
      seed,
      lis: store.lis,
      audit: store.audit,
      exec: async (sql, params = []) => {
        db.raw.prepare(sql).run(...params);
      },
    };
  }
  const url = await pgSetup.freshUrl();
  await copySqliteToPostgres(path, url);
  const db = await openPostgresDatabase(url);
  pgDatabases.push(db);
  const scope = { db, client: null };
  return {
    seed,
    url,
    lis: pgLisRepository(scope),
    audit: pgAuditRepository(scope),
    exec: async (sql, params = []) => {
      let n = 0;
      await db.pool.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    },
  };
}

const SETTINGS: LisSettings = { ...DEFAULT_LIS_SETTINGS, enabled: true, outboxFolder: '/lis/out', mllpHost: '10.0.0.5', mllpPort: 2575, codeMapping: [] };

async function refusal(p: Promise<unknown>): Promise<DatabaseError> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: DatabaseError) => e,
  );
}

describe.each(ENGINES)('LIS repository on %s', (engineName) => {
  describe.skipIf(engineName === 'postgres' && pgSetup.unavailable !== null)('through the contract', () => {
    it('reads the defaults, saves settings once per change and records what changed', async () => {
      const { lis, audit } = await lisEngine(engineName);
      expect(await lis.getLisSettings()).toEqual({ ...DEFAULT_LIS_SETTINGS, codeMapping: [] });
      await lis.saveLisSettings(SETTINGS, 'admin');
      expect(await lis.saveLisSettings(SETTINGS, 'admin')).toEqual(SETTINGS);
      await lis.saveLisSettings({ ...SETTINGS, mllpPort: 2576 }, 'bo');
      const log = (await audit.listAuditLog()).filter((e) => e.action === 'lis_settings_changed');
      expect(log.map((e) => [e.actor, e.detail])).toEqual([
        ['bo', { mllpPort: { from: 2575, to: 2576 } }],
        ['admin', expect.objectContaining({ enabled: { from: false, to: true }, mllpHost: { from: '', to: '10.0.0.5' } })],
      ]);
      expect((await lis.getLisSettings()).mllpPort).toBe(2576);
    });

    it('queues F then C results, records a build error once, and builds each result once', async () => {
      const { lis, audit, seed } = await lisEngine(engineName);
      const first = await lis.recordLisResult({ caseId: seed.caseId, signOffId: seed.firstSignOffId });
      const second = await lis.recordLisResult({ caseId: seed.caseId, signOffId: seed.secondSignOffId });
      expect([first.resultStatus, second.resultStatus]).toEqual(['F', 'C']);
      expect(await lis.findLisResultForSignOff(seed.secondSignOffId)).toEqual(second);
      expect(await lis.findLisResultForSignOff(999)).toBeNull();
      expect((await refusal(lis.recordLisResult({ caseId: seed.caseId, signOffId: seed.firstSignOffId }))).kind).toBe('duplicate');

      await lis.recordLisBuildError(first.id, 'no code mapping for BLA');
      await lis.recordLisBuildError(first.id, 'no code mapping for BLA');
      await lis.recordLisBuildError(second.id, '');
      expect(await lis.unbuiltLisResultErrors(seed.caseId)).toEqual(['no code mapping for BLA', 'unknown error']);
      expect(await lis.countUnbuiltLisResults(seed.caseId)).toBe(2);
      expect((await lis.listUnbuiltLisResults()).map((r) => r.id)).toEqual([first.id, second.id]);

      const ids = await lis.storeLisMessages({
        resultId: first.id,
        resend: false,
        actor: 'system',
        messages: [
          { format: 'hl7v2', controlId: 'C-1', payload: 'MSH|1', channels: ['outbox', 'mllp'] },
          { format: 'fhir-r4', controlId: 'C-2', payload: '{}', channels: ['outbox'] },
        ],
      });
      expect(ids).toHaveLength(2);
      expect(await lis.countUnbuiltLisResults(seed.caseId)).toBe(1);
      expect(await lis.unbuiltLisResultErrors(seed.caseId)).toEqual(['unknown error']);
      // A second first build (two builders racing) is refused; a resend is a new message, audited.
      const again = await refusal(lis.storeLisMessages({ resultId: first.id, resend: false, actor: 'system', messages: [] }));
      expect([again.kind, again.message]).toEqual(['duplicate', `The messages of LIS result ${first.id} are already queued.`]);
      await lis.storeLisMessages({
        resultId: first.id,
        resend: true,
        actor: 'Dr Ada',
        messages: [{ format: 'hl7v2', controlId: 'C-3', payload: 'MSH|3', channels: ['mllp'] }],
      });
      const resend = (await audit.caseAuditLog(seed.caseId)).filter((e) => e.action === 'lis_resend_requested');
      expect(resend.map((e) => [e.actor, e.detail])).toEqual([['Dr Ada', { resultId: first.id, controlIds: ['C-3'] }]]);
      expect((await refusal(lis.storeLisMessages({ resultId: 999, resend: false, actor: 'x', messages: [] }))).kind).toBe('not_found');
      // A control id is used once; a FHIR message never goes over MLLP. Both refusals leave nothing behind.
      const reused = await refusal(
        lis.storeLisMessages({
          resultId: second.id,
          resend: false,
          actor: 'x',
          messages: [{ format: 'hl7v2', controlId: 'C-1', payload: 'x', channels: ['outbox'] }],
        }),
      );
      expect(reused.kind).toBe('duplicate');
      const fhirOverMllp = await refusal(
        lis.storeLisMessages({
          resultId: second.id,
          resend: false,
          actor: 'x',
          messages: [{ format: 'fhir-r4', controlId: 'C-9', payload: '{}', channels: ['mllp'] }],
        }),
      );
      expect([fhirOverMllp.kind, fhirOverMllp.message]).toEqual(['constraint', expect.stringContaining('only HL7 v2 messages are sent over MLLP')]);
      expect(await lis.countUnbuiltLisResults(seed.caseId)).toBe(1);
    });

    it('walks the delivery states in order: sending, acknowledged, retry, error, deferral; a delivered row stays delivered', async () => {
      const { lis, seed, exec } = await lisEngine(engineName);
      const result = await lis.recordLisResult({ caseId: seed.caseId, signOffId: seed.firstSignOffId });
      await lis.storeLisMessages({
        resultId: result.id,
        resend: false,
        actor: 'system',
        messages: ['M-1', 'M-2', 'M-3'].map((controlId) => ({ format: 'hl7v2' as const, controlId, payload: `MSH|${controlId}`, channels: ['mllp' as const] })),
      });
      const head = (await lis.nextOpenDelivery('mllp'))!;
      expect([head.controlId, head.status, head.attempts, head.payload, head.caseId]).toEqual(['M-1', 'queued', 0, 'MSH|M-1', seed.caseId]);
      expect(await lis.nextOpenDelivery('outbox')).toBeNull();
      await lis.markDeliverySending(head.id, '10.0.0.5:2575');
      if (engineName === 'sqlite') {
        // One delivery loop per SQLite database: a 'sending' row found is an interrupted send, handed out again.
        expect((await lis.nextOpenDelivery('mllp'))!.controlId).toBe('M-1');
      } else {
        // PostgreSQL: a fresh 'sending' is another station's send in flight; the queue waits behind it, in order,
        // and the delivery cannot be claimed again (a server that claimed outside a transaction is refused).
        expect(await lis.nextOpenDelivery('mllp')).toBeNull();
        const taken = await refusal(lis.markDeliverySending(head.id, 'other:2575'));
        expect([taken.kind, taken.message]).toEqual(['locked', `LIS delivery ${head.id} is being sent by another station; it was not sent again.`]);
        // The sender died: once its lease ran out the message is handed out again, with the same control id.
        await exec('UPDATE lis_deliveries SET updated_at = ? WHERE id = ?', [new Date(Date.now() - SENDING_LEASE_MS - 1000).toISOString(), head.id]);
        const again = (await lis.nextOpenDelivery('mllp'))!;
        expect([again.controlId, again.status, again.attempts]).toEqual(['M-1', 'sending', 1]);
        await lis.markDeliverySending(head.id, '10.0.0.5:2575');
      }
      await lis.markDeliveryAcknowledged(head.id, 'AA');
      const acknowledged = await refusal(lis.markDeliveryFailed(head.id, { error: 'late', retryAt: null }));
      expect([acknowledged.kind, acknowledged.message]).toEqual(['constraint', expect.stringContaining('a delivered message stays delivered')]);

      const second = (await lis.nextOpenDelivery('mllp'))!;
      expect(second.controlId).toBe('M-2');
      await lis.markDeliverySending(second.id, '10.0.0.5:2575');
      await lis.markDeliveryFailed(second.id, { error: 'connection refused', retryAt: '2030-01-01T00:00:00.000Z' });
      // Waiting for its retry, it still holds the head: M-3 must not overtake it.
      const waiting = (await lis.nextOpenDelivery('mllp'))!;
      expect([waiting.controlId, waiting.status, waiting.nextAttemptAt]).toEqual(['M-2', 'queued', '2030-01-01T00:00:00.000Z']);
      await lis.deferDelivery(second.id, 'no receiver configured', '2030-01-02T00:00:00.000Z');
      await lis.markDeliverySending(second.id, '10.0.0.5:2575');
      await lis.markDeliveryFailed(second.id, { error: 'AR: unknown patient', retryAt: null, ackCode: 'AR' });
      const third = (await lis.nextOpenDelivery('mllp'))!;
      expect(third.controlId).toBe('M-3');
      await lis.markDeliverySending(third.id, '10.0.0.5:2575');

      const views = await lis.listCaseLisDeliveries(seed.caseId);
      expect(views.map((v) => [v.controlId, v.channel, v.status, v.attempts, v.lastError, v.resultStatus, v.destination])).toEqual([
        ['M-3', 'mllp', 'sent', 1, null, 'F', '10.0.0.5:2575'],
        ['M-2', 'mllp', 'error', 2, 'AR: unknown patient', 'F', '10.0.0.5:2575'],
        ['M-1', 'mllp', 'acknowledged', engineName === 'sqlite' ? 1 : 2, null, 'F', '10.0.0.5:2575'],
      ]);
      expect((await refusal(lis.markDeliveryAcknowledged(999, 'AA'))).kind).toBe('not_found');
      expect((await refusal(lis.deferDelivery(999, 'x', '2030-01-01T00:00:00.000Z'))).kind).toBe('not_found');
    });

    it('writes an outbox delivery as sent once', async () => {
      const { lis, seed } = await lisEngine(engineName);
      const result = await lis.recordLisResult({ caseId: seed.caseId, signOffId: seed.firstSignOffId });
      await lis.storeLisMessages({
        resultId: result.id,
        resend: false,
        actor: 'system',
        messages: [{ format: 'fhir-r4', controlId: 'F-1', payload: '{}', channels: ['outbox'] }],
      });
      const file = (await lis.nextOpenDelivery('outbox'))!;
      await lis.markDeliverySent(file.id, '/lis/out/F-1.fhir.json');
      expect(await lis.nextOpenDelivery('outbox')).toBeNull();
      const view = (await lis.listCaseLisDeliveries(seed.caseId))[0]!;
      expect([view.status, view.attempts, view.destination]).toEqual(['sent', 1, '/lis/out/F-1.fhir.json']);
    });
  });
});
