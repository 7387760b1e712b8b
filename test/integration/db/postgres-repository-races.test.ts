// Two stations on one PostgreSQL database racing on a read-then-write through the repositories: station A's unit is
// held open after its write, station B makes the same write and is seen waiting on A's lock, then A commits. Each
// race must end as on SQLite's single writer — the same row, or the same typed refusal — never a raw unique
// violation or a second original. (SQLite's single writer serialises these by itself.)
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Repositories } from '../../../src/main/db/contract';
import { postgresRepositories } from '../../../src/main/db/postgres/store';
import { closePostgresDatabase, openPostgresDatabase, pgTransaction, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { usePostgres } from './engines';
import { modelRegistration, newCase, prediction, sha } from './helpers';
import { expectRejection } from './store-for-engine';

const setup = usePostgres();
const opened: PostgresDatabase[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await closePostgresDatabase(db);
});

const repos = postgresRepositories;
type Repos = Repositories;

async function station(url: string) {
  const db = await openPostgresDatabase(url);
  opened.push(db);
  return { db, ...repos({ db, client: null }) };
}

/** Resolves once some session of the database waits for a lock (station B blocked behind A). */
async function someoneWaits(url: string): Promise<void> {
  const watcher = new pg.Client({ connectionString: url });
  await watcher.connect();
  setup.track(watcher);
  for (let i = 0; i < 600; i++) {
    const { rows } = await watcher.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (Number(rows[0]!.n) > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('station B never waited for station A');
}

/**
 * Station A runs `first` in a transaction it holds open; station B starts `second`, which must wait for A; then A
 * commits and B's outcome is returned (its value, or the error it rejected with).
 */
async function race<A, B>(url: string, first: (a: Repos) => Promise<A>, second: () => Promise<B>): Promise<{ a: A; b: B | unknown }> {
  const a = await station(url);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let wrote!: () => void;
  const written = new Promise<void>((r) => (wrote = r));
  const unitA = pgTransaction(a.db, 'station A', async (client) => {
    const result = await first(repos({ db: a.db, client }));
    wrote();
    await held;
    return result;
  });
  await written;
  const outcomeB = second().then(
    (value) => value,
    (error: unknown) => error,
  );
  await someoneWaits(url);
  release();
  return { a: await unitA, b: await outcomeB };
}

describe.skipIf(setup.unavailable !== null)('PostgreSQL repositories: two stations racing on one write', () => {
  it('upsertPatient: a new identifier registered by two stations at once is one patient', async () => {
    const url = await setup.freshUrl();
    const b = await station(url);
    const { a, b: fromB } = await race(
      url,
      (r) => r.patients.upsertPatient({ labId: 'MRN-9', name: 'Ada' }),
      () => b.patients.upsertPatient({ labId: 'MRN-9', birthDate: '1950-01-02' }),
    );
    // B waited for A's row, then filled the birth date A left empty, as a later upsert would.
    expect(fromB).toMatchObject({ id: a.id, labId: 'MRN-9', name: 'Ada', birthDate: '1950-01-02' });
    expect((await b.db.pool.query('SELECT count(*) AS n FROM patients')).rows).toEqual([{ n: 1 }]);
  });

  it('registerModel: the same file registered by two stations at once is one model, audited once', async () => {
    const url = await setup.freshUrl();
    const b = await station(url);
    const { a, b: fromB } = await race(
      url,
      (r) => r.models.registerModel(modelRegistration('a')),
      () => b.models.registerModel(modelRegistration('a')),
    );
    expect(fromB).toEqual(a);
    expect((await b.db.pool.query(`SELECT count(*) AS n FROM audit_log WHERE action = 'model_registered'`)).rows).toEqual([{ n: 1 }]);
  });

  it('createCase: one accession created by two stations at once is refused for the second, naming the first', async () => {
    const url = await setup.freshUrl();
    const b = await station(url);
    const patient = await b.patients.upsertPatient({ labId: 'MRN-1' });
    const { a, b: fromB } = await race(
      url,
      (r) => r.cases.createCase(newCase(patient.id, 'BM-7')),
      () => b.cases.createCase(newCase(patient.id, 'bm-7')),
    );
    const error = await expectRejection(Promise.reject(fromB), 'duplicate');
    expect(error.message).toContain(`case ${a.id} (BM-7)`);
  });

  it('insertImages: the same content imported into one case by two stations is stored once, the second as its copy', async () => {
    const url = await setup.freshUrl();
    const b = await station(url);
    const patient = await b.patients.upsertPatient({ labId: 'MRN-1' });
    const row = await b.cases.createCase(newCase(patient.id, 'BM-1'));
    const image = (path: string) => ({ relativePath: path, sha256: sha(1), bytes: 1, width: 1, height: 1, importError: null });
    const { a, b: fromB } = await race(
      url,
      (r) => r.images.insertImages(row.id, [image('a.jpg')]),
      () => b.images.insertImages(row.id, [image('b.jpg')]),
    );
    expect(fromB).toMatchObject({ duplicates: [{ relativePath: 'b.jpg', duplicateOf: 'a.jpg' }], inserted: [{ duplicateOf: a.inserted[0]!.id }] });
  });

  it('insertPredictions: two workers that classified the same image store one prediction; the second batch is refused whole', async () => {
    const url = await setup.freshUrl();
    const b = await station(url);
    const model = await b.models.registerModel(modelRegistration('a'));
    const patient = await b.patients.upsertPatient({ labId: 'MRN-1' });
    const row = await b.cases.createCase(newCase(patient.id, 'BM-1'));
    const files = [1, 2].map((n) => ({ relativePath: `${n}.jpg`, sha256: sha(n), bytes: 1, width: 1, height: 1, importError: null }));
    const [one, two] = (await b.images.insertImages(row.id, files)).inserted.map((i) => i.id);
    await b.cases.beginAnalysis({ caseId: row.id, modelRowId: model.id, actor: 'tech' });
    // Both workers listed the same unclassified images (a read), then stored what they classified.
    expect((await b.images.listImagesNeedingPrediction(row.id, model.id)).map((i) => i.id)).toEqual([one, two]);
    const { b: fromB } = await race(
      url,
      (r) => r.predictions.insertPredictions(model.id, [prediction(one!, 'BLA', 0.9)]),
      () => b.predictions.insertPredictions(model.id, [prediction(two!, 'LYT', 0.9), prediction(one!, 'LYT', 0.9)]),
    );
    const error = await expectRejection(Promise.reject(fromB), 'duplicate');
    expect(error.message).toContain(`Image ${one} already has a prediction of model model-a 1.0.0`);
    expect((await b.predictions.listPredictions(one!)).map((p) => p.predicted)).toEqual(['BLA']);
    expect(await b.predictions.listPredictions(two!)).toEqual([]);
  });
});
