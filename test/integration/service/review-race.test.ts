// Two stations reviewing the same case at once (issue 21): two services on one database, each with its own
// connection (on PostgreSQL, issue 22: its own pool, as two lab-server stations), each deciding on the cells as it
// last saw them. Seeded rounds interleave looks and decisions at
// random. Every decision made on the cell's current version is kept; every decision made on a version that changed
// since is refused as 'stale', naming who changed the cell, and changes nothing. An oracle kept in the test holds
// each cell's decisions in force; the service must agree with it after every step, and the stored history must hold
// exactly the accepted decisions, in order.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellView, MarrowApi } from '../../../src/shared/api';
import { CELL_CLASS_CODES, type CellClassCode } from '../../../src/shared/cell-classes';
import { openStore } from '../../../src/main/db/store';
import { toApiError } from '../../../src/main/service/errors';
import { createMarrowService, type MarrowService } from '../../../src/main/service/marrow-service';
import { DecisionStacks } from '../../helpers/decision-stacks';
import { Rng } from '../../helpers/seeded-random';
import { ENGINES, usePostgres, type EngineName } from '../db/engines';
import { analysedFixtureCase, loggedInApi, PERSON_PASSWORD, startService, TINY_MODEL, type ServiceFixture } from './helpers';

interface Station {
  name: string;
  api: MarrowApi;
  /** The cells as this station last read them. */
  view: Map<number, CellView>;
}

interface Accepted {
  label: CellClassCode;
  reviewer: string;
}

const pgSetup = usePostgres();
const SEEDS = [1, 7, 42, 2026];
const ROUNDS = 150;

