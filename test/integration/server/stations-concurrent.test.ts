// Three scripted stations (a technician each at two benches, a pathologist) review the same and different cases
// at once over HTTPS on loopback, seeded, many rounds. What must hold:
// - every accepted call is stored exactly once (the reviews table holds the accepted decisions and undos, no more,
//   no fewer, each with the person of the station that made it);
// - the stored order replays serially to the server's final state: each undo withdrew the decision that was in
//   force on its cell at that point, and the counts and each cell's label equal a replay of the stored rows
//   (written from the documented rule: the latest decision in force, else the model's label);
// - no call failed for the server's sake (a busy database, an internal error);
// - each station sends the version of the cell it last saw, as the review screen does: a decision or undo on a cell
//   that another station changed since is refused as 'stale', naming that person, and never stored; the station
//   then looks again (re-reads the cell) and goes on. Every stored row was made against the cell's version at that
//   point of the serial replay, so no stale decision ever won.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import type { CaseDifferential, CellView } from '../../../src/shared/api';
import { Rng } from '../../helpers/seeded-random';
import type { Station } from '../../helpers/station-client';
import { waitForAnalysis } from '../service/helpers';
import { PEOPLE, startTestServer, type Person, type ServerFixture } from './helpers';

const SEED = 20261204;
const ROUNDS = 60;
const LABELS: readonly CellClassCode[] = ['BLA', 'LYT', 'MON', 'NGS', 'EOS', 'PMO', 'ART', 'NIF'];

interface Accepted {
  person: Person;
  seenVersion: number;
  kind: 'decision' | 'retraction';
  caseId: number;
  imageId: number;
  label: CellClassCode | null;
}

/** Per-class counts as the differential reports them (counted rows plus the excluded classes). */
function countsOf(d: CaseDifferential): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of [...d.differential.rows, ...d.differential.excluded]) if (row.count > 0) counts[row.code] = row.count;
  return counts;
}

