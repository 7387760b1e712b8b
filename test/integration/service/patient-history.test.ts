// A patient's marrows over time through the real service (a real SQLite file and a real PostgreSQL database, the
// same tests on each; the tiny real ONNX model, real crops):
// ordering by specimen date, what counts as released, amended results, a patient with one case, and the refusals.
// Every case's labels are set by review decisions, so its counts are known exactly: k blasts (BLA) and the rest
// segmented neutrophils (NGS) over the 11 fixture cells, all in the NDC.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, SpecimenType } from '../../../src/shared/api';
import { newcombeDifferenceInterval } from '../../../src/shared/proportion-difference';
import { differentialOfSignOff } from '../../../src/main/service/patient-history-snapshot';
import { ServiceError } from '../../../src/main/service/errors';
import { runAsUser } from '../../../src/main/db';
import { ENGINES, REPO, startService, usePostgres, waitForAnalysis, type ServiceFixture, TEST_PERSON } from './helpers';
import { flat, pdfPages } from '../report/pdf-tools';

const CELLS = 11;
const pgSetup = usePostgres();

describe.each(ENGINES)('patient history on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  const ids: Record<string, number> = {};

  async function marrow(
    name: string,
    options: { labId: string; specimenDate?: string; blasts: number; sign: boolean; specimen?: SpecimenType; birthDate?: string },
  ): Promise<CaseDetail> {
    const created = await fx.service.createCase({
      patient: { labId: options.labId, ...(options.birthDate ? { birthDate: options.birthDate } : {}) },
      accession: `ACC-${name}`,
      specimen: options.specimen ?? 'bone_marrow_aspirate',
      folder: fx.caseFolder(name),
      ...(options.specimenDate ? { specimenDate: options.specimenDate } : {}),
    });
    await fx.service.startAnalysis(created.id);
    const progress = await waitForAnalysis(fx.service, created.id);
    if (progress.phase !== 'done') throw new Error(`analysis of ${name} ended ${progress.phase}`);
    await setBlasts(created.id, options.blasts);
    if (options.sign) await fx.service.authoriseCase({ caseId: created.id, password: TEST_PERSON.password });
    ids[name] = created.id;
    return fx.service.getCase(created.id);
  }

  /** Labels the first `blasts` cells BLA and the rest NGS, by review decisions. */
  async function setBlasts(caseId: number, blasts: number): Promise<void> {
    const { cells } = await fx.service.listCells({ caseId, scope: 'all', limit: 100 });
    expect(cells).toHaveLength(CELLS);
    const sorted = [...cells].sort((a, b) => a.imageId - b.imageId);
    for (const [i, cell] of sorted.entries()) {
      await fx.service.reviewCell({ caseId, imageId: cell.imageId, label: i < blasts ? 'BLA' : 'NGS' });
    }
  }

  beforeAll(async () => {
    fx = await startService('history', { engine, pg: pgSetup });
    // Created out of specimen order: the June marrow is entered last.
    await marrow('sept', { labId: 'MRN-H1', specimenDate: '2026-09-14', blasts: 3, sign: true, birthDate: '1961-02-03' });
    await marrow('nov', { labId: 'MRN-H1', specimenDate: '2026-11-20', blasts: 6, sign: true });
    await marrow('june', { labId: 'MRN-H1', specimenDate: '2026-06-01', blasts: 1, sign: true });
    // A draft dated between September and November, and a blood film of the same patient.
    await marrow('oct-draft', { labId: 'MRN-H1', specimenDate: '2026-10-01', blasts: 9, sign: false });
    await marrow('blood', { labId: 'MRN-H1', specimenDate: '2026-10-15', blasts: 0, sign: true, specimen: 'peripheral_blood' });
    // A patient with one case, entered without a specimen date.
    await marrow('single', { labId: 'MRN-H2', blasts: 2, sign: true });
  }, 120_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  it('lists every case of the patient by specimen date, not by the order they were entered', async () => {
    const history = await fx.service.getPatientHistory({ patientLabId: 'MRN-H1' });
    expect(history.patient).toEqual({ labId: 'MRN-H1', name: null, birthDate: '1961-02-03' });
    expect(history.marrows.map((m) => [m.accession, m.specimenDate, m.state])).toEqual([
      ['ACC-june', '2026-06-01', 'released'],
      ['ACC-sept', '2026-09-14', 'released'],
      ['ACC-oct-draft', '2026-10-01', 'draft'],
      ['ACC-blood', '2026-10-15', 'released'],
      ['ACC-nov', '2026-11-20', 'released'],
    ]);
    const sept = history.marrows[1]!;
    expect(sept.figures?.blast).toMatchObject({ count: 3, total: CELLS });
    expect(sept.figures?.blast.percentage).toBeCloseTo((3 / 11) * 100, 10);
    expect(sept.figures?.lineages.granulocytic).toMatchObject({ count: 8, total: CELLS });
    expect(sept).toMatchObject({ specimenDateSource: 'recorded', releasedBy: TEST_PERSON.displayName, releasedVersions: 1, amended: false });
    // The draft's figures are its current count, marked draft and not signed by anyone.
    expect(history.marrows[2]).toMatchObject({ releasedAt: null, releasedBy: null, figures: { blast: { count: 9 } } });
  });

  it('compares a case with the earlier released marrows only, newest first, in words', async () => {
    const history = await fx.service.getCaseHistory(ids['nov']!);
    // The October draft and the blood film are not earlier marrow results.
    expect(history.previous.map((m) => m.accession)).toEqual(['ACC-sept', 'ACC-june']);
    expect(history.current).toMatchObject({ accession: 'ACC-nov', figures: { blast: { count: 6, total: CELLS } } });
    const againstSept = history.comparisons[0]!;
    expect(againstSept.earlier.accession).toBe('ACC-sept');
    const expected = newcombeDifferenceInterval(6, CELLS, 3, CELLS);
    expect(againstSept.blast?.differencePoints).toBeCloseTo((3 / 11) * 100, 10);
    expect(againstSept.blast?.ci95Points.lower).toBeCloseTo(expected.lower * 100, 10);
    // 6/11 against 3/11 on 11 cells each: the interval contains 0, so the words must not call it a rise.
    expect(againstSept.blast?.verdict).toBe('not_distinguishable');
    expect(history.blastSentence).toMatch(
      /^Blasts 54\.5% against 27\.3%: not distinguishable from the count on 2026-09-14 at this cell count — count more cells to tell \(difference \+27\.3 points, 95% CI −\d+\.\d to \+\d+\.\d\)\.$/,
    );
    expect(againstSept.lineages.granulocytic?.verdict).toBe('not_distinguishable');
    // The tiny model has no plasma-cell class: nothing to compare rather than 0% against 0%.
    expect(againstSept.lineages.plasma).toBeNull();
    expect(history.comparisons[1]!.earlier.accession).toBe('ACC-june');
  });

  it('has no earlier result and no sentence for the first marrow, and for a patient with one case', async () => {
    const first = await fx.service.getCaseHistory(ids['june']!);
    expect(first).toMatchObject({ previous: [], comparisons: [], blastSentence: null });
    const single = await fx.service.getPatientHistory({ patientLabId: 'MRN-H2' });
    expect(single.marrows).toHaveLength(1);
    const only = await fx.service.getCaseHistory(ids['single']!);
    expect(only).toMatchObject({ previous: [], comparisons: [], blastSentence: null });
    // Entered without a specimen date: the creation day stands in, and the result says so.
    expect(single.marrows[0]!.specimenDateSource).toBe('case_created');
    expect(single.marrows[0]!.specimenDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('shows an amended case by its last released version while it is back in review, then by its new version', async () => {
    const sept = ids['sept']!;
    await fx.service.amendCase({ caseId: sept, reason: 'Two blasts were missed' });
    // The re-opened case is re-counted: 5 blasts now, not yet released.
    const { cells } = await fx.service.listCells({ caseId: sept, scope: 'all', limit: 100 });
    const sorted = [...cells].sort((a, b) => a.imageId - b.imageId);
    for (const cell of sorted.slice(3, 5)) await fx.service.reviewCell({ caseId: sept, imageId: cell.imageId, label: 'BLA' });

    let history = await fx.service.getPatientHistory({ patientLabId: 'MRN-H1' });
    let entry = history.marrows.find((m) => m.caseId === sept)!;
    expect(entry).toMatchObject({ state: 'reopened', status: 'in_review', amended: true, releasedVersions: 1, releasedBy: TEST_PERSON.displayName });
    expect(entry.figures?.blast.count).toBe(3);
    // November's comparison still uses September's released count, marked amended.
    let nov = await fx.service.getCaseHistory(ids['nov']!);
    expect(nov.previous[0]).toMatchObject({ accession: 'ACC-sept', state: 'reopened', amended: true, figures: { blast: { count: 3 } } });
    // September's own case view shows what is being counted now.
    const own = await fx.service.getCaseHistory(sept);
    expect(own.current.figures?.blast.count).toBe(5);
    expect(own.current.state).toBe('reopened');

    await fx.service.authoriseCase({ caseId: sept, password: TEST_PERSON.password });
    history = await fx.service.getPatientHistory({ patientLabId: 'MRN-H1' });
    entry = history.marrows.find((m) => m.caseId === sept)!;
    expect(entry).toMatchObject({ state: 'released', amended: true, releasedVersions: 2, releasedBy: TEST_PERSON.displayName });
    expect(entry.figures?.blast.count).toBe(5);
    nov = await fx.service.getCaseHistory(ids['nov']!);
    expect(nov.comparisons[0]!.blast?.differencePoints).toBeCloseTo((1 / 11) * 100, 10);
  });

  it('prints the earlier released results and the blast sentence on the report, and says when there are none', async () => {
    // Kept in test-results/ for a person to look at (pdftoppm -png -r 60).
    const saved = await fx.service.saveReport({ caseId: ids['nov']!, path: join(REPO, 'test-results', 'history', 'nov-report.pdf') });
    const text = flat(pdfPages(saved.path).join('\n'));
    expect(text).toContain('Previous marrows');
    const history = await fx.service.getCaseHistory(ids['nov']!);
    expect(text).toContain(history.blastSentence!);
    // The released earlier results are printed; the draft and the blood film are not.
    expect(text).toContain('ACC-june');
    expect(text).toContain('ACC-sept');
    expect(text).not.toContain('ACC-oct-draft');
    expect(text).not.toContain('ACC-blood');
    const first = flat(pdfPages((await fx.service.saveReport({ caseId: ids['june']!, path: join(fx.root, 'june.pdf') })).path).join('\n'));
    expect(first).toContain('No earlier released result of patient MRN-H1 to compare with.');
  });

  it('lists a released result whose stored sign-off cannot be read with the reason, and compares nothing with it', async () => {
    // A second writer stored a sign-off without the differential (the service never does).
    const db = await fx.store();
    const patient = await db.patients.upsertPatient({ labId: 'MRN-H3' });
    const damaged = await db.cases.createCase({
      patientId: patient.id,
      accession: 'ACC-damaged',
      specimen: 'bone_marrow_aspirate',
      folder: '/nowhere',
      actor: 'script',
    });
    await db.patientHistory.recordSpecimenDate({ caseId: damaged.id, collectedOn: '2026-01-05', actor: 'script' });
    await db.cases.setCaseStatus(damaged.id, 'analysing', 'script');
    await db.cases.setCaseStatus(damaged.id, 'in_review', 'script');
    // Once accounts exist, SQL takes a sign-off only from a logged-in pathologist: the writer acts as the test person.
    const [tester] = await fx.sql<{ id: number }>(`SELECT id FROM users WHERE login = ?`, [TEST_PERSON.login]);
    await runAsUser({ id: tester!.id, displayName: TEST_PERSON.displayName, roles: TEST_PERSON.roles }, () =>
      db.cases.signCase({ caseId: damaged.id, signedBy: TEST_PERSON.displayName, role: 'Pathologist', overrideReason: null, summarySnapshot: '{}' }),
    );
    await marrow('after-damaged', { labId: 'MRN-H3', specimenDate: '2026-02-01', blasts: 2, sign: false });
    const history = await fx.service.getPatientHistory({ patientLabId: 'MRN-H3' });
    expect(history.marrows[0]).toMatchObject({ accession: 'ACC-damaged', state: 'released', figures: null });
    expect(history.marrows[0]!.problem).toMatch(
      new RegExp(`^The result of case ACC-damaged signed by ${TEST_PERSON.displayName} .*its differential is not an object`),
    );
    const later = await fx.service.getCaseHistory(ids['after-damaged']!);
    expect(later.previous.map((m) => m.accession)).toEqual(['ACC-damaged']);
    expect(later.comparisons).toEqual([]);
    expect(later.blastSentence).toBeNull();
  });

  it('refuses an unknown patient, naming the identifier', async () => {
    await expect(fx.service.getPatientHistory({ patientLabId: 'NO-SUCH' })).rejects.toMatchObject({
      message: 'There is no patient with the identifier NO-SUCH.',
    });
  });

  it('refuses a specimen date in the future or before the patient was born, and saves nothing', async () => {
    const before = (await fx.service.listCases({ limit: 1000 })).length;
    const future = fx.service.createCase({
      patient: { labId: 'MRN-H1' },
      accession: 'ACC-future',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('future'),
      specimenDate: '2999-01-01',
    });
    await expect(future).rejects.toMatchObject({ kind: 'validation', field: 'specimenDate', message: expect.stringMatching(/2999-01-01 is in the future/) });
    const unborn = fx.service.createCase({
      patient: { labId: 'MRN-H1' },
      accession: 'ACC-unborn',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('unborn'),
      specimenDate: '1960-01-01',
    });
    await expect(unborn).rejects.toMatchObject({ field: 'specimenDate', message: expect.stringMatching(/before the patient's birth date \(1961-02-03\)/) });
    expect((await fx.service.listCases({ limit: 1000 })).length).toBe(before);
  });

  it('reads the released figures from the stored sign-off and names the field of a damaged one', () => {
    const signOff = {
      id: 1,
      caseId: 1,
      signedBy: 'Dr X',
      role: 'Consultant',
      signedAt: '2026-09-15T10:00:00.000Z',
      overrideReason: null,
      userId: null,
      validationSignatureId: null,
      authorisationSignatureId: null,
      interpretiveComment: null,
    };
    const good = {
      differential: {
        nucleatedDifferentialCount: 10,
        rows: [{ code: 'BLA', inNdc: true, lineage: 'blast', count: 2, percentOfNdc: 20 }],
        blast: { count: 2, percentage: 20, ci95: null },
        meRatio: { ratio: null },
      },
    };
    expect(differentialOfSignOff({ ...signOff, summarySnapshot: JSON.stringify(good) }, 'ACC-1').blast.count).toBe(2);
    const damaged = { differential: { ...good.differential, blast: { count: 'two', percentage: 20, ci95: null } } };
    let thrown: unknown;
    try {
      differentialOfSignOff({ ...signOff, summarySnapshot: JSON.stringify(damaged) }, 'ACC-1');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ServiceError);
    expect((thrown as ServiceError).kind).toBe('database');
    expect((thrown as ServiceError).message).toMatch(/case ACC-1 signed by Dr X .*differential\.blast\.count is not a whole number of cells/);
    expect(() => differentialOfSignOff({ ...signOff, summarySnapshot: '{' }, 'ACC-1')).toThrow(/not readable JSON/);
  });
});
