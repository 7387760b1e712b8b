// The repository tests on both engines, through the asynchronous contract (contract.ts): `openReposFor(engine)` gives
// a fresh, migrated database's Store — SQLite: sqliteStore over a temporary file; PostgreSQL: postgresStore over a
// database copied from the file's migrated template (engines.ts) — plus raw `sql` for the rules the tests try past
// the repositories. Call `storesForEngines()` at the top level of a test file.
import { afterEach, expect } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import { DatabaseError, type DatabaseErrorKind } from '../../../src/main/db';
import type { Repositories, Store } from '../../../src/main/db/contract';
import { closePostgresDatabase, openPostgresDatabase, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { postgresStore } from '../../../src/main/db/postgres/store';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { usePostgres, type EngineName, type PostgresSetup } from './engines';
import { FOUR_CLASSES, TEST_PATIENT, imageFiles, modelRegistration, newCase, openTemp, prediction } from './helpers';

/** Every aggregate's repository, as both engines give them (all aggregates have their PostgreSQL twin). */
export type EngineRepositories = Repositories;

export interface EngineStore extends Store {
  /** One raw statement with `?` placeholders: its rows (SELECT or ... RETURNING), else []. */
  sql<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

/** `?` as $1, $2 ... (the tests' SQL has no `?` inside string literals). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

export interface EngineStores {
  /** Why PostgreSQL tests skip here, or null. */
  readonly unavailable: string | null;
  openReposFor(engine: EngineName): Promise<EngineStore>;
}

export function storesForEngines(setup: PostgresSetup = usePostgres()): EngineStores {
  const opened: PostgresDatabase[] = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await closePostgresDatabase(db);
  });
  return {
    unavailable: setup.unavailable,
    async openReposFor(engine) {
      if (engine === 'sqlite') {
        const { db } = openTemp();
        return Object.assign(sqliteStore(db), {
          sql: async <T>(text: string, params: readonly unknown[] = []) => {
            const statement = db.raw.prepare(text);
            if (statement.reader) return statement.all(...params) as T[];
            statement.run(...params);
            return [];
          },
        });
      }
      const db = await openPostgresDatabase(await setup.freshUrl());
      opened.push(db);
      return Object.assign(postgresStore(db), {
        sql: async <T>(text: string, params: readonly unknown[] = []) => (await db.pool.query(numbered(text), params as unknown[])).rows as T[],
      });
    },
  };
}

/** Awaits the promise, expects a DatabaseError of this kind, and returns it for checks of its message. */
export async function expectRejection(promise: Promise<unknown>, kind: DatabaseErrorKind): Promise<DatabaseError> {
  const thrown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(thrown, `expected a DatabaseError of kind ${kind}`).toBeInstanceOf(DatabaseError);
  expect((thrown as DatabaseError).kind).toBe(kind);
  return thrown as DatabaseError;
}

// The set-up helpers of helpers.ts, through the contract.

export function addModel(s: EngineRepositories, tag = 'a', classes: CellClassCode[] = FOUR_CLASSES) {
  return s.models.registerModel(modelRegistration(tag, classes));
}

export async function addCase(s: EngineRepositories, accession = 'BM-001', labId = 'MRN-1') {
  const patient = await s.patients.upsertPatient({ labId, ...TEST_PATIENT });
  return s.cases.createCase(newCase(patient.id, accession));
}

/** Imports n distinct images into the case and returns their ids in import order. */
export async function addImages(s: EngineRepositories, caseId: number, n: number, firstHash = 1): Promise<number[]> {
  return (await s.images.insertImages(caseId, imageFiles(n, firstHash))).inserted.map((r) => r.id);
}

/**
 * A case in review whose cells have the given predicted classes and confidences (flagged below 0.6), classified
 * by one model. Returns the ids in the same order.
 */
export async function caseInReview(s: EngineRepositories, cells: { predicted: CellClassCode; confidence: number }[], accession = 'BM-001') {
  const model = await addModel(s);
  const row = await addCase(s, accession);
  const imageIds = await addImages(s, row.id, cells.length);
  await s.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
  await s.predictions.insertPredictions(
    model.id,
    cells.map((c, i) => prediction(imageIds[i]!, c.predicted, c.confidence)),
  );
  await s.cases.setCaseStatus(row.id, 'in_review', 'tech');
  return { caseId: row.id, modelRowId: model.id, imageIds };
}
