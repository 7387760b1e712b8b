// Issue 21, "the same crops, another patient", through the real service and its boundary: a folder whose crops (by
// content) are already imported images of another patient's case is refused with a message naming that case and
// patient; with a confirmation {reason} the case is made and the confirmation recorded, per other case, under the
// session's person. Same patient: no warning. The files are real crops, analysed by the tiny real model.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody, MarrowApi, NewCaseInput } from '../../../src/shared/api';
import { caseAuditLog, closeDatabase, openDatabase } from '../../../src/main/db';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { toApiError } from '../../../src/main/service/errors';
import { analysedFixtureCase, loggedInApi, PERSON_PASSWORD, startService, TRUE_LABELS, waitForAnalysis, type ServiceFixture } from './helpers';

const CROPS = Object.keys(TRUE_LABELS).length;
let fx: ServiceFixture;

beforeAll(async () => {
  fx = await startService('shared-crops');
});
afterAll(async () => {
  await fx.dispose();
});

async function refusal(promise: Promise<unknown>): Promise<ApiErrorBody> {
  const outcome = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(outcome, 'expected a refusal').not.toBeNull();
  return toApiError(outcome);
}

/** The very same files (same bytes) as `folder`, in a new folder: what a technician picks by mistake. */
function sameCrops(folder: string, name: string, only?: (file: string) => boolean): string {
  const target = join(fx.root, 'same', name);
  mkdirSync(target, { recursive: true });
  cpSync(folder, target, { recursive: true, filter: (source) => only === undefined || !/\.(jpe?g|png)$/i.test(source) || only(source) });
  return target;
}

const input = (labId: string, accession: string, folder: string, extra: Partial<NewCaseInput> = {}): NewCaseInput => ({
  patient: { labId },
  accession,
  specimen: 'bone_marrow_aspirate',
  folder,
  ...extra,
});

function readDatabase<T>(fn: (db: ReturnType<typeof openDatabase>) => T): T {
  const db = openDatabase(join(fx.root, 'data', 'marrowcount.sqlite'), { readonly: true });
  try {
    return fn(db);
  } finally {
    closeDatabase(db);
  }
}

