// Finding a folder's crops in other patients' cases and recording the confirmation (issue 21): the repository
// functions through the contract on both engines (postgres/images.ts runs the same SHARED_CROPS_SQL), and that SQL
// text itself on both, past the repositories: immutability and the CHECKs of migration 0010's table.
import { describe, expect, it } from 'vitest';
import { SHARED_CROPS_SQL } from '../../../src/main/db/images';
import { ENGINES, attempt, engineFactory, usePostgres, type SqlEngine } from './engines';
import { openTemp, sha } from './helpers';
import { addCase, addImages, expectRejection, storesForEngines } from './store-for-engine';

const setup = usePostgres();
const open = engineFactory(setup);
const stores = storesForEngines(setup);

describe('the images_content index', () => {
  it('finds images by content through it (SQLite plan)', () => {
    const { db } = openTemp();
    const plan = db.raw.prepare(`EXPLAIN QUERY PLAN ${SHARED_CROPS_SQL.find(2)}`).all(sha(1), sha(2), 1) as { detail: string }[];
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/SEARCH i USING INDEX images_content/);
  });
});

describe.each(ENGINES)('shared-crops repository functions on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    async function populated() {
      const s = await stores.openReposFor(engine);
      const a = await addCase(s, 'BM-A', 'MRN-A');
      await addImages(s, a.id, 5, 1); // sha(1..5)
      const b = await addCase(s, 'BM-B', 'MRN-B');
      await addImages(s, b.id, 5, 3); // sha(3..7)
      // A copy inside case B (stored as a duplicate) and a failed import: neither is a counted image of B.
      await s.images.insertImages(b.id, [
        { relativePath: 'copy.jpg', sha256: sha(3), bytes: 1000, width: 250, height: 250, importError: null },
        { relativePath: 'bad.jpg', sha256: sha(9), bytes: 10, width: null, height: null, importError: 'truncated JPEG' },
      ]);
      const a2 = await addCase(s, 'BM-A2', 'MRN-A');
      await addImages(s, a2.id, 1, 1);
      return { s, a, b, a2 };
    }

    it("names each other patient's case with the distinct contents it holds, and never the same patient's", async () => {
      const { s, a, b, a2 } = await populated();
      const newPatient = await s.patients.upsertPatient({ labId: 'MRN-NEW' });
      const wanted = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(sha);
      expect(await s.images.findCropsOfOtherPatients(newPatient.id, [...wanted, sha(3).toUpperCase()])).toEqual([
        {
          caseId: a.id,
          accession: 'BM-A',
          patientId: a.patientId,
          patientLabId: 'MRN-A',
          patientName: 'Ada Example',
          sha256s: [1, 2, 3, 4, 5].map(sha),
          sharedFiles: 5,
        },
        {
          caseId: b.id,
          accession: 'BM-B',
          patientId: b.patientId,
          patientLabId: 'MRN-B',
          patientName: 'Ada Example',
          sha256s: [3, 4, 5, 6, 7].map(sha),
          sharedFiles: 5,
        },
        { caseId: a2.id, accession: 'BM-A2', patientId: a.patientId, patientLabId: 'MRN-A', patientName: 'Ada Example', sha256s: [sha(1)], sharedFiles: 1 },
      ]);
      // Patient A's own cases (BM-A, BM-A2) are not "another patient": only B's shared contents are named.
      expect((await s.images.findCropsOfOtherPatients(a.patientId, wanted)).map((m) => [m.accession, m.sharedFiles])).toEqual([['BM-B', 5]]);
      // A failed import (sha 9) and a duplicate are not counted images: nothing found for them alone.
      expect(await s.images.findCropsOfOtherPatients(newPatient.id, [sha(9)])).toEqual([]);
      expect(await s.images.findCropsOfOtherPatients(newPatient.id, [])).toEqual([]);
      expect(await s.images.findCropsOfOtherPatients(newPatient.id, ['not a hash'])).toEqual([]);
    });

    it('counts right across statements when the folder has more hashes than one statement binds', async () => {
      const s = await stores.openReposFor(engine);
      const other = await addCase(s, 'BM-BIG', 'MRN-BIG');
      await addImages(s, other.id, 1200, 1); // sha(1..1200)
      const mine = await s.patients.upsertPatient({ labId: 'MRN-MINE' });
      const hashes = Array.from({ length: 2000 }, (_, i) => sha(i + 700)); // 700..2699: 501 shared, over several statements
      expect(await s.images.findCropsOfOtherPatients(mine.id, hashes)).toMatchObject([{ accession: 'BM-BIG', sharedFiles: 501 }]);
    });

    it('records one confirmation per other case and one audit row; refuses a blank reason or name', async () => {
      const { s, a, b, a2 } = await populated();
      const c = await addCase(s, 'BM-C', 'MRN-C');
      const matches = await s.images.findCropsOfOtherPatients(c.patientId, [1, 2, 3, 4, 5, 6, 7].map(sha));
      await expectRejection(s.images.recordSharedCropsConfirmations({ caseId: c.id, matches, reason: '  ', by: 'Tess Tech' }), 'constraint');
      const noName = await expectRejection(s.images.recordSharedCropsConfirmations({ caseId: c.id, matches, reason: 'Same slide', by: ' ' }), 'constraint');
      expect(noName.message).toMatch(/person confirming/);
      await s.images.recordSharedCropsConfirmations({ caseId: c.id, matches, reason: ' Same slide, study twin ', by: 'Tess Tech' });
      const recorded = { caseId: c.id, reason: 'Same slide, study twin', confirmedBy: 'Tess Tech' };
      expect(await s.images.listSharedCropsConfirmations(c.id)).toMatchObject([
        { ...recorded, otherCaseId: a.id, otherAccession: 'BM-A', otherPatientLabId: 'MRN-A', otherPatientName: 'Ada Example', sharedFiles: 5 },
        { ...recorded, otherCaseId: b.id, otherAccession: 'BM-B', otherPatientLabId: 'MRN-B', otherPatientName: 'Ada Example', sharedFiles: 5 },
        { ...recorded, otherCaseId: a2.id, otherAccession: 'BM-A2', otherPatientLabId: 'MRN-A', otherPatientName: 'Ada Example', sharedFiles: 1 },
      ]);
      const audit = (await s.audit.caseAuditLog(c.id)).filter((row) => row.action === 'shared_crops_confirmed');
      expect(audit).toMatchObject([
        {
          actor: 'Tess Tech',
          detail: {
            reason: 'Same slide, study twin',
            otherCases: [
              { caseId: a.id, sharedFiles: 5 },
              { caseId: b.id, sharedFiles: 5 },
              { caseId: a2.id, sharedFiles: 1 },
            ],
          },
        },
      ]);
      expect(await s.images.listSharedCropsConfirmations(a.id)).toEqual([]);
    });
  });
});

