// kill -9 of the sending process, at the two worst moments: after a message reached the LIS but before its ACK
// came back, and right after the LIS sent its ACK (which the dying process may or may not have recorded). After a
// restart every message must reach the LIS, each under one control id, in queue order; a message is repeated only
// if it was the one in flight at a kill, and the repeat carries the same control id, so a LIS that discards an
// MSH-10 it has seen processes every message exactly once. On a SQLite file and on a PostgreSQL database: the sender
// (delivery-child.ts) is a separate process that opens the store by location. On PostgreSQL several servers may
// share the queue, so a committed 'sending' belongs to its sender for SENDING_LEASE_MS (postgres/lis.ts): the restarted
// sender cannot tell its dead self from another live station and leaves the message alone until the lease runs out.
// The test checks that hold, then moves the row's time past the lease (as five minutes of waiting would) before
// restarting; from there the end state must be SQLite's.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabase } from '../../../src/main/db';
import { SENDING_LEASE_MS } from '../../../src/main/db/postgres/lis';
import { openStore } from '../../../src/main/db/store';
import { startMllpTestServer, type MllpTestServer } from '../../helpers/mllp-test-server';
import { ENGINES, usePostgres } from '../db/engines';
import { openTemp, tempDir } from '../db/helpers';
import { openRawSql, type RawSql } from '../db/raw-sql';
import { DELIVERY_STATES_SQL, lisSettingsFor, queueMessagesIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const MESSAGES = 30;

const pgSetup = usePostgres();

let server: MllpTestServer | undefined;
let raw: RawSql | undefined;
afterEach(async () => {
  await server?.close();
  await raw?.close();
  raw = undefined;
});

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }>;
}

function startChild(dbPath: string, outbox: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'delivery-child.ts'), dbPath, outbox], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter((l) => l !== '')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolvePromise({ code, signal, lines, stderr }));
  });
  return { child, exited };
}

describe.each(ENGINES)('a sender killed with SIGKILL while sending over MLLP on %s', (engine) => {
  it.skipIf(engine === 'postgres' && pgSetup.unavailable !== null)(
    'leaves every message sent exactly once (by control id) or still queued, and a restart finishes the queue',
    async () => {
      server = await startMllpTestServer();
      let path: string;
      if (engine === 'sqlite') {
        const { db, path: file } = openTemp();
        closeDatabase(db);
        path = file;
      } else {
        path = await pgSetup.freshUrl();
      }
      const outbox = join(tempDir(), 'outbox');
      const setup = await openStore(path);
      const controlIds = await queueMessagesIn(setup, MESSAGES, lisSettingsFor(server.port, outbox));
      await setup.close();
      raw = openRawSql(path);
      const acked = new Set<string>();

      // Run 1: the 10th message reaches the LIS, which keeps its ACK; the sender dies waiting for it.
      let run = startChild(path, outbox);
      const first = run;
      server.behave((id, receipt) => {
        if (receipt === 10) {
          first.child.kill('SIGKILL');
          return { kind: 'silent' };
        }
        acked.add(id);
        return { kind: 'ack' };
      });
      let exit = await run.exited;
      expect(exit.signal).toBe('SIGKILL');
      const inFlight1 = controlIds[9]!;
      expect(server.receipts).toEqual(controlIds.slice(0, 10));
      await checkConsistent(controlIds, acked);
      expect((await states()).get(inFlight1)!.status).toBe('sending');
      if (engine === 'postgres') {
        // Within the lease nobody, the restarted sender included, is handed the message in flight, nor one behind it.
        expect(await (await raw.store()).lis.nextOpenDelivery('mllp')).toBeNull();
        await outliveLease();
      }

      // Run 2: the 8th message of this run is acknowledged and the sender killed the same instant.
      const before2 = server.receipts.length;
      run = startChild(path, outbox);
      const second = run;
      // The sender may still get the ACK, record it and send the next message before it dies: such a message gets no
      // ACK, so it too is in flight at the kill. The sender has one message in flight at a time, so one per kill.
      const inFlight2: string[] = [];
      server.behave((id, receipt) => {
        if (receipt > before2 + 8) {
          inFlight2.push(id);
          return { kind: 'silent' };
        }
        acked.add(id);
        if (receipt === before2 + 8) {
          inFlight2.push(id);
          setImmediate(() => second.child.kill('SIGKILL'));
        }
        return { kind: 'ack' };
      });
      exit = await run.exited;
      expect(exit.signal).toBe('SIGKILL');
      // The message left waiting for its ACK by the first kill went again, first, with its own control id.
      expect(server.receipts[before2]).toBe(inFlight1);
      await checkConsistent(controlIds, acked);

      if (engine === 'postgres') await outliveLease();

      // Run 3: to the end.
      server.behave((id) => {
        acked.add(id);
        return { kind: 'ack' };
      });
      exit = await startChild(path, outbox).exited;
      expect(exit.stderr).toBe('');
      expect(exit.code).toBe(0);
      expect(exit.lines.at(-1)).toBe('done');

      // Every message reached the LIS under its one control id, first receipts in queue order.
      expect(server.distinct()).toEqual(controlIds);
      const repeats = server.receipts.length - server.distinct().length;
      const repeated = [...new Set(server.receipts.filter((id, i) => server!.receipts.indexOf(id) !== i))];
      // At most the message in flight at each kill came twice (the second only if its ACK was lost with the process).
      expect(repeats).toBeGreaterThanOrEqual(1);
      expect(repeats).toBeLessThanOrEqual(2);
      for (const id of repeated) expect([inFlight1, ...inFlight2]).toContain(id);
      const final = await states();
      expect([...final.values()].every((s) => s.status === 'acknowledged')).toBe(true);
      // One outbox file per message, whatever the kills interrupted.
      expect(readdirSync(outbox).filter((f) => f.endsWith('.hl7'))).toHaveLength(MESSAGES);
      expect(readdirSync(outbox).filter((f) => f.endsWith('.partial'))).toEqual([]);
    },
    60_000,
  );
});

/** Dates every committed 'sending' back past PostgreSQL's sending lease, as if the restart came that much later. */
async function outliveLease(): Promise<void> {
  await raw!.sql(`UPDATE lis_deliveries SET updated_at = ? WHERE status = 'sending'`, [new Date(Date.now() - SENDING_LEASE_MS - 60_000).toISOString()]);
}

/** The MLLP delivery states by control id, read on a second connection (either engine). */
async function states(): Promise<Map<string, { status: string; attempts: number; lastError: string | null }>> {
  const rows = await raw!.sql<{ control_id: string; status: string; attempts: number; last_error: string | null }>(DELIVERY_STATES_SQL, ['mllp']);
  return new Map(rows.map((r) => [r.control_id, { status: r.status, attempts: r.attempts, lastError: r.last_error }]));
}

/** After a kill: nothing is recorded acknowledged that the LIS did not acknowledge; the rest is still to send. */
async function checkConsistent(controlIds: string[], acked: Set<string>): Promise<void> {
  const current = await states();
  expect([...current.keys()]).toEqual(controlIds);
  for (const [id, state] of current) {
    if (state.status === 'acknowledged') expect(acked.has(id), `${id} recorded acknowledged without an ACK`).toBe(true);
    else expect(['queued', 'sending'], id).toContain(state.status);
    if (!server!.receipts.includes(id)) expect(state.status, `${id} never sent`).toBe('queued');
  }
}