describe.each(ENGINES)('on %s', (engine: EngineName) => {
  let fx: ServiceFixture;
  let second: MarrowService;
  let secondApi: Promise<MarrowApi> | null = null;
  /** Station B: a second service on the same database, with its own logged-in person. */
  const stationB = (): Promise<MarrowApi> =>
    (secondApi ??= loggedInApi(second, {
      login: 'station-b',
      displayName: 'Station B reviewer',
      password: PERSON_PASSWORD,
      roles: ['technician', 'pathologist'],
    }));

  const skip = engine === 'postgres' && pgSetup.unavailable !== null;
  beforeAll(async () => {
    if (skip) return;
    fx = await startService('race', engine === 'postgres' ? { databaseLocation: await pgSetup.freshUrl() } : {});
    second = await createMarrowService({
      databaseLocation: fx.databaseLocation,
      modelDir: TINY_MODEL,
      reportsDir: join(fx.root, 'reports-b'),
      cellImageUrl: (c, i) => `marrowcell://cell/${c}/${i}`,
      appVersion: '0.0.0-test',
    });
  });
  afterAll(async () => {
    if (skip) return;
    await second.close();
    await fx.dispose();
  });

  describe.skipIf(skip)('two stations deciding the same cells', () => {
    for (const seed of SEEDS) {
      it(`seed ${seed}: no accepted decision is lost and no stale decision wins`, async () => {
        const rng = new Rng(seed);
        const { detail, cells } = await analysedFixtureCase(fx, `RACE-${seed}`);
        const caseId = detail.id;
        const oracle = new DecisionStacks<Accepted>(new Map(cells.map((c) => [c.imageId, c.predicted])));
        // The true version of each cell: the id of its latest review row, learnt from every accepted change.
        const version = new Map(cells.map((c) => [c.imageId, c.version]));
        const stations: Station[] = [
          { name: 'Station A reviewer', api: await fx.as('Station A reviewer'), view: new Map(cells.map((c) => [c.imageId, c])) },
          { name: 'Station B reviewer', api: await stationB(), view: new Map(cells.map((c) => [c.imageId, c])) },
        ];
        const lastChangedBy = new Map<number, string>();
        const history: { imageId: number; kind: 'decision' | 'retraction'; reviewer: string; label: CellClassCode | null }[] = [];
        const ids = cells.map((c) => c.imageId);
        // Few cells, so the two stations collide often.
        const hot = rng.sample(ids, 3);
        let accepted = 0;
        let refused = 0;

        const look = async (station: Station) => {
          const page = await station.api.listCells({ caseId, scope: 'all', limit: 100 });
          for (const cell of page.cells) station.view.set(cell.imageId, cell);
        };

        for (let round = 0; round < ROUNDS; round++) {
          const where = `seed ${seed} round ${round}`;
          for (const station of stations) if (rng.chance(0.35)) await look(station);
          const imageId = rng.pick(hot);
          for (const station of rng.sample(stations, 2)) {
            const seen = station.view.get(imageId)!;
            const fresh = seen.version === version.get(imageId);
            const undo = seen.decision !== null && rng.chance(0.3);
            const label = rng.pick(CELL_CLASS_CODES);
            const attempt = undo
              ? station.api.undoReview({ caseId, imageId, seenVersion: seen.version })
              : rng.chance(0.2)
                ? station.api.confirmCells({ caseId, imageIds: [imageId], seenVersions: [seen.version] }).then((r) => r[0]!)
                : station.api.reviewCell({ caseId, imageId, label, seenVersion: seen.version });
            const outcome = await attempt.then(
              (cell) => ({ cell }),
              (error: unknown) => ({ error: toApiError(error) }),
            );
            if (fresh) {
              expect('cell' in outcome, `${where}: ${station.name} decided on the current version and must be accepted`).toBe(true);
              const cell = (outcome as { cell: CellView }).cell;
              if (undo) {
                oracle.withdraw(imageId);
                history.push({ imageId, kind: 'retraction', reviewer: station.name, label: null });
              } else {
                // A confirmation seconds what the station saw, which is what is in force (its view is current).
                const decided = cell.decision!.label;
                oracle.add(imageId, { label: decided, reviewer: station.name });
                history.push({ imageId, kind: 'decision', reviewer: station.name, label: decided });
              }
              expect(cell.version, where).toBeGreaterThan(version.get(imageId)!);
              version.set(imageId, cell.version);
              lastChangedBy.set(imageId, station.name);
              station.view.set(imageId, cell);
              accepted++;
            } else {
              expect('error' in outcome, `${where}: ${station.name} decided on a stale version and must be refused`).toBe(true);
              const error = (outcome as { error: { kind: string; message: string } }).error;
              expect(error.kind, where).toBe('stale');
              expect(error.message, where).toContain(`changed by ${lastChangedBy.get(imageId)}`);
              expect(error.message, where).toContain('look again');
              refused++;
            }
            // The service holds exactly the oracle's state after every step.
            const now = (await fx.service.listCells({ caseId, scope: 'all', limit: 100 })).cells.find((c) => c.imageId === imageId)!;
            expect(now.effectiveLabel, where).toBe(oracle.effective(imageId));
            expect(now.decision?.reviewer ?? null, where).toBe(oracle.decision(imageId)?.reviewer ?? null);
            expect(now.version, where).toBe(version.get(imageId));
          }
        }
        // Both outcomes happened many times.
        expect(accepted).toBeGreaterThan(ROUNDS / 2);
        expect(refused).toBeGreaterThan(ROUNDS / 4);

        // The stored history is exactly the accepted changes, in order: nothing lost, nothing extra.
        const store = await openStore(fx.databaseLocation);
        try {
          const stored = (await store.reviews.listReviews(caseId)).map((r) => ({ imageId: r.imageId, kind: r.kind, reviewer: r.reviewer, label: r.label }));
          expect(stored).toEqual(history);
        } finally {
          await store.close();
        }
        for (const id of ids) {
          const cell = (await (await stationB()).listCells({ caseId, scope: 'all', limit: 100 })).cells.find((c) => c.imageId === id)!;
          expect(cell.effectiveLabel).toBe(oracle.effective(id));
        }
      }, 120_000);
    }

    it("refuses a sign-off or an amendment of a case changed since by another station, naming who; the signer's own changes do not count", async () => {
      const { detail, cells } = await analysedFixtureCase(fx, 'RACE-CASE');
      const caseId = detail.id;
      const seenByA = (await fx.service.getCase(caseId)).version;
      // A's own decision after looking does not make A's view stale.
      await (await fx.as('Station A reviewer')).reviewCell({ caseId, imageId: cells[0]!.imageId, label: 'BLA' });
      // B changes a cell: A's view of the case is now stale.
      await (await stationB()).reviewCell({ caseId, imageId: cells[1]!.imageId, label: 'LYT' });
      const refusal = await (
        await fx.as('Station A reviewer')
      )
        .authoriseCase({ caseId, password: PERSON_PASSWORD, overrideReason: 'race', caseVersion: seenByA })
        .then(
          () => null,
          (e: unknown) => toApiError(e),
        );
      expect(refusal?.kind).toBe('stale');
      expect(refusal?.message).toMatch(/^Case ACC-RACE-CASE was changed by Station B reviewer at .* \(a cell decision\); it is now in review — look again\.$/);
      expect((await fx.service.getCase(caseId)).status).toBe('in_review');
      // Looking again, A signs.
      const current = (await fx.service.getCase(caseId)).version;
      await (await fx.as('Station A reviewer')).authoriseCase({ caseId, password: PERSON_PASSWORD, overrideReason: 'race', caseVersion: current });
      // B amends from a view taken before the sign-off: refused, naming A.
      const amend = await (await stationB()).amendCase({ caseId, reason: 'late', caseVersion: current }).then(
        () => null,
        (e: unknown) => toApiError(e),
      );
      expect(amend?.kind).toBe('stale');
      expect(amend?.message).toContain('changed by Station A reviewer');
      expect((await (await stationB()).getCase(caseId)).status).toBe('signed');
    }, 60_000);
  });
});
