// The lab-model repository (LabModelRepository of contract.ts) on both engines: SQLite through sqliteStore over
// db/lab-models.ts, PostgreSQL through db/postgres/lab-models.ts. Each test starts from the copy fixture (a signed,
// amended case with reviews and embeddings, a case in review, an approved lab model lab-1) written by the real
// synchronous functions; PostgreSQL gets it through `db copy`. The same calls must give the same rows, refusals and
// audit entries on both; on PostgreSQL two stations approving at once leave one model in force.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, runAsUser, type DatabaseError } from '../../../src/main/db';
import type { AuditRepository, LabModelRepository } from '../../../src/main/db/contract';
import { copySqliteToPostgres } from '../../../src/main/db/copy-to-postgres';
import { pgAuditRepository } from '../../../src/main/db/postgres/audit';
import { closePostgresDatabase, openPostgresDatabase, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgLabModelRepository } from '../../../src/main/db/postgres/lab-models';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { buildCopyFixture, labModelInput, type CopyFixture } from './copy-fixture';
import { ENGINES, usePostgres, type EngineName } from './engines';
import { tempDir, track } from './helpers';

const pgSetup = usePostgres();
const pgDatabases: PostgresDatabase[] = [];
afterEach(async () => {
  for (const db of pgDatabases.splice(0)) await closePostgresDatabase(db);
});

interface Engine {
  fx: CopyFixture;
  labModels: LabModelRepository;
  audit: AuditRepository;
  url: string | null;
}

async function openEngine(name: EngineName, fx: CopyFixture = buildCopyFixture(join(tempDir(), 'station.sqlite'))): Promise<Engine> {
  if (name === 'sqlite') {
    const store = sqliteStore(track(openDatabase(fx.path)));
    return { fx, labModels: store.labModels, audit: store.audit, url: null };
  }
  const url = await pgSetup.freshUrl();
  await copySqliteToPostgres(fx.path, url);
  const db = await openPostgresDatabase(url);
  pgDatabases.push(db);
  return { fx, labModels: pgLabModelRepository({ db, client: null }), audit: pgAuditRepository({ db, client: null }), url };
}

async function refusal(p: Promise<unknown>): Promise<DatabaseError> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: DatabaseError) => e,
  );
}

const PATHOLOGIST = { id: 2, displayName: 'Dr Bo', roles: ['pathologist'] };

describe.each(ENGINES)('lab-model repository on %s', (engineName) => {
  describe.skipIf(engineName === 'postgres' && pgSetup.unavailable !== null)('through the contract', () => {
    it('stores a lab model pending with its models row, once; lists, counts and finds it', async () => {
      const { fx, labModels, audit } = await openEngine(engineName);
      const stored = await labModels.storeLabModel(labModelInput(fx.modelRowId, 2));
      expect([stored.status, stored.model.modelId, stored.model.version, stored.model.classes, stored.baseModel.id]).toEqual([
        'pending',
        'model-a+lab',
        'lab-2',
        ['BLA', 'LYT', 'NGS', 'EBO'],
        fx.modelRowId,
      ]);
      expect([stored.head.temperature, stored.cases, stored.minimumPerClass, stored.validation, stored.trainedBy]).toEqual([
        1.25,
        [
          { accession: 'BM-SIGNED', cells: 6, fold: 'train' },
          { accession: 'BM-OTHER', cells: 2, fold: 'test' },
        ],
        5,
        { lab: { macroF1: 0.81 }, base: { macroF1: 0.78 }, note: 'fixture' },
        'Dr Lab',
      ]);
      const again = await refusal(labModels.storeLabModel(labModelInput(fx.modelRowId, 2)));
      expect([again.kind, again.message]).toEqual(['duplicate', expect.stringMatching(/^This lab model \([0-9a-f]{12}…\) is already stored/)]);
      expect(await labModels.countLabModels()).toBe(2);
      expect((await labModels.listLabModels()).map((m) => [m.model.version, m.status])).toEqual([
        ['lab-2', 'pending'],
        ['lab-1', 'approved'],
      ]);
      expect(await labModels.getLabModel(stored.id)).toEqual(stored);
      expect(await labModels.labModelOfModelRow(stored.model.id)).toEqual(stored);
      expect(await labModels.labModelOfModelRow(fx.modelRowId)).toBeNull();
      expect((await refusal(labModels.getLabModel(999))).kind).toBe('not_found');
      const log = (await audit.listAuditLog()).filter((e) => e.action === 'lab_model_stored' || e.action === 'model_registered').slice(0, 2);
      expect(log.map((e) => [e.action, e.actor])).toEqual([
        ['lab_model_stored', 'Dr Lab'],
        ['model_registered', 'Dr Lab'],
      ]);
      expect(log[0]!.detail).toEqual({ labModelId: stored.id, modelRowId: stored.model.id, version: 'lab-2', imported: false, cases: 2 });
    });

    it('approves only a pending model while none is in force, retires only an approved one, and records who', async () => {
      const { fx, labModels, audit } = await openEngine(engineName);
      const lab2 = await labModels.storeLabModel(labModelInput(fx.modelRowId, 2));
      const inForce = await refusal(labModels.approveLabModel({ labModelId: lab2.id, by: 'Dr Bo', role: 'pathologist', reason: 'better' }));
      expect([inForce.kind, inForce.message]).toEqual(['constraint', 'Lab model lab-1 is approved and in force; retire it before approving lab-2.']);
      const notApproved = await refusal(labModels.retireLabModel({ labModelId: lab2.id, by: 'Dr Bo', reason: 'x' }));
      expect(notApproved.message).toBe('Lab model lab-2 is pending; only an approved lab model can be retired.');

      const retired = await runAsUser(PATHOLOGIST, () => labModels.retireLabModel({ labModelId: fx.labModelId, by: 'Dr Bo', reason: 'superseded' }));
      expect([retired.status, retired.retiredBy, retired.retiredReason]).toEqual(['retired', 'Dr Bo', 'superseded']);
      const approved = await runAsUser(PATHOLOGIST, () =>
        labModels.approveLabModel({ labModelId: lab2.id, by: 'Dr Bo', role: 'pathologist', reason: 'validated on held-out cases' }),
      );
      expect([approved.status, approved.approvedBy, approved.approvedRole, approved.approvedReason]).toEqual([
        'approved',
        'Dr Bo',
        'pathologist',
        'validated on held-out cases',
      ]);
      const twice = await refusal(labModels.approveLabModel({ labModelId: lab2.id, by: 'Dr Bo', role: 'pathologist', reason: 'again' }));
      expect(twice.message).toBe('Lab model lab-2 is approved; only a pending lab model can be approved.');
      const retiredAgain = await refusal(labModels.approveLabModel({ labModelId: fx.labModelId, by: 'Dr Bo', role: 'pathologist', reason: 'back' }));
      expect(retiredAgain.message).toBe('Lab model lab-1 is retired; only a pending lab model can be approved.');

      const log = (await audit.listAuditLog()).filter((e) => e.action === 'lab_model_approved' || e.action === 'lab_model_retired');
      expect(log.slice(0, 2).map((e) => [e.action, e.actor, e.detail, e.userId])).toEqual([
        ['lab_model_approved', 'Dr Bo', { labModelId: lab2.id, role: 'pathologist', reason: 'validated on held-out cases' }, PATHOLOGIST.id],
        ['lab_model_retired', 'Dr Bo', { labModelId: fx.labModelId, reason: 'superseded' }, PATHOLOGIST.id],
      ]);
    });

    it('reads the training material: the decisions in force of signed cases with the base model embeddings', async () => {
      const { fx, labModels } = await openEngine(engineName);
      const summary = await labModels.reviewedCellsOfSignedCases(fx.modelRowId);
      expect([summary.signedCases, summary.reviewedInUnsignedCases]).toEqual([1, 1]);
      // Decisions in force on the signed case: two LYT before the amendment, NGS after it; the undone BLA is not one.
      expect(summary.cells.map((c) => [c.accession, c.label, c.basePredicted])).toEqual([
        ['BM-SIGNED', 'LYT', 'BLA'],
        ['BM-SIGNED', 'LYT', 'LYT'],
        ['BM-SIGNED', 'NGS', 'BLA'],
      ]);
      expect(summary.cells[0]!.embedding).toHaveLength(16);
      expect(summary.cells[0]!.baseProbabilities).toHaveLength(4);
      expect((await labModels.reviewedCellsOfSignedCases(999)).cells).toEqual([]);
    });
  });
});