describe("a case whose crops are another patient's case", () => {
  let first: { id: number; accession: string; folder: string };

  beforeAll(async () => {
    const { detail } = await analysedFixtureCase(fx, 'first');
    first = detail;
    await fx.service.correctPatientName({ caseId: detail.id, name: 'Ann Alpha', reason: 'name added for the test' });
  });

  it('is refused as shared_crops, naming the other case, its patient and the shared files, and nothing is saved', async () => {
    const folder = sameCrops(first.folder, 'refused');
    const refused = await refusal(fx.service.createCase({ ...input('MRN-OTHER', 'ACC-REFUSED', folder), patient: { labId: 'MRN-OTHER', name: 'Bob Beta' } }));
    expect(refused.kind).toBe('shared_crops');
    expect(refused.field).toBe('confirmSharedCrops');
    expect(refused.message).toBe(
      `The crops in ${folder} are already filed under another patient: case ${first.accession} of patient MRN-first (Ann Alpha) holds ${CROPS} of the folder's ${CROPS} files. ` +
        'Check the folder and the patient identifier. If these images really belong to this patient too, give the reason and create the case anyway: the confirmation is recorded with your name.',
    );
    // Rolled back with the case: neither the case nor the new patient exists.
    expect(await fx.service.listCases({ search: 'ACC-REFUSED' })).toEqual([]);
    readDatabase((db) => {
      expect(db.raw.prepare(`SELECT count(*) AS n FROM patients WHERE lab_id = 'MRN-OTHER'`).get()).toEqual({ n: 0 });
      expect(db.raw.prepare('SELECT count(*) AS n FROM shared_crops_confirmations').get()).toEqual({ n: 0 });
    });
  });

  it('does not warn for another case of the same patient, and records nothing', async () => {
    const again = await fx.service.createCase(input('MRN-first', 'ACC-FIRST-AGAIN', sameCrops(first.folder, 'same-patient')));
    expect(again.sharedCrops).toEqual([]);
  });

  it('counts only the files the other case holds when the folder shares some of them', async () => {
    const folder = sameCrops(first.folder, 'partly', (file) => file.includes('BLA_') || file.includes('EOS_'));
    const shared = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(jpe?g|png)$/.test(f)).length;
    expect(shared).toBe(4);
    const refused = await refusal(fx.service.createCase(input('MRN-PART', 'ACC-PART', folder)));
    expect(refused.message).toContain(`case ${first.accession} of patient MRN-first (Ann Alpha) holds 4 of the folder's 4 files`);
  });

  it("is created with a confirmation, which is recorded per other case with the session's person, the reason and the count", async () => {
    // A second case of another patient holds the same crops too, confirmed earlier: the next one names both.
    const folder2 = sameCrops(first.folder, 'second');
    const second = await (
      await fx.as('Tess Tech')
    ).createCase(input('MRN-SECOND', 'ACC-SECOND', folder2, { confirmSharedCrops: { reason: 'Study twin of the same slide' } }));
    expect(second.sharedCrops).toMatchObject([
      {
        otherCaseId: first.id,
        otherAccession: first.accession,
        otherPatientLabId: 'MRN-first',
        otherPatientName: 'Ann Alpha',
        sharedFiles: CROPS,
        reason: 'Study twin of the same slide',
        confirmedBy: 'Tess Tech',
      },
    ]);
    // Only analysed images count as "the crops of a case": analyse the second one so that the third sees two cases.
    await fx.service.startAnalysis(second.id);
    for (;;) {
      const progress = await fx.service.getAnalysisProgress(second.id);
      if (progress !== null && progress.phase !== 'importing' && progress.phase !== 'classifying') break;
      await new Promise((r) => setTimeout(r, 50));
    }

    const folder3 = sameCrops(first.folder, 'third');
    const refused = await refusal(fx.service.createCase(input('MRN-THIRD', 'ACC-THIRD', folder3)));
    expect(refused.message).toContain(
      `case ${first.accession} of patient MRN-first (Ann Alpha) holds ${CROPS} of the folder's ${CROPS} files; case ACC-SECOND of patient MRN-SECOND (no name on record) holds ${CROPS}`,
    );
    // Identity from the session: a confirmedBy in the request is refused at the boundary (every transport's path)…
    const forged = await dispatch(fx.service, 'createCase', [
      input('MRN-THIRD', 'ACC-THIRD', folder3, { confirmSharedCrops: { reason: 'x', confirmedBy: 'Dr Somebody' } as unknown as { reason: string } }),
    ]);
    expect(forged).toMatchObject({ ok: false, error: { kind: 'validation', field: 'confirmSharedCrops.confirmedBy' } });

    // …and never taken from an in-process caller: the session's person is recorded.
    const third = await fx.service.createCase(
      input('MRN-THIRD', 'ACC-THIRD', folder3, {
        confirmSharedCrops: { reason: '  Re-scan for the teaching set  ', confirmedBy: 'Dr Somebody' } as unknown as { reason: string },
      }),
    );
    expect(third.sharedCrops.map((s) => [s.otherAccession, s.otherPatientLabId, s.sharedFiles, s.reason, s.confirmedBy])).toEqual([
      [first.accession, 'MRN-first', CROPS, 'Re-scan for the teaching set', 'Test Person'],
      ['ACC-SECOND', 'MRN-SECOND', CROPS, 'Re-scan for the teaching set', 'Test Person'],
    ]);
    expect((await fx.service.getCase(third.id)).sharedCrops).toEqual(third.sharedCrops);
    readDatabase((db) => {
      const person = (db.raw.prepare(`SELECT id FROM users WHERE login = 'tester'`).get() as { id: number }).id;
      const audit = caseAuditLog(db, third.id).filter((row) => row.action === 'shared_crops_confirmed');
      expect(audit).toMatchObject([
        {
          actor: 'Test Person',
          userId: person,
          detail: {
            reason: 'Re-scan for the teaching set',
            otherCases: [
              { caseId: first.id, sharedFiles: CROPS },
              { caseId: second.id, sharedFiles: CROPS },
            ],
          },
        },
      ]);
    });
  });

  it('refuses a confirmation without a reason at the boundary, and in the service, naming the field', async () => {
    const folder = sameCrops(first.folder, 'blank');
    for (const confirmSharedCrops of [{ reason: '   ' }, { reason: '' }, {}, { reason: 7 }]) {
      const args = [input('MRN-BLANK', 'ACC-BLANK', folder, { confirmSharedCrops: confirmSharedCrops as { reason: string } })];
      const refused = await dispatch(fx.service, 'createCase', args);
      expect(refused, JSON.stringify(confirmSharedCrops)).toMatchObject({ ok: false, error: { kind: 'validation', field: 'confirmSharedCrops.reason' } });
      const inProcess = await refusal(fx.service.createCase(args[0]!));
      expect([inProcess.kind, inProcess.field], JSON.stringify(confirmSharedCrops)).toEqual(['validation', 'confirmSharedCrops.reason']);
    }
    expect(await fx.service.listCases({ search: 'ACC-BLANK' })).toEqual([]);
  });

  it('lets whoever may create the case confirm (a technician); one who may not create it is refused as before', async () => {
    const technician: MarrowApi = await loggedInApi(fx.host, {
      login: 'tina',
      displayName: 'Tina Technician',
      password: PERSON_PASSWORD,
      roles: ['technician'],
    });
    const made = await technician.createCase(
      input('MRN-TECH', 'ACC-TECH', sameCrops(first.folder, 'tech'), { confirmSharedCrops: { reason: 'Same slide, second patient of a pair' } }),
    );
    expect(made.sharedCrops.map((s) => [s.otherAccession, s.confirmedBy])).toEqual([
      [first.accession, 'Tina Technician'],
      ['ACC-SECOND', 'Tina Technician'],
    ]);
    const pathologist = await loggedInApi(fx.host, { login: 'pat', displayName: 'Pat Pathologist', password: PERSON_PASSWORD, roles: ['pathologist'] });
    const refused = await refusal(
      pathologist.createCase(input('MRN-PATH', 'ACC-PATH', sameCrops(first.folder, 'path'), { confirmSharedCrops: { reason: 'r' } })),
    );
    expect(refused.kind).toBe('forbidden');
  });

  it("holds back files that arrive later: a crop of another patient's case added to the folder is a failed file, never counted", async () => {
    // A case of another patient from its own crops (no warning), then one of the first case's files is added to its folder.
    const folder = fx.caseFolder('later');
    const later = await fx.service.createCase(input('MRN-LATER', 'ACC-LATER', folder));
    expect(later.sharedCrops).toEqual([]);
    cpSync(join(first.folder, 'BLA_00001.jpg'), join(folder, 'added-BLA.jpg'));
    await fx.service.startAnalysis(later.id);
    expect((await waitForAnalysis(fx.service, later.id)).phase).toBe('done');
    const detail = await fx.service.getCase(later.id);
    expect(detail.cellCount).toBe(CROPS);
    expect(detail.importFailures).toEqual([
      {
        file: 'added-BLA.jpg',
        reason: `The same image is in case ${first.accession} of another patient, MRN-first (Ann Alpha), and this case has no confirmation that the crops belong to both; it is not classified or counted. Remove it from the folder, or make a new case of the folder with the confirmation and its reason.`,
      },
    ]);
  });

  it('holds back the crops of the second of two cases made from one folder before either was analysed', async () => {
    const folder = fx.caseFolder('twice');
    const one = await fx.service.createCase(input('MRN-ONE', 'ACC-ONE', folder));
    const two = await fx.service.createCase(input('MRN-TWO', 'ACC-TWO', folder));
    expect([one.sharedCrops, two.sharedCrops]).toEqual([[], []]);
    await fx.service.startAnalysis(one.id);
    expect((await waitForAnalysis(fx.service, one.id)).phase).toBe('done');
    await fx.service.startAnalysis(two.id);
    expect((await waitForAnalysis(fx.service, two.id)).phase).toBe('done');
    const [a, b] = await Promise.all([fx.service.getCase(one.id), fx.service.getCase(two.id)]);
    expect([a.cellCount, a.importFailures]).toEqual([CROPS, []]);
    expect(b.cellCount).toBe(0);
    expect(b.importFailures).toHaveLength(CROPS);
    for (const failure of b.importFailures) expect(failure.reason).toMatch(/^The same image is in case ACC-ONE of another patient, MRN-ONE, /);
  });

  it('imports the crops a confirmation covers: the confirmed case is analysed in full', async () => {
    const made = await fx.service.createCase(
      input('MRN-CONFIRMED', 'ACC-CONFIRMED', sameCrops(first.folder, 'confirmed'), { confirmSharedCrops: { reason: 'Paired sample' } }),
    );
    await fx.service.startAnalysis(made.id);
    expect((await waitForAnalysis(fx.service, made.id)).phase).toBe('done');
    const detail = await fx.service.getCase(made.id);
    expect([detail.cellCount, detail.importFailures]).toEqual([CROPS, []]);
  });
});
