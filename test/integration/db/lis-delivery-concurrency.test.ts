// Several lab servers delivering one PostgreSQL queue at once (issue 22): each message must go out exactly once, in
// queue order, on both channels. Three pools stand for three servers; each loops claim → (MLLP: commit 'sending',
// "send", ACK | outbox: write the file inside its claim) with seeded random pauses, over several rounds of new
// messages. The database starts from `db copy` of a SQLite file holding a signed case, as a lab moving to a server
// would. A second test races two servers that claim outside a transaction: the compare-and-set lets one through. A
// third runs the delivery loop itself (lis/delivery.ts) on three servers' stores against a LIS on loopback.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase, recordLisResult, signCase } from '../../../src/main/db';
import { copySqliteToPostgres } from '../../../src/main/db/copy-to-postgres';
import { closePostgresDatabase, openPostgresDatabase, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgLisRepository } from '../../../src/main/db/postgres/lis';
import { postgresStore } from '../../../src/main/db/postgres/store';
import { LisDelivery } from '../../../src/main/lis/delivery';
import type { LisChannel } from '../../../src/shared/lis';
import { startMllpTestServer } from '../../helpers/mllp-test-server';
import { Rng } from '../../helpers/seeded-random';
import { usePostgres } from './engines';
import { caseInReview, tempDir } from './helpers';