describe('three stations reviewing at once', () => {
  let fx: ServerFixture;
  const caseIds: number[] = [];
  const cells = new Map<number, CellView[]>();

  beforeAll(async () => {
    fx = await startTestServer('stations');
    const tech = await fx.station('tech1');
    for (const name of ['shared', 'other']) {
      const created = await tech.api.createCase({
        patient: { labId: `P-${name}` },
        accession: `ST-${name}`,
        specimen: 'bone_marrow_aspirate',
        folder: fx.caseFolder(name),
      });
      await tech.api.startAnalysis(created.id);
      expect((await waitForAnalysis(tech.api, created.id)).phase).toBe('done');
      caseIds.push(created.id);
      cells.set(created.id, (await tech.api.listCells({ caseId: created.id, scope: 'all', limit: 100 })).cells);
    }
  }, 90_000);
  afterAll(async () => fx?.dispose());

  it('stores every accepted decision once and ends where a serial replay of the stored order ends', async () => {
    const accepted: Accepted[] = [];
    const failures: string[] = [];
    // Tina and Paula work on the shared case; Tom moves between both cases.
    const plan: { person: Person; cases: number[] }[] = [
      { person: 'tech1', cases: [caseIds[0]!] },
      { person: 'tech2', cases: [caseIds[0]!, caseIds[1]!] },
      { person: 'path1', cases: [caseIds[0]!] },
    ];
    const stations = new Map<Person, Station>();
    for (const { person } of plan) stations.set(person, await fx.station(person));

    const staleRefusals: { person: Person; message: string }[] = [];
    await Promise.all(
      plan.map(async ({ person, cases }, index) => {
        const rng = new Rng(SEED + index);
        const station = stations.get(person)!;
        // What this station's grid shows: each cell's version as it last read it.
        const seen = new Map<number, number>();
        for (const caseId of cases) for (const cell of cells.get(caseId)!) seen.set(cell.imageId, cell.version);
        const lookAgain = async (caseId: number) => {
          for (const cell of (await station.api.listCells({ caseId, scope: 'all', limit: 100 })).cells) seen.set(cell.imageId, cell.version);
        };
        for (let round = 0; round < ROUNDS; round++) {
          const caseId = rng.pick(cases);
          const cell = rng.pick(cells.get(caseId)!);
          const seenVersion = seen.get(cell.imageId)!;
          const undo = rng.chance(0.25);
          const label = undo ? null : rng.pick(LABELS);
          const { result } = undo
            ? await station.call<CellView>('undoReview', [{ caseId, imageId: cell.imageId, seenVersion }])
            : await station.call<CellView>('reviewCell', [{ caseId, imageId: cell.imageId, label, seenVersion }]);
          if (result.ok) {
            accepted.push({ person, seenVersion, kind: undo ? 'retraction' : 'decision', caseId, imageId: cell.imageId, label });
            seen.set(cell.imageId, result.value.version);
          } else if (result.error.kind === 'stale') {
            staleRefusals.push({ person, message: result.error.message });
            await lookAgain(caseId);
          } else if (!(undo && result.error.kind === 'not_found')) {
            failures.push(`${person} ${undo ? 'undo' : 'review'}: ${result.error.kind} ${result.error.message}`);
          } else {
            await lookAgain(caseId);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    // Most calls are accepted (three stations × ROUNDS calls; a quarter are undos, some are refused as stale).
    expect(accepted.filter((a) => a.kind === 'decision').length).toBeGreaterThan(ROUNDS);
    expect(accepted.some((a) => a.kind === 'retraction')).toBe(true);
    // Stations on one case do collide, and each refusal names the other person (never the station's own).
    expect(staleRefusals.length).toBeGreaterThan(0);
    for (const { person, message } of staleRefusals) {
      const others = (Object.keys(PEOPLE) as Person[]).filter((p) => p !== person).map((p) => PEOPLE[p].displayName);
      expect(
        others.some((name) => message.includes(name)),
        message,
      ).toBe(true);
      expect(message).not.toContain(PEOPLE[person].displayName);
    }

    const db = new Database(fx.databasePath, { readonly: true });
    let stored: {
      id: number;
      case_id: number;
      image_id: number;
      kind: 'decision' | 'retraction';
      label: CellClassCode | null;
      retracts_review_id: number | null;
      user_id: number;
      seen_version: number | null;
    }[];
    let personOfUser: Map<number, Person>;
    try {
      stored = db
        .prepare(
          `SELECT id, case_id, image_id, kind, label, retracts_review_id, user_id, seen_version FROM reviews WHERE case_id IN (${caseIds.join(',')}) ORDER BY id`,
        )
        .all() as typeof stored;
      const users = db.prepare('SELECT id, login FROM users').all() as { id: number; login: string }[];
      personOfUser = new Map(users.flatMap((u) => (Object.keys(PEOPLE) as Person[]).filter((p) => PEOPLE[p].login === u.login).map((p) => [u.id, p] as const)));
    } finally {
      db.close();
    }

    // Every accepted call once, by its station's person: compare as multisets.
    const key = (a: Accepted) => `${a.person}|${a.kind}|${a.caseId}|${a.imageId}|${a.label ?? '-'}|${a.seenVersion}`;
    const storedKeys = stored
      .map((r) =>
        key({ person: personOfUser.get(r.user_id)!, seenVersion: r.seen_version!, kind: r.kind, caseId: r.case_id, imageId: r.image_id, label: r.label }),
      )
      .sort();
    expect(storedKeys).toEqual(accepted.map(key).sort());

    // Serial replay of the stored order.
    const stacks = new Map<string, { id: number; label: CellClassCode }[]>();
    const versions = new Map<string, number>();
    for (const row of stored) {
      const cellKey = `${row.case_id}/${row.image_id}`;
      // Made against the cell as it stood at this point of the replay: no stale decision was stored.
      expect(row.seen_version, `review ${row.id}`).toBe(versions.get(cellKey) ?? 0);
      versions.set(cellKey, row.id);
      const stack = stacks.get(cellKey) ?? [];
      if (row.kind === 'decision') stack.push({ id: row.id, label: row.label! });
      else {
        // An undo withdraws the decision in force on that cell at that moment, whoever made it.
        expect(row.retracts_review_id).toBe(stack[stack.length - 1]?.id);
        stack.pop();
      }
      stacks.set(cellKey, stack);
    }
    const observer = await fx.station('tech1');
    for (const caseId of caseIds) {
      const expected: Record<string, number> = {};
      const now = (await observer.api.listCells({ caseId, scope: 'all', limit: 100 })).cells;
      for (const cell of cells.get(caseId)!) {
        const stack = stacks.get(`${caseId}/${cell.imageId}`) ?? [];
        const label = stack.length > 0 ? stack[stack.length - 1]!.label : cell.predicted;
        expected[label] = (expected[label] ?? 0) + 1;
        expect(now.find((c) => c.imageId === cell.imageId)?.effectiveLabel, `case ${caseId} image ${cell.imageId}`).toBe(label);
      }
      expect(countsOf(await observer.api.getDifferential(caseId))).toEqual(expected);
    }
  }, 120_000);
});
