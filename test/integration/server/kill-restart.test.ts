// kill -9 of the lab server in the middle of a review, and a restart on the same port: no decision a station was
// told was saved is lost (SQLite with synchronous=FULL, or PostgreSQL, commits before the answer), the stations go on
// with their sessions (sessions are in the database; the CSRF secret in the data folder), and each notices the outage
// and the reconnection. The server runs as its own process (the real `marrowcount server` entry under tsx) so that it
// can be killed for real. The same on both engines (issue 23): on PostgreSQL the killed server's connections die with
// it, and a transaction it had open is rolled back by the database, never half-stored.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import type { CellView } from '../../../src/shared/api';
import { Rng } from '../../helpers/seeded-random';
import { Station } from '../../helpers/station-client';
import { ENGINES, usePostgres } from '../db/engines';
import { REPO, TINY_MODEL, waitForAnalysis } from '../service/helpers';
import { PEOPLE, startTestServer, type Person, type ServerFixture } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

function startServerProcess(fx: ServerFixture, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'src/main/cli.ts'),
      'server',
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert',
      join(fx.root, 'tls', 'marrowcount-server.crt'),
      '--tls-key',
      join(fx.root, 'tls', 'marrowcount-server.key'),
      '--db',
      fx.databaseLocation,
      '--data',
      fx.dataDir,
      '--cases-root',
      fx.casesRoot,
      '--model',
      TINY_MODEL,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${output}`)), 60_000);
    const check = setInterval(() => {
      if (output.includes('listening on')) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${output}`));
    });
  });
}

const postgres = usePostgres();

describe.each(ENGINES)('kill -9 of the lab server mid-review on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && postgres.unavailable !== null)('with three stations', () => {
    let fx: ServerFixture;
    let caseId: number;
    let cells: CellView[];
    let child: ChildProcess | null = null;

    beforeAll(async () => {
      // The case is made and analysed by an in-process server on the same files, which then stops.
      fx = await startTestServer('kill', {}, engine === 'postgres' ? await postgres.freshUrl() : undefined);
      const tech = await fx.station('tech1');
      const created = await tech.api.createCase({
        patient: { labId: 'P-KILL' },
        accession: 'KILL-1',
        specimen: 'bone_marrow_aspirate',
        folder: fx.caseFolder('kill'),
      });
      await tech.api.startAnalysis(created.id);
      expect((await waitForAnalysis(tech.api, created.id)).phase).toBe('done');
      caseId = created.id;
      cells = (await tech.api.listCells({ caseId, scope: 'all', limit: 100 })).cells;
      await fx.server.close();
    }, 90_000);
    afterAll(async () => {
      child?.kill('SIGKILL');
      await fx?.dispose();
    });

    it('loses no decision a station was told was saved, and the stations reconnect with their sessions', async () => {
      const port = await freePort();
      let running = await startServerProcess(fx, port);
      child = running.child;
      const url = `https://127.0.0.1:${port}`;
      const people: Person[] = ['tech1', 'tech2', 'path1'];
      const stations = new Map<Person, Station>();
      for (const person of people) {
        const station = new Station(url, fx.tls.cert, person);
        await station.login(PEOPLE[person].login, PEOPLE[person].password);
        stations.set(person, station);
      }
      const labels: readonly CellClassCode[] = ['BLA', 'LYT', 'MON', 'EOS', 'NGS'];
      const confirmed: { person: Person; imageId: number; label: CellClassCode }[] = [];
      const inFlightAtKill: { person: Person; imageId: number; label: CellClassCode }[] = [];
      const said: string[] = [];
      let killed = false;
      let restarted = false;

      const review = async (person: Person, index: number) => {
        const rng = new Rng(77 + index);
        const station = stations.get(person)!;
        let lost = false;
        for (let n = 0; n < 2000; n++) {
          const cell = rng.pick(cells);
          const label = rng.pick(labels);
          try {
            const { result } = await station.call('reviewCell', [{ caseId, imageId: cell.imageId, label }]);
            if (!result.ok) throw new Error(`${person}: ${result.error.kind} ${result.error.message}`);
            confirmed.push({ person, imageId: cell.imageId, label });
            if (lost) {
              said.push(`${person}: reconnected to ${url}`);
              lost = false;
            }
          } catch (e) {
            if (e instanceof Error && e.message.startsWith(`${person}:`)) throw e;
            // The connection broke: the outcome of this one call is unknown; the station says so and retries.
            if (!lost) said.push(`${person}: lost the connection to ${url}; retrying`);
            if (!restarted) inFlightAtKill.push({ person, imageId: cell.imageId, label });
            lost = true;
            await sleep(100);
          }
          // Done once the station has saved decisions again after the restart.
          if (restarted && !lost && said.includes(`${person}: reconnected to ${url}`)) return;
        }
        throw new Error(`${person} never reconnected`);
      };

      const work = Promise.all(people.map((p, i) => review(p, i)));
      while (confirmed.length < 30) await sleep(5);
      running.child.kill('SIGKILL');
      killed = true;
      await new Promise((r) => running.child.once('exit', r));
      const beforeRestart = confirmed.length;
      running = await startServerProcess(fx, port);
      child = running.child;
      restarted = true;
      await work;
      expect(killed).toBe(true);
      expect(confirmed.length).toBeGreaterThan(beforeRestart);

      for (const person of people) {
        expect(said).toContain(`${person}: lost the connection to ${url}; retrying`);
        expect(said).toContain(`${person}: reconnected to ${url}`);
        // The same session goes on: no new login was needed.
        expect((await stations.get(person)!.api.getSession()).user?.login).toBe(PEOPLE[person].login);
      }

      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
      child = null;
      for (const s of stations.values()) s.close();

      const rows = await fx.sql<{ image_id: number; label: string; login: string }>(
        "SELECT r.image_id, r.label, u.login FROM reviews r JOIN users u ON u.id = r.user_id WHERE r.case_id = ? AND r.kind = 'decision'",
        [caseId],
      );
      const stored = rows.map((r) => `${r.login}|${r.image_id}|${r.label}`).sort();
      const key = (c: { person: Person; imageId: number; label: string }) => `${PEOPLE[c.person].login}|${c.imageId}|${c.label}`;
      // Every confirmed decision is there once; anything more was in flight when the server died.
      const remaining = [...stored];
      for (const k of confirmed.map(key)) {
        const at = remaining.indexOf(k);
        expect(at, `confirmed decision ${k} is stored`).toBeGreaterThanOrEqual(0);
        remaining.splice(at, 1);
      }
      const uncertain = inFlightAtKill.map(key);
      for (const extra of remaining) expect(uncertain).toContain(extra);
    }, 180_000);
  });
});