const pgSetup = usePostgres();
const pools: PostgresDatabase[] = [];
afterEach(async () => {
  for (const db of pools.splice(0)) await closePostgresDatabase(db);
});

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** A PostgreSQL database copied from a SQLite file with one signed case and its (unbuilt) LIS result. */
async function seededQueue(): Promise<{ url: string; resultId: number }> {
  const path = join(tempDir(), 'seed.sqlite');
  const db = openDatabase(path);
  const { caseId } = caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }]);
  const { signOff } = signCase(db, { caseId, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{}' });
  const result = recordLisResult(db, { caseId, signOffId: signOff.id });
  closeDatabase(db);
  const url = await pgSetup.freshUrl();
  await copySqliteToPostgres(path, url);
  return { url, resultId: result.id };
}

async function server(url: string): Promise<PostgresDatabase> {
  const db = await openPostgresDatabase(url, { maxConnections: 3 });
  pools.push(db);
  return db;
}

/** One server's delivery loop for a channel until the queue is empty; records each control id as it goes on the wire. */
async function deliver(db: PostgresDatabase, name: string, channel: LisChannel, rng: Rng, wire: string[]): Promise<void> {
  // Through the Store, as the delivery loop will claim: one transaction, the repositories nested in it.
  const store = postgresStore(db);
  for (;;) {
    const claimed = await store.transaction(async ({ lis: tx }) => {
      const delivery = await tx.nextOpenDelivery(channel);
      if (delivery === null) return null;
      if (channel === 'mllp') {
        await tx.markDeliverySending(delivery.id, name);
      } else {
        // The outbox file is written while the claim holds the row, then marked sent in the same transaction.
        wire.push(delivery.controlId);
        await sleep(rng.int(3));
        await tx.markDeliverySent(delivery.id, `${name}/${delivery.controlId}.hl7`);
      }
      return delivery;
    });
    if (claimed === null) {
      const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*) AS n FROM lis_deliveries WHERE channel = $1 AND status IN ('queued', 'sending')`, [
        channel,
      ]);
      if (rows[0]!.n === 0) return;
      await sleep(rng.int(4));
      continue;
    }
    if (channel === 'mllp') {
      // 'sending' is committed: now the bytes go out, then the ACK comes back.
      wire.push(claimed.controlId);
      await sleep(rng.int(3));
      await store.lis.markDeliveryAcknowledged(claimed.id, 'AA');
    }
  }
}

describe.skipIf(pgSetup.unavailable !== null)('LIS delivery from several servers on one PostgreSQL database', () => {
  it('sends every message exactly once and in order, over rounds of new messages (seeded)', async () => {
    const { url, resultId } = await seededQueue();
    const servers = [await server(url), await server(url), await server(url)];
    const repo = pgLisRepository({ db: servers[0]!, client: null });
    const rounds = 5;
    const perRound = 12;
    for (let round = 0; round < rounds; round++) {
      const controlIds = Array.from({ length: perRound }, (_, i) => `R${round}-${String(i).padStart(2, '0')}`);
      await repo.storeLisMessages({
        resultId,
        resend: round > 0,
        actor: 'system',
        messages: controlIds.map((controlId) => ({
          format: 'hl7v2' as const,
          controlId,
          payload: `MSH|${controlId}`,
          channels: ['outbox' as const, 'mllp' as const],
        })),
      });
      const wire: Record<LisChannel, string[]> = { mllp: [], outbox: [] };
      await Promise.all(
        servers.flatMap((db, s) =>
          (['mllp', 'outbox'] as const).map((channel) =>
            deliver(db, `server-${s}`, channel, new Rng(1000 * round + 10 * s + (channel === 'mllp' ? 1 : 2)), wire[channel]),
          ),
        ),
      );
      expect({ round, mllp: wire.mllp }).toEqual({ round, mllp: controlIds });
      expect({ round, outbox: wire.outbox }).toEqual({ round, outbox: controlIds });
    }
    const { rows } = await servers[0]!.pool.query<{ status: string; attempts: number; n: number }>(
      'SELECT status, attempts, count(*) AS n FROM lis_deliveries GROUP BY status, attempts ORDER BY status',
    );
    // Every delivery delivered with one attempt: no message was claimed twice.
    expect(rows).toEqual([
      { status: 'acknowledged', attempts: 1, n: rounds * perRound },
      { status: 'sent', attempts: 1, n: rounds * perRound },
    ]);
  });

  it('lets one of two servers that claimed the same head outside a transaction send it; the other is refused', async () => {
    const { url, resultId } = await seededQueue();
    const [a, b] = [await server(url), await server(url)];
    const repoA = pgLisRepository({ db: a, client: null });
    const repoB = pgLisRepository({ db: b, client: null });
    await repoA.storeLisMessages({
      resultId,
      resend: false,
      actor: 'system',
      messages: Array.from({ length: 8 }, (_, i) => ({ format: 'hl7v2' as const, controlId: `X-${i}`, payload: 'MSH|x', channels: ['mllp' as const] })),
    });
    for (let i = 0; i < 8; i++) {
      // Each read commits at once (no claiming transaction), so both see the same head as claimable.
      const headA = await repoA.nextOpenDelivery('mllp');
      const headB = await repoB.nextOpenDelivery('mllp');
      expect(headA?.controlId).toBe(`X-${i}`);
      expect(headB?.controlId).toBe(`X-${i}`);
      const outcomes = await Promise.allSettled([repoA.markDeliverySending(headA!.id, 'a'), repoB.markDeliverySending(headB!.id, 'b')]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ kind: 'locked', message: expect.stringContaining('being sent by another station') });
      await repoA.markDeliveryAcknowledged(headA!.id, 'AA');
    }
    expect(await repoA.nextOpenDelivery('mllp')).toBeNull();
  });

  it('runs the delivery loop on three servers at once: the LIS receives each message once, in order, and the outbox holds each file once', async () => {
    const { url, resultId } = await seededQueue();
    const lis = await startMllpTestServer();
    const outbox = join(tempDir(), 'outbox');
    mkdirSync(outbox);
    try {
      const stores = [await server(url), await server(url), await server(url)].map(postgresStore);
      const repo = stores[0]!.lis;
      await repo.saveLisSettings({ ...(await repo.getLisSettings()), enabled: true, outboxFolder: outbox, mllpHost: '127.0.0.1', mllpPort: lis.port }, 'IT');
      const rounds = 4;
      const perRound = 10;
      const sent: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const controlIds = Array.from({ length: perRound }, (_, i) => `L${round}-${String(i).padStart(2, '0')}`);
        sent.push(...controlIds);
        await repo.storeLisMessages({
          resultId,
          resend: round > 0,
          actor: 'system',
          messages: controlIds.map((controlId) => ({
            format: 'hl7v2' as const,
            controlId,
            payload: `MSH|^~\\&|MARROWCOUNT|HAEM|LIS|LAB|20261205000000+0000||ORU^R01^ORU_R01|${controlId}|P|2.5.1\r`,
            channels: ['outbox' as const, 'mllp' as const],
          })),
        });
        // Three servers' loops at once, each its own rounds, until the queue is empty.
        const loops = stores.map((store) => new LisDelivery(store, { defaultOutboxDir: outbox, retryDelayMs: () => 0 }));
        await Promise.all(
          loops.map(async (loop) => {
            for (let i = 0; i < 4; i++) await loop.runOnce();
          }),
        );
      }
      expect(lis.receipts).toEqual(sent);
      expect(readdirSync(outbox).sort()).toEqual(sent.map((id) => `${id}.hl7`).sort());
      const { rows } = await pools[0]!.pool.query<{ status: string; attempts: number; n: number }>(
        'SELECT status, attempts, count(*) AS n FROM lis_deliveries GROUP BY status, attempts ORDER BY status',
      );
      expect(rows).toEqual([
        { status: 'acknowledged', attempts: 1, n: rounds * perRound },
        { status: 'sent', attempts: 1, n: rounds * perRound },
      ]);
    } finally {
      await lis.close();
    }
  });
});
