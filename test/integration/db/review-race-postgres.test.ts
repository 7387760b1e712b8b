// Several stations deciding on the same cells of one PostgreSQL database at once (issue 22): three stations, each
// with its own connection pool, make 200 decisions each (single decisions, "confirm all shown" batches and undos)
// on 20 cells, each against the version of the cell the station last saw, concurrently; the last station makes each
// decision inside a Store transaction that reads the cell back, as the service does. Seeded, so a failing run
// replays its choices (not its timing: that is the server's).
//
// Afterwards the stored history must show:
// - no decision lost: every accepted call's rows are stored, exactly once; a refused call stored nothing;
// - no stale decision won: for each cell, each stored row was made against the version of the row before it (its
//   seenVersion is that row's id), so no two accepted decisions were made on one version; each refusal was 'stale'
//   and named another station as the one who changed the cell;
// - the final label of each cell equals a serial replay of the stored rows in commit (id) order, each undo
//   withdrawing the decision then in force.
// Any other outcome (a deadlock, a lock time-out, a decision refused as stale on the current version) fails.
import { describe, expect, it } from 'vitest';
import { CELL_CLASS_CODES, type CellClassCode } from '../../../src/shared/cell-classes';
import { DatabaseError } from '../../../src/main/db';
import type { CellRepository, Repositories, ReviewRepository, Store } from '../../../src/main/db/contract';
import type { PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { closePostgresDatabase, openPostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgCellRepository } from '../../../src/main/db/postgres/cells';
import { pgReviewRepository } from '../../../src/main/db/postgres/reviews';
import { postgresStore } from '../../../src/main/db/postgres/store';
import type { ReviewRow } from '../../../src/main/db/types';
import { DecisionStacks } from '../../helpers/decision-stacks';
import { REVIEW_CASE_CLASSES, seedReviewCase } from '../../helpers/pg-review-case';
import { Rng } from '../../helpers/seeded-random';
import { usePostgres } from './engines';

const setup = usePostgres();

const STATIONS = 3;
const DECISIONS_PER_STATION = 200;
const CELLS = 20;
const SEEDS = [11, 2026];

interface Station {
  name: string;
  rng: Rng;
  reviews: ReviewRepository;
  cells: CellRepository;
  /** Each cell's version and whether a decision is in force, as this station last saw them. */
  view: Map<number, { version: number; decided: boolean }>;
}

/**
 * The decisions of a station whose every call is a Store transaction that also reads the decided cell back (as the
 * service does), so that the cell locks are taken inside a savepoint of a longer unit and held to its end.
 */
function decidingInTransactions(store: Store): ReviewRepository {
  const andReadBack = async <T extends { caseId: number; imageId: number }>(tx: Repositories, rows: T[]) => {
    for (const row of rows) await tx.cells.getCell(row.caseId, row.imageId);
    return rows;
  };
  return {
    addReview: (input) => store.transaction(async (tx) => (await andReadBack(tx, [await tx.reviews.addReview(input)]))[0]!),
    addReviews: (inputs) => store.transaction(async (tx) => andReadBack(tx, await tx.reviews.addReviews(inputs))),
    retractLatestReview: (input) => store.transaction(async (tx) => (await andReadBack(tx, [await tx.reviews.retractLatestReview(input)]))[0]!),
    listReviews: (caseId, imageId) => store.reviews.listReviews(caseId, imageId),
    latestDecisionInForceBy: (caseId, reviewer) => store.reviews.latestDecisionInForceBy(caseId, reviewer),
  };
}

const stationReviews = (db: PostgresDatabase, i: number): ReviewRepository =>
  i === STATIONS - 1 ? decidingInTransactions(postgresStore(db)) : pgReviewRepository({ db, client: null });

/** One accepted call: the rows it stored and the version each was made against. */
interface Accepted {
  station: string;
  rows: { row: ReviewRow; seenVersion: number }[];
}

describe.skipIf(setup.unavailable !== null)('stations deciding the same cells on PostgreSQL', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: no decision is lost and no stale decision wins (${STATIONS} pools × ${DECISIONS_PER_STATION} decisions on ${CELLS} cells)`, async () => {
      const url = await setup.freshUrl();
      const seeding = await openPostgresDatabase(url);
      const stationDbs = await Promise.all(Array.from({ length: STATIONS }, () => openPostgresDatabase(url, { maxConnections: 2 })));
      try {
        const { caseId, imageIds } = await seedReviewCase(seeding.pool, CELLS, `RACE-${seed}`);
        const predicted = new Map<number, CellClassCode>(imageIds.map((id, i) => [id, REVIEW_CASE_CLASSES[i % 4]!]));
        const stations: Station[] = stationDbs.map((db, i) => ({
          name: `Station ${String.fromCharCode(65 + i)}`,
          rng: new Rng(seed * 100 + i),
          reviews: stationReviews(db, i),
          cells: pgCellRepository({ db, client: null }),
          view: new Map(imageIds.map((id) => [id, { version: 0, decided: false }])),
        }));
        const accepted: Accepted[] = [];
        const refusals: { station: string; message: string }[] = [];

        const look = async (s: Station) => {
          const page = await s.cells.listCells({ caseId, scope: 'all', limit: CELLS });
          for (const cell of page.rows) s.view.set(cell.imageId, { version: cell.version, decided: cell.decision !== null });
        };

        const act = async (s: Station) => {
          if (s.rng.chance(0.3)) await look(s);
          const choice = s.rng.float();
          const imageId = s.rng.pick(imageIds);
          const seen = s.view.get(imageId)!;
          let attempt: Promise<{ row: ReviewRow; seenVersion: number }[]>;
          if (choice < 0.15 && seen.decided) {
            attempt = s.reviews
              .retractLatestReview({ caseId, imageId, reviewer: s.name, seenVersion: seen.version })
              .then((row) => [{ row, seenVersion: seen.version }]);
          } else if (choice < 0.3) {
            // "Confirm all shown" on a few cells, listed in no particular order (the repository orders its locks).
            const batch = s.rng.sample(imageIds, 2 + s.rng.int(3)).map((id) => ({ imageId: id, seenVersion: s.view.get(id)!.version }));
            attempt = s.reviews
              .addReviews(batch.map((b) => ({ caseId, imageId: b.imageId, label: s.rng.pick(CELL_CLASS_CODES), reviewer: s.name, seenVersion: b.seenVersion })))
              .then((rows) => rows.map((row, i) => ({ row, seenVersion: batch[i]!.seenVersion })));
          } else {
            const label: CellClassCode = s.rng.pick(CELL_CLASS_CODES);
            attempt = s.reviews
              .addReview({ caseId, imageId, label, reviewer: s.name, seenVersion: seen.version })
              .then((row) => [{ row, seenVersion: seen.version }]);
          }
          const outcome = await attempt.then(
            (rows) => ({ rows }),
            (error: unknown) => ({ error }),
          );
          if ('rows' in outcome) {
            accepted.push({ station: s.name, rows: outcome.rows });
            for (const { row } of outcome.rows) s.view.set(row.imageId, { version: row.id, decided: row.kind === 'decision' });
            // After an undo the station does not know what is in force below it until it looks again.
            if (outcome.rows[0]!.row.kind === 'retraction') await look(s);
            return;
          }
          const error = outcome.error;
          if (!(error instanceof DatabaseError) || error.kind !== 'stale') throw error;
          refusals.push({ station: s.name, message: error.message });
          await look(s);
        };

        await Promise.all(
          stations.map(async (s) => {
            for (let n = 0; n < DECISIONS_PER_STATION; n++) await act(s);
          }),
        );

        // Both outcomes happened, many times.
        expect(accepted.length).toBeGreaterThan(DECISIONS_PER_STATION);
        expect(refusals.length).toBeGreaterThan(DECISIONS_PER_STATION / 10);
        // Each refusal says who changed the cell: another station, never the refused one, and tells to look again.
        for (const r of refusals) {
          const named = /changed by (Station [A-Z])/.exec(r.message);
          expect(named, r.message).not.toBeNull();
          expect(named![1], r.message).not.toBe(r.station);
          expect(r.message).toContain('look again');
        }

        // No decision lost: the stored rows are exactly the accepted ones, each once.
        const stored = await stations[0]!.reviews.listReviews(caseId);
        const acceptedRows = accepted.flatMap((a) => a.rows);
        expect(stored.map((r) => r.id).sort((a, b) => a - b)).toEqual(acceptedRows.map((a) => a.row.id).sort((a, b) => a - b));
        expect(new Set(stored.map((r) => r.id)).size).toBe(stored.length);
        const byId = new Map(acceptedRows.map((a) => [a.row.id, a]));
        for (const row of stored) expect(byId.get(row.id)!.row).toEqual(row);

        // No stale decision won: per cell, each row was made on the version of the row stored just before it.
        const replay = new DecisionStacks<{ label: CellClassCode; reviewId: number }>(predicted);
        const previous = new Map<number, number>(imageIds.map((id) => [id, 0]));
        for (const row of stored) {
          expect(byId.get(row.id)!.seenVersion, `review ${row.id} of cell ${row.imageId}`).toBe(previous.get(row.imageId));
          previous.set(row.imageId, row.id);
          if (row.kind === 'decision') replay.add(row.imageId, { label: row.label!, reviewId: row.id });
          else {
            expect(row.retractsReviewId, `undo ${row.id} withdraws the decision then in force`).toBe(replay.decision(row.imageId)!.reviewId);
            replay.withdraw(row.imageId);
          }
        }
        // The final label of every cell is the serial replay's, on every station.
        for (const s of stations) {
          const page = await s.cells.listCells({ caseId, scope: 'all', limit: CELLS });
          expect(page.total).toBe(CELLS);
          for (const cell of page.rows) {
            expect(cell.effectiveLabel, `${s.name}, cell ${cell.imageId}`).toBe(replay.effective(cell.imageId));
            expect(cell.decision?.reviewId ?? null).toBe(replay.decision(cell.imageId)?.reviewId ?? null);
            expect(cell.version).toBe(previous.get(cell.imageId));
          }
        }
        expect(await stations[1]!.cells.effectiveCountsByClass(caseId)).toEqual(replay.counts());
      } finally {
        for (const db of [seeding, ...stationDbs]) await closePostgresDatabase(db);
      }
    }, 120_000);
  }

  it('never deadlocks two "confirm all shown" batches that name overlapping cells in different orders', async () => {
    const url = await setup.freshUrl();
    const seeding = await openPostgresDatabase(url);
    const stationDbs = await Promise.all(Array.from({ length: 4 }, () => openPostgresDatabase(url, { maxConnections: 2 })));
    try {
      const { caseId, imageIds } = await seedReviewCase(seeding.pool, 6, 'BATCH');
      const rng = new Rng(7);
      let stored = 0;
      await Promise.all(
        stationDbs.map(async (db, i) => {
          const reviews = pgReviewRepository({ db, client: null });
          for (let n = 0; n < 40; n++) {
            // Five of the six cells, shuffled: every pair of batches overlaps, most in opposite orders.
            const cells = rng.sample(imageIds, 5);
            const rows = await reviews.addReviews(cells.map((imageId) => ({ caseId, imageId, label: rng.pick(CELL_CLASS_CODES), reviewer: `Station ${i}` })));
            stored += rows.length;
          }
        }),
      );
      expect(stored).toBe(4 * 40 * 5);
      expect(await pgReviewRepository({ db: seeding, client: null }).listReviews(caseId)).toHaveLength(stored);
    } finally {
      for (const db of [seeding, ...stationDbs]) await closePostgresDatabase(db);
    }
  }, 120_000);
});
