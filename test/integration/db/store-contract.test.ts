// The asynchronous repository contract on the SQLite engine: the existing functions answered as Promises, errors as
// rejected DatabaseErrors, and an asynchronous transaction that is atomic and that no other call slips into; and the
// PostgreSQL engine assembled the same way (postgres/store.ts).
import { describe, expect, it } from 'vitest';
import * as dbIndex from '../../../src/main/db';
import { REPOSITORY_METHODS, type Repositories } from '../../../src/main/db/contract';
import { openPostgresStore } from '../../../src/main/db/postgres/store';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { usePostgres } from './engines';
import { openTemp } from './helpers';

/**
 * Functions index.ts exports that are about the connection, errors or the current call's person (acting-user.ts, the
 * session context the service enters), not an aggregate's repository.
 */
const NOT_REPOSITORIES = new Set([
  'openDatabase',
  'closeDatabase',
  'backupDatabase',
  'transaction',
  'classifyDatabaseError',
  'DatabaseError',
  'runAsUser',
  'actingUser',
  'actingUserId',
  // Pure arithmetic on a cell already read (cells.ts), the same on both engines: no database, no repository method.
  'topClasses',
]);

function store() {
  return sqliteStore(openTemp().db);
}

describe('repository contract on SQLite', () => {
  it('names every repository function that src/main/db exports (add a new one to contract.ts)', () => {
    const named = new Set<string>(Object.values(REPOSITORY_METHODS).flat());
    const missing = Object.entries(dbIndex)
      .filter(([name, value]) => typeof value === 'function' && !NOT_REPOSITORIES.has(name) && !named.has(name))
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('answers the repository functions as Promises, and their refusals as rejected DatabaseErrors', async () => {
    const s = store();
    const patient = await s.patients.upsertPatient({ labId: 'MRN-9', name: 'Ada Example' });
    const created = await s.cases.createCase({ patientId: patient.id, accession: 'BM-9', specimen: 'bone_marrow_aspirate', folder: '/c', actor: 'tech' });
    expect((await s.cases.getCase(created.id)).accession).toBe('BM-9');
    const duplicate = await s.cases
      .createCase({ patientId: patient.id, accession: 'bm-9', specimen: 'bone_marrow_aspirate', folder: '/c', actor: 'tech' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(duplicate).toBeInstanceOf(dbIndex.DatabaseError);
    expect((duplicate as dbIndex.DatabaseError).kind).toBe('duplicate');
    await s.close();
  });

  it('rolls back every call of a transaction whose function rejects', async () => {
    const s = store();
    const patient = await s.patients.upsertPatient({ labId: 'MRN-1' });
    const failure = await s
      .transaction(async (tx) => {
        await tx.cases.createCase({ patientId: patient.id, accession: 'BM-1', specimen: 'other', folder: '/c', actor: 'tech' });
        throw new Error('the report could not be built');
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(String(failure)).toMatch(/report could not be built/);
    expect(await s.cases.listCases({})).toEqual([]);
  });

  it('makes a call from outside wait for an open transaction, so that it never sees half of it', async () => {
    const s = store();
    const patient = await s.patients.upsertPatient({ labId: 'MRN-1' });
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const tx = s.transaction(async (t) => {
      await t.cases.createCase({ patientId: patient.id, accession: 'BM-1', specimen: 'other', folder: '/c', actor: 'tech' });
      await paused;
      await t.cases.createCase({ patientId: patient.id, accession: 'BM-2', specimen: 'other', folder: '/c', actor: 'tech' });
    });
    const outside = s.cases.listCases({}).then((rows) => seen.push(rows.length));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([]);
    release();
    await Promise.all([tx, outside]);
    expect(seen).toEqual([2]);
  });
});

const pgSetup = usePostgres();

describe.skipIf(pgSetup.unavailable !== null)('repository contract on PostgreSQL (postgresStore)', () => {
  it('implements every method of every aggregate the contract lists', async () => {
    const s = await openPostgresStore(await pgSetup.freshUrl());
    try {
      const missing = Object.entries(REPOSITORY_METHODS).flatMap(([aggregate, names]) =>
        names
          .filter((name) => typeof (s as unknown as Record<string, Record<string, unknown>>)[aggregate]?.[name] !== 'function')
          .map((n) => `${aggregate}.${n}`),
      );
      expect(missing).toEqual([]);
      expect(s.engine).toBe('postgres');
    } finally {
      await s.close();
    }
  });

  it('rolls back every call of a transaction whose function rejects, and refuses a repository used after it ended', async () => {
    const s = await openPostgresStore(await pgSetup.freshUrl());
    try {
      const patient = await s.patients.upsertPatient({ labId: 'MRN-1' });
      let leaked: Repositories | null = null;
      const failure = await s
        .transaction(async (tx) => {
          leaked = tx;
          await tx.cases.createCase({ patientId: patient.id, accession: 'BM-1', specimen: 'other', folder: '/c', actor: 'tech' });
          throw new Error('the report could not be built');
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(String(failure)).toMatch(/report could not be built/);
      expect(await s.cases.listCases({})).toEqual([]);
      const late = await leaked!.cases.listCases({}).then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(late)).toMatch(/finished transaction/);
      // A transaction that succeeds commits all of its calls.
      await s.transaction(async (tx) => {
        await tx.cases.createCase({ patientId: patient.id, accession: 'BM-2', specimen: 'other', folder: '/c', actor: 'tech' });
        await tx.cases.createCase({ patientId: patient.id, accession: 'BM-3', specimen: 'other', folder: '/c', actor: 'tech' });
      });
      expect((await s.cases.listCases({})).map((c) => c.accession).sort()).toEqual(['BM-2', 'BM-3']);
    } finally {
      await s.close();
    }
  });
});