async function insertId(e: SqlEngine, sql: string, params: readonly unknown[]): Promise<number> {
  const rows = await e.query<{ id: number }>(`${sql} RETURNING id`, params);
  return Number(rows[0]!.id);
}

async function caseOf(e: SqlEngine, labId: string, accession: string, hashes: number[]): Promise<{ patientId: number; caseId: number }> {
  const found = await e.query<{ id: number }>('SELECT id FROM patients WHERE lab_id = ?', [labId]);
  const patientId =
    found[0] !== undefined
      ? Number(found[0].id)
      : await insertId(e, `INSERT INTO patients (lab_id, name, created_at, updated_at) VALUES (?, ?, 't', 't')`, [labId, `Name ${labId}`]);
  const caseId = await insertId(e, `INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES (?, ?, 'other', '/c', 't')`, [
    patientId,
    accession,
  ]);
  for (const n of hashes) {
    await e.query(`INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES (?, ?, ?, 1, 't')`, [caseId, `cell-${n}.jpg`, sha(n)]);
  }
  return { patientId, caseId };
}

describe.each(ENGINES)('the shared-crops SQL on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && setup.unavailable !== null)('as written in images.ts', () => {
    it("finds other patients' images by content, records confirmations, and never changes or deletes one", async () => {
      const e = await open(engine);
      const a = await caseOf(e, 'MRN-A', 'BM-A', [1, 2, 3]);
      const b = await caseOf(e, 'MRN-B', 'BM-B', [2, 3, 4]);
      await caseOf(e, 'MRN-A', 'BM-A2', [4]);
      await e.query(`INSERT INTO images (case_id, relative_path, sha256, bytes, import_error, created_at) VALUES (?, 'bad.jpg', ?, 1, 'broken', 't')`, [
        b.caseId,
        sha(5),
      ]);
      const hashes = [1, 2, 3, 4, 5].map(sha);
      const rows = await e.query<{ sha256: string; case_id: number; accession: string; lab_id: string; name: string }>(SHARED_CROPS_SQL.find(hashes.length), [
        ...hashes,
        a.patientId,
      ]);
      // Patient A's own cases are left out; B's failed import (sha 5) is not a counted image.
      expect(rows.map((r) => [r.accession, r.lab_id, r.name, r.sha256, Number(r.case_id)]).sort()).toEqual(
        [2, 3, 4].map((n) => ['BM-B', 'MRN-B', 'Name MRN-B', sha(n), b.caseId]),
      );

      const c = await caseOf(e, 'MRN-C', 'BM-C', []);
      await e.query(SHARED_CROPS_SQL.insert, [c.caseId, a.caseId, 3, 'Same slide', 'Tess Tech', '2026-12-05T00:00:00.000Z']);
      await e.query(SHARED_CROPS_SQL.insert, [c.caseId, b.caseId, 2, 'Same slide', 'Tess Tech', '2026-12-05T00:00:00.000Z']);
      const listed = await e.query<Record<string, unknown>>(SHARED_CROPS_SQL.list, [c.caseId]);
      expect(listed.map((r) => [Number(r['other_case_id']), r['accession'], r['lab_id'], Number(r['shared_files']), r['reason'], r['confirmed_by']])).toEqual([
        [a.caseId, 'BM-A', 'MRN-A', 3, 'Same slide', 'Tess Tech'],
        [b.caseId, 'BM-B', 'MRN-B', 2, 'Same slide', 'Tess Tech'],
      ]);

      const changed = await attempt(e, () => e.query(`UPDATE shared_crops_confirmations SET reason = 'other' WHERE case_id = ?`, [c.caseId]));
      expect([changed?.kind, changed?.message]).toEqual(['constraint', expect.stringMatching(/never changed/)]);
      const deleted = await attempt(e, () => e.query('DELETE FROM shared_crops_confirmations WHERE case_id = ?', [c.caseId]));
      expect([deleted?.kind, deleted?.message]).toEqual(['constraint', expect.stringMatching(/never deleted/)]);
      const blank = await attempt(e, () => e.query(SHARED_CROPS_SQL.insert, [c.caseId, a.caseId, 1, '  ', 'Tess Tech', 't']));
      expect(blank?.kind).toBe('constraint');
      const itself = await attempt(e, () => e.query(SHARED_CROPS_SQL.insert, [c.caseId, c.caseId, 1, 'r', 'Tess Tech', 't']));
      expect(itself?.kind).toBe('constraint');
    });
  });
});
