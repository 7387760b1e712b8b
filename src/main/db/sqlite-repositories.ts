// The SQLite engine behind the asynchronous contract (contract.ts): the existing synchronous repository functions,
// bound to one open file and answered as Promises. better-sqlite3 is synchronous and its transactions cannot span an
// await, so an asynchronous transaction is BEGIN IMMEDIATE ... COMMIT on the one connection, and a gate runs every
// call outside it after it: nothing else can slip into the transaction (or read its uncommitted rows) while the
// caller awaits. The repository functions' own transactions nest inside as savepoints, as they do today.
import * as audit from './audit';
import * as cases from './cases';
import * as cells from './cells';
import { closeDatabase, openDatabase, type MarrowDatabase, type OpenOptions } from './connection';
import { REPOSITORY_METHODS, type Repositories, type Store } from './contract';
import { DatabaseError, classifyDatabaseError } from './errors';
import * as images from './images';
import * as labModels from './lab-models';
import * as lis from './lis';
import * as models from './models';
import * as patientHistory from './patient-history';
import * as patients from './patients';
import * as predictions from './predictions';
import * as reviewLayout from './review-layout';
import * as reviews from './reviews';
import * as settings from './settings';
import * as signatures from './signatures';
import * as users from './users';

const MODULES: { readonly [K in keyof Repositories]: Record<string, unknown> } = {
  cases,
  patients,
  patientHistory,
  settings,
  models,
  images,
  predictions,
  reviews,
  reviewLayout,
  cells,
  audit,
  lis,
  labModels,
  users,
  signatures,
};

type Call = <T>(fn: () => T) => Promise<T>;

/** Runs one operation at a time, in the order asked. */
class Gate {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function bindRepositories(db: MarrowDatabase, call: Call): Repositories {
  const bound: Record<string, Record<string, unknown>> = {};
  for (const [aggregate, names] of Object.entries(REPOSITORY_METHODS)) {
    const module = MODULES[aggregate as keyof Repositories];
    const methods: Record<string, unknown> = {};
    for (const name of names) {
      const fn = module[name];
      if (typeof fn !== 'function') throw new Error(`${aggregate}.${name} is not a repository function`);
      methods[name] = (...args: unknown[]) => call(() => (fn as (db: MarrowDatabase, ...a: unknown[]) => unknown)(db, ...args));
    }
    bound[aggregate] = methods;
  }
  return bound as unknown as Repositories;
}

export function sqliteStore(db: MarrowDatabase): Store {
  const gate = new Gate();
  const outside = bindRepositories(db, (fn) => gate.run(fn));
  return {
    engine: 'sqlite',
    where: db.path,
    schemaVersion: db.schemaVersion,
    ...outside,
    transaction: <T>(fn: (tx: Repositories) => Promise<T>) =>
      gate.run(async () => {
        if (db.readonly) throw new DatabaseError('read_only', `Saving: the database ${db.path} is open read-only.`);
        let open = true;
        // Inside the gate already: calls through tx run at once; after the transaction they are refused, so a
        // leaked tx cannot write outside it.
        const tx = bindRepositories(db, async (op) => {
          if (!open) throw new Error('a repository of a finished transaction was called');
          return op();
        });
        try {
          db.raw.exec('BEGIN IMMEDIATE');
        } catch (e) {
          throw classifyDatabaseError(e, 'Saving') ?? e;
        }
        try {
          const result = await fn(tx);
          db.raw.exec('COMMIT');
          return result;
        } catch (e) {
          if (db.raw.inTransaction) db.raw.exec('ROLLBACK');
          throw classifyDatabaseError(e, 'Saving') ?? e;
        } finally {
          open = false;
        }
      }),
    close: () => gate.run(() => closeDatabase(db)),
  };
}

export async function openSqliteStore(path: string, options: OpenOptions = {}): Promise<Store> {
  return sqliteStore(openDatabase(path, options));
}
