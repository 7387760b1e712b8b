// The PostgreSQL engine behind the asynchronous contract (../contract.ts): one repository per aggregate (this
// folder), all bound to the pool, or all bound to the one connection of a Store transaction. The twin of
// ../sqlite-repositories.ts; the service cannot tell the two apart.
import type { Repositories, Store } from '../contract';
import { pgAuditRepository } from './audit';
import { pgCaseRepository } from './cases';
import { pgCellRepository } from './cells';
import { closePostgresDatabase, openPostgresDatabase, pgTransaction, type PostgresDatabase, type PostgresOpenOptions } from './connection';
import { pgImageRepository } from './images';
import { pgLabModelRepository } from './lab-models';
import { pgLisRepository } from './lis';
import { pgModelRepository } from './models';
import { pgPartialAnalysisRepository } from './partial-analysis';
import { pgPatientHistoryRepository } from './patient-history';
import { pgPatientRepository } from './patients';
import { pgPredictionRepository } from './predictions';
import { pgReviewLayoutRepository } from './review-layout';
import { pgReviewRepository } from './reviews';
import type { PgScope } from './scope';
import { pgSettingsRepository } from './settings';
import { pgSignatureRepository } from './signatures';
import { pgUserRepository } from './users';

/** Every aggregate's PostgreSQL repository over one scope (the pool, or a transaction's connection). */
export function postgresRepositories(scope: PgScope): Repositories {
  return {
    cases: pgCaseRepository(scope),
    partialAnalysis: pgPartialAnalysisRepository(scope),
    patients: pgPatientRepository(scope),
    patientHistory: pgPatientHistoryRepository(scope),
    settings: pgSettingsRepository(scope),
    models: pgModelRepository(scope),
    images: pgImageRepository(scope),
    predictions: pgPredictionRepository(scope),
    reviews: pgReviewRepository(scope),
    reviewLayout: pgReviewLayoutRepository(scope),
    cells: pgCellRepository(scope),
    audit: pgAuditRepository(scope),
    lis: pgLisRepository(scope),
    labModels: pgLabModelRepository(scope),
    users: pgUserRepository(scope),
    signatures: pgSignatureRepository(scope),
  };
}

export function postgresStore(db: PostgresDatabase): Store {
  return {
    engine: 'postgres',
    where: db.where,
    schemaVersion: db.schemaVersion,
    ...postgresRepositories({ db, client: null }),
    // One connection for the whole unit; each repository's own unit nests in it as a savepoint (scope.ts). A
    // repository of a finished transaction would write on a connection back in the pool: refused instead.
    transaction: <T>(fn: (tx: Repositories) => Promise<T>) =>
      pgTransaction(db, 'Saving', async (client) => {
        let open = true;
        const guarded = new Proxy(client, {
          get(target, property, receiver) {
            if (property === 'query' && !open) throw new Error('a repository of a finished transaction was called');
            const value: unknown = Reflect.get(target, property, receiver);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        try {
          return await fn(postgresRepositories({ db, client: guarded }));
        } finally {
          open = false;
        }
      }),
    close: () => closePostgresDatabase(db),
  };
}

export async function openPostgresStore(url: string, options: PostgresOpenOptions = {}): Promise<Store> {
  return postgresStore(await openPostgresDatabase(url, options));
}