describe.skipIf(pgSetup.unavailable !== null)('lab models on PostgreSQL beside SQLite', () => {
  it('gives the same rows as SQLite for the same stored data', async () => {
    const fx = buildCopyFixture(join(tempDir(), 'station.sqlite'));
    const sqlite = await openEngine('sqlite', fx);
    const postgres = await openEngine('postgres', fx);
    expect(await postgres.labModels.listLabModels()).toEqual(await sqlite.labModels.listLabModels());
    expect(await postgres.labModels.getLabModel(fx.labModelId)).toEqual(await sqlite.labModels.getLabModel(fx.labModelId));
    const [a, b] = [await sqlite.labModels.reviewedCellsOfSignedCases(fx.modelRowId), await postgres.labModels.reviewedCellsOfSignedCases(fx.modelRowId)];
    expect(b).toEqual(a);
    expect(Array.from(b.cells[2]!.embedding)).toEqual(Array.from(a.cells[2]!.embedding));
  });

  it('leaves one model in force when two stations approve two models of one base at once (rounds)', async () => {
    const { fx, url } = await openEngine('postgres');
    const stations = [await openPostgresDatabase(url!, { maxConnections: 2 }), await openPostgresDatabase(url!, { maxConnections: 2 })];
    pgDatabases.push(...stations);
    const [a, b] = stations.map((db) => pgLabModelRepository({ db, client: null })) as [LabModelRepository, LabModelRepository];
    let inForce = fx.labModelId;
    for (let round = 0; round < 4; round++) {
      await a.retireLabModel({ labModelId: inForce, by: 'Dr Bo', reason: `round ${round}` });
      const first = await a.storeLabModel(labModelInput(fx.modelRowId, 10 + 2 * round));
      const second = await b.storeLabModel(labModelInput(fx.modelRowId, 11 + 2 * round));
      const outcomes = await Promise.allSettled([
        a.approveLabModel({ labModelId: first.id, by: 'Dr A', role: 'pathologist', reason: 'a' }),
        b.approveLabModel({ labModelId: second.id, by: 'Dr B', role: 'pathologist', reason: 'b' }),
      ]);
      const won = outcomes.filter((o): o is PromiseFulfilledResult<Awaited<ReturnType<LabModelRepository['approveLabModel']>>> => o.status === 'fulfilled');
      expect({ round, approved: won.length }).toEqual({ round, approved: 1 });
      const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toMatchObject({
        kind: 'constraint',
        message: expect.stringMatching(/^Lab model lab-\d+ is approved and in force; retire it before approving lab-\d+\.$/),
      });
      inForce = won[0]!.value.id;
      expect((await a.listLabModels()).filter((m) => m.status === 'approved').map((m) => m.id)).toEqual([inForce]);
    }
  });
});
