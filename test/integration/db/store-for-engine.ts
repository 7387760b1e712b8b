// The repository tests on both engines, through the asynchronous contract (contract.ts): `openReposFor(engine)` gives
// a fresh, migrated database's repositories — SQLite: sqliteStore over a temporary file; PostgreSQL: the postgres/
// repositories over a database copied from the file's migrated template (engines.ts) — plus `transaction` and raw
// `sql` for the rules the tests try past the repositories. Call `storesForEngines()` at the top level of a test file.
//
// An aggregate not yet written for PostgreSQL is absent from PG_REPOSITORIES; a test that needs it asks
// `ported(engine, 'reviews')` (skipped on PostgreSQL until then, never on SQLite). Porting one is one line below.
import { afterEach, expect } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import { DatabaseError, type DatabaseErrorKind } from '../../../src/main/db';
import type { Repositories } from '../../../src/main/db/contract';
import { closePostgresDatabase, openPostgresDatabase, pgTransaction, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgAuditRepository } from '../../../src/main/db/postgres/audit';
import { pgCaseRepository } from '../../../src/main/db/postgres/cases';
import { pgCellRepository } from '../../../src/main/db/postgres/cells';
import { pgImageRepository } from '../../../src/main/db/postgres/images';
import { pgLabModelRepository } from '../../../src/main/db/postgres/lab-models';
import { pgLisRepository } from '../../../src/main/db/postgres/lis';
import { pgModelRepository } from '../../../src/main/db/postgres/models';
import { pgPartialAnalysisRepository } from '../../../src/main/db/postgres/partial-analysis';
import { pgPatientHistoryRepository } from '../../../src/main/db/postgres/patient-history';
import { pgPredictionRepository } from '../../../src/main/db/postgres/predictions';
import { pgPatientRepository } from '../../../src/main/db/postgres/patients';
import { pgReviewRepository } from '../../../src/main/db/postgres/reviews';
import type { PgScope } from '../../../src/main/db/postgres/scope';
import { pgReviewLayoutRepository } from '../../../src/main/db/postgres/review-layout';
import { pgSettingsRepository } from '../../../src/main/db/postgres/settings';
import { pgSignatureRepository } from '../../../src/main/db/postgres/signatures';
import { pgUserRepository } from '../../../src/main/db/postgres/users';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { usePostgres, type EngineName, type PostgresSetup } from './engines';
import { FOUR_CLASSES, TEST_PATIENT, imageFiles, modelRegistration, newCase, openTemp, prediction } from './helpers';

/** The aggregates written for PostgreSQL so far, each as its factory over a scope (pool or transaction). */
const PG_REPOSITORIES = {
  settings: pgSettingsRepository,
  audit: pgAuditRepository,
  patients: pgPatientRepository,
  models: pgModelRepository,
  cases: pgCaseRepository,
  partialAnalysis: pgPartialAnalysisRepository,
  patientHistory: pgPatientHistoryRepository,
  images: pgImageRepository,
  predictions: pgPredictionRepository,
  users: pgUserRepository,
  signatures: pgSignatureRepository,
  reviewLayout: pgReviewLayoutRepository,
  reviews: pgReviewRepository,
  cells: pgCellRepository,
  lis: pgLisRepository,
  labModels: pgLabModelRepository,
} as const satisfies { readonly [K in keyof Repositories]?: (scope: PgScope) => Repositories[K] };

type Ported = keyof typeof PG_REPOSITORIES;
/** What both engines have; the rest only where ported (always on SQLite). */
export type EngineRepositories = Pick<Repositories, Ported> & Partial<Omit<Repositories, Ported>>;

export interface EngineStore extends EngineRepositories {
  readonly engine: EngineName;
  /** Several calls as one unit of the engine (Store.transaction); a rejection rolls all of it back. */
  transaction<T>(fn: (tx: EngineRepositories) => Promise<T>): Promise<T>;
  /** One raw statement with `?` placeholders: its rows (SELECT or ... RETURNING), else []. */
  sql<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

/** Whether the engine has every one of these aggregates (SQLite has all of them). */
export function ported(engine: EngineName, ...aggregates: (keyof Repositories)[]): boolean {
  return engine === 'sqlite' || aggregates.every((a) => a in PG_REPOSITORIES);
}

/** The PostgreSQL repositories ported so far over a scope (tests that open several pools on one database). */
export function pgRepositories(scope: PgScope): EngineRepositories {
  return Object.fromEntries(Object.entries(PG_REPOSITORIES).map(([name, make]) => [name, make(scope)])) as unknown as EngineRepositories;
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
        const store = sqliteStore(db);
        return {
          ...store,
          engine,
          transaction: (fn) => store.transaction(fn),
          sql: async <T>(text: string, params: readonly unknown[] = []) => {
            const statement = db.raw.prepare(text);
            if (statement.reader) return statement.all(...params) as T[];
            statement.run(...params);
            return [];
          },
        };
      }
      const db = await openPostgresDatabase(await setup.freshUrl());
      opened.push(db);
      return {
        ...pgRepositories({ db, client: null }),
        engine,
        transaction: (fn) => pgTransaction(db, 'Saving', (client) => fn(pgRepositories({ db, client }))),
        sql: async <T>(text: string, params: readonly unknown[] = []) => (await db.pool.query(numbered(text), params as unknown[])).rows as T[],
      };
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
