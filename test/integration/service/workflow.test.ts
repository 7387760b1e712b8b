// The whole life of a case through the real service: a real SQLite file and a real PostgreSQL database (the same
// tests on each engine), the tiny real ONNX model, real crops.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarrowApiError, type ApiErrorBody, type CaseDetail, type CellView } from '../../../src/shared/api';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import type { Differential } from '../../../src/shared/differential';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { ENGINES, startService, TEST_PERSON, TRUE_LABELS, usePostgres, waitForAnalysis, type ServiceFixture } from './helpers';

const pgSetup = usePostgres();

async function rejection(promise: Promise<unknown>): Promise<ApiErrorBody> {
  const result = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(result, 'expected the call to fail').not.toBeNull();
  // Service errors are mapped the way every transport maps them.
  const { toApiError } = await import('../../../src/main/service/errors');
  return toApiError(result);
}

describe.each(ENGINES)('a case from folder to signed report through the service on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  let created: CaseDetail;
  let allCells: CellView[];
  // Who reviews and signs is the session's person (helpers: one test person holding every role).
  const reviewer = TEST_PERSON.displayName;

  beforeAll(async () => {
    fx = await startService('service-workflow', { engine, pg: pgSetup });
    created = await fx.service.createCase({
      patient: { labId: 'MRN-0001', name: 'Test Patient', birthDate: '1960-02-29' },
      accession: 'BM-2026-0001',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('case-a'),
    });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('creates the case in the importing state with its patient', () => {
    expect(created.status).toBe('importing');
    expect(created.patientLabId).toBe('MRN-0001');
    expect(created.patientBirthDate).toBe('1960-02-29');
    expect(created.model).toBeNull();
    expect(created.signOffs).toEqual([]);
  });

  it('analyses every crop in a worker and moves the case to review', async () => {
    const first = await fx.service.startAnalysis(created.id);
    expect(first.caseId).toBe(created.id);
    const last = await waitForAnalysis(fx.service, created.id);
    expect(last.phase).toBe('done');
    expect(last.done).toBe(11);
    expect(last.total).toBe(11);
    const detail = await fx.service.getCase(created.id);
    expect(detail.status).toBe('in_review');
    expect(detail.cellCount).toBe(11);
    expect(detail.model?.id).toBe('tiny-test');
    // The tiny fixture's model.json does not say researchOnly: false, so it is research-only like any such model.
    expect(detail.model?.researchOnly).toBe(true);
    expect(detail.analysedAt).not.toBeNull();
  });

  it('lists the classified cells with image URLs built by the transport', async () => {
    const page = await fx.service.listCells({ caseId: created.id, scope: 'all', limit: 50 });
    expect(page.total).toBe(11);
    allCells = page.cells;
    expect(new Set(allCells.map((c) => c.file))).toEqual(new Set(Object.keys(TRUE_LABELS)));
    for (const cell of allCells) {
      expect(cell.imageUrl).toBe(`marrowcell://cell/${created.id}/${cell.imageId}`);
      expect(cell.top).toHaveLength(2);
      expect(cell.top[0]!.probability).toBeGreaterThanOrEqual(cell.top[1]!.probability);
      expect(cell.top[0]!.code).toBe(cell.predicted);
      expect(cell.decision).toBeNull();
      expect(cell.effectiveLabel).toBe(cell.predicted);
    }
  });

  it('refuses sign-off while flagged cells are unreviewed, saying how many', async () => {
    const detail = await fx.service.getCase(created.id);
    // The tiny model's random weights are rarely confident, so most cells fall below the 0.6 confidence floor.
    const flagged = allCells.filter((c) => c.flagged).length;
    expect(flagged).toBeGreaterThan(1);
    expect(detail.flaggedUnreviewed).toBe(flagged);
    expect((await fx.service.listCells({ caseId: created.id, scope: 'unreviewed' })).total).toBe(flagged);
    const error = await rejection(fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: created.id }));
    expect(error.kind).toBe('unreviewed');
    expect(error.message).toContain(`${flagged} flagged cells are still unreviewed`);
    expect((await fx.service.getCase(created.id)).status).toBe('in_review');
  });

  it('counts reviewers’ labels, not the model’s, once every cell is reviewed to its true class', async () => {
    for (const cell of allCells) {
      const label = TRUE_LABELS[cell.file] as CellClassCode;
      const view = await fx.service.reviewCell({ caseId: created.id, imageId: cell.imageId, label });
      expect(view.effectiveLabel).toBe(label);
      expect(view.predicted).toBe(cell.predicted);
      expect(view.decision?.reviewer).toBe(reviewer);
    }
    const { differential, review } = await fx.service.getDifferential(created.id);
    // True classes: ART, NIF (excluded from the NDC) + BLA×2, EOS×2, LYT×2, MON, NGS, PMO = 9 nucleated cells.
    expect(differential.nucleatedDifferentialCount).toBe(9);
    expect(differential.totalCellsCounted).toBe(11);
    expect(differential.blast.count).toBe(2);
    expect(differential.blast.percentage).toBeCloseTo((2 / 9) * 100, 10);
    const excluded = Object.fromEntries(differential.excluded.map((e) => [e.code, e.count]));
    expect(excluded).toEqual({ ART: 1, NIF: 1, KSC: 0 });
    const eos = differential.rows.find((r) => r.code === 'EOS');
    expect(eos?.count).toBe(2);
    expect(eos?.percentOfNdc).toBeCloseTo((2 / 9) * 100, 10);
    expect(review.flagged).toBe(allCells.filter((c) => c.flagged).length);
    expect(review.flaggedReviewed).toBe(review.flagged);
    expect(review.reviewed).toBe(11);
  });

  it('undo withdraws the latest decision and the cell counts as predicted again', async () => {
    const cell = allCells[0]!;
    const undone = await fx.service.undoReview({ caseId: created.id, imageId: cell.imageId });
    expect(undone.decision).toBeNull();
    expect(undone.effectiveLabel).toBe(cell.predicted);
    expect((await fx.service.getCase(created.id)).flaggedUnreviewed).toBe(cell.flagged ? 1 : 0);
    const noMore = await rejection(fx.service.undoReview({ caseId: created.id, imageId: cell.imageId }));
    expect(noMore.kind).toBe('not_found');
    const [confirmed] = await fx.service.confirmCells({ caseId: created.id, imageIds: [cell.imageId] });
    expect(confirmed?.decision?.label).toBe(cell.predicted);
    expect(confirmed?.effectiveLabel).toBe(cell.predicted);
  });

  it('refuses a review of a cell that belongs to no such case', async () => {
    const error = await rejection(fx.service.reviewCell({ caseId: created.id, imageId: 999_999, label: 'BLA' }));
    expect(error.kind).toBe('not_found');
    expect(error.field).toBe('imageId');
    const noCase = await rejection(fx.service.getDifferential(424_242));
    expect(noCase.kind).toBe('not_found');
  });

  it('signs once everything is reviewed, storing who, when and no override', async () => {
    const signed = await fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: created.id });
    expect(signed.status).toBe('signed');
    expect(signed.signedBy).toBe(TEST_PERSON.displayName);
    expect(signed.signOffs).toHaveLength(1);
    expect(signed.signOffs[0]).toMatchObject({ role: 'Pathologist', overrideReason: null });
    const list = await fx.service.listCases({ search: 'BM-2026-0001' });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'signed', signedBy: TEST_PERSON.displayName, cellCount: 11, flaggedUnreviewed: 0 });
    expect(list[0]!.blastPercentage).toBeCloseTo((2 / 9) * 100, 10);
  });

  it('stores the differential as signed beside the sign-off', async () => {
    const [signOff] = await (await fx.store()).cases.listSignOffs(created.id);
    const snapshot = JSON.parse(signOff!.summarySnapshot) as { differential: Differential; unreviewedFlaggedAtSigning: number };
    expect(snapshot.differential.nucleatedDifferentialCount).toBe(9);
    expect(snapshot.differential.blast.count).toBe(2);
    expect(snapshot.unreviewedFlaggedAtSigning).toBe(0);
  });

  it('locks a signed case against reviews, undo and a second sign-off', async () => {
    const cell = allCells[1]!;
    expect((await rejection(fx.service.reviewCell({ caseId: created.id, imageId: cell.imageId, label: 'MON' }))).kind).toBe('locked');
    expect((await rejection(fx.service.confirmCells({ caseId: created.id, imageIds: [cell.imageId] }))).kind).toBe('locked');
    expect((await rejection(fx.service.undoReview({ caseId: created.id, imageId: cell.imageId }))).kind).toBe('locked');
    expect((await rejection(fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: created.id }))).kind).toBe('locked');
    expect((await rejection(fx.service.startAnalysis(created.id))).kind).toBe('locked');
  });

  it('saves the signed PDF report in the reports folder', async () => {
    const saved = await fx.service.saveReport({ caseId: created.id });
    expect(saved.path).toBe(join(fx.root, 'reports', 'BM-2026-0001.pdf'));
    expect(saved.bytes).toBeGreaterThan(1000);
    expect(readFileSync(saved.path).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const json = await fx.service.exportCase({ caseId: created.id, format: 'json' });
    expect(existsSync(json.path)).toBe(true);
    const refused = await rejection(fx.service.saveReport({ caseId: created.id, path: join(fx.root, 'evil.sh') }));
    expect(refused).toMatchObject({ kind: 'validation', field: 'path' });
  });

  it('re-opens on amendment with the reason kept, then accepts reviews again', async () => {
    const amended = await fx.service.amendCase({ caseId: created.id, reason: 'Second look at the blasts' });
    expect(amended.status).toBe('in_review');
    expect(amended.amendments).toEqual([expect.objectContaining({ by: TEST_PERSON.displayName, reason: 'Second look at the blasts' })]);
    expect(amended.signOffs).toHaveLength(1);
    const cell = allCells[1]!;
    const view = await fx.service.reviewCell({ caseId: created.id, imageId: cell.imageId, label: 'MON' });
    expect(view.effectiveLabel).toBe('MON');
    const notSigned = await rejection(fx.service.amendCase({ caseId: created.id, reason: 'y' }));
    expect(notSigned.kind).toBe('conflict');
  });
});

describe.each(ENGINES)('sign-off with an override on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  beforeAll(async () => {
    fx = await startService('service-override', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('signs with unreviewed flagged cells when the reviewer gives a reason, and records it', async () => {
    const c = await fx.service.createCase({ patient: { labId: 'MRN-2' }, accession: 'BM-2', specimen: 'bone_marrow_aspirate', folder: fx.caseFolder('b') });
    await fx.service.startAnalysis(c.id);
    expect((await waitForAnalysis(fx.service, c.id)).phase).toBe('done');
    const refused = await rejection(fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: c.id }));
    expect(refused.kind).toBe('unreviewed');
    // In-process callers (the CLI) reach the service without the IPC/HTTP argument check.
    const blankReason = await rejection(fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: c.id, overrideReason: '   ' }));
    expect(blankReason.kind).toBe('unreviewed');
    expect((await fx.service.getCase(c.id)).status).toBe('in_review');
    const signed = await fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: c.id, overrideReason: 'Urgent: clinician called' });
    expect(signed.status).toBe('signed');
    const flagged = (await fx.service.listCells({ caseId: c.id, scope: 'flagged' })).total;
    expect(flagged).toBeGreaterThan(0);
    expect(signed.flaggedUnreviewed).toBe(flagged);
    expect(signed.signOffs[0]?.overrideReason).toBe('Urgent: clinician called');
  });
});

describe('arguments checked at the boundary (the path IPC and HTTP calls take)', () => {
  let fx: ServiceFixture;
  let folder: string;
  beforeAll(async () => {
    fx = await startService('service-validation');
    folder = fx.caseFolder('v');
  });
  afterAll(async () => {
    await fx.dispose();
  });

  const newCase = (over: Record<string, unknown> = {}, patient: Record<string, unknown> = { labId: 'MRN-9' }) => ({
    patient,
    accession: 'ACC-9',
    specimen: 'bone_marrow_aspirate',
    folder,
    ...over,
  });

  async function failure(method: Parameters<typeof dispatch>[1], args: unknown[]): Promise<ApiErrorBody> {
    const result = await dispatch(fx.service, method, args);
    if (result.ok) throw new Error(`${method} unexpectedly succeeded`);
    return result.error;
  }

  it('names the patient ID when it is missing or blank', async () => {
    expect(await failure('createCase', [newCase({}, { labId: '   ' })])).toMatchObject({ kind: 'validation', field: 'patient.labId' });
    expect(await failure('createCase', [newCase({}, {})])).toMatchObject({ kind: 'validation', field: 'patient.labId' });
  });

  it('names the accession number when it is missing', async () => {
    expect(await failure('createCase', [newCase({ accession: '' })])).toMatchObject({ kind: 'validation', field: 'accession' });
  });

  it('names the folder when it does not exist, is a file or is relative', async () => {
    const missing = await failure('createCase', [newCase({ folder: join(fx.root, 'nope') })]);
    expect(missing).toMatchObject({ kind: 'validation', field: 'folder' });
    expect(missing.message).toContain('does not exist');
    expect(await failure('createCase', [newCase({ folder: join(folder, 'BLA_00001.jpg') })])).toMatchObject({ kind: 'validation', field: 'folder' });
    expect(await failure('createCase', [newCase({ folder: 'relative/path' })])).toMatchObject({ kind: 'validation', field: 'folder' });
  });

  it('refuses a folder with no cell images in it or its subfolders, and saves nothing', async () => {
    const empty = join(fx.root, 'no-crops');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    writeFileSync(join(empty, 'labels.csv'), 'file,label\n');
    const before = await fx.service.listCases({});
    const refused = await failure('createCase', [newCase({ folder: empty, accession: 'EMPTY-1' })]);
    expect(refused).toMatchObject({ kind: 'validation', field: 'folder' });
    expect(refused.message).toContain(`${empty} holds no cell images`);
    expect(await fx.service.listCases({})).toHaveLength(before.length);
  });

  it('refuses a second case with the same accession number, naming the field', async () => {
    const first = await dispatch(fx.service, 'createCase', [newCase({ accession: 'DUP-1' })]);
    expect(first.ok).toBe(true);
    expect(await failure('createCase', [newCase({ accession: ' DUP-1 ' })])).toMatchObject({ kind: 'conflict', field: 'accession' });
  });

  it('leaves the patient as it was when the new case is refused', async () => {
    // The patient has no name or birth date on record, so the refused case's would have filled them.
    const first = await dispatch(fx.service, 'createCase', [newCase({ accession: 'DUP-2' }, { labId: 'MRN-10' })]);
    if (!first.ok) throw new Error(first.error.message);
    const refused = await failure('createCase', [newCase({ accession: 'DUP-2' }, { labId: 'MRN-10', name: 'Roe, Richard', birthDate: '1990-12-31' })]);
    expect(refused).toMatchObject({ kind: 'conflict', field: 'accession' });
    expect(await fx.service.getCase((first.value as CaseDetail).id)).toMatchObject({ patientName: null, patientBirthDate: null });
  });

  it('rejects unknown fields, malformed dates, unknown specimens and class codes', async () => {
    expect(await failure('createCase', [newCase({ extra: 1 })])).toMatchObject({ kind: 'validation', field: 'case.extra' });
    expect(await failure('createCase', [newCase({}, { labId: 'M', birthDate: '1999-02-30' })])).toMatchObject({ field: 'patient.birthDate' });
    expect(await failure('createCase', [newCase({ specimen: 'urine' })])).toMatchObject({ field: 'specimen' });
    expect(await failure('reviewCell', [{ caseId: 1, imageId: 1, label: 'XYZ' }])).toMatchObject({ field: 'label' });
  });

  it('requires positive whole-number ids, and refuses a person named in the request (identity comes from the session)', async () => {
    expect(await failure('getCase', [0])).toMatchObject({ field: 'caseId' });
    expect(await failure('getCase', [1.5])).toMatchObject({ field: 'caseId' });
    expect(await failure('getCase', ['1'])).toMatchObject({ field: 'caseId' });
    expect(await failure('reviewCell', [{ caseId: 1, imageId: -3, label: 'BLA' }])).toMatchObject({ field: 'imageId' });
    expect(await failure('confirmCells', [{ caseId: 1, imageIds: [1, 0] }])).toMatchObject({ field: 'imageIds[1]' });
    // The fields through which a caller could once name anyone are unknown fields now.
    expect(await failure('reviewCell', [{ caseId: 1, imageId: 3, label: 'BLA', reviewer: 'Dr Other' }])).toMatchObject({ field: 'review.reviewer' });
    expect(await failure('confirmCells', [{ caseId: 1, imageIds: [1], reviewer: 'Dr Other' }])).toMatchObject({ field: 'confirmation.reviewer' });
    expect(await failure('undoReview', [{ caseId: 1, imageId: 1, reviewer: 'Dr Other' }])).toMatchObject({ field: 'undo.reviewer' });
    expect(await failure('authoriseCase', [{ caseId: 1, password: 'x', reviewer: 'Dr Other', role: 'Consultant' }])).toMatchObject({
      field: 'authorisation.reviewer',
    });
    expect(await failure('submitCase', [{ caseId: 1, password: 'x', signedBy: 'Dr Other' }])).toMatchObject({ field: 'submission.signedBy' });
    expect(await failure('amendCase', [{ caseId: 1, by: 'Dr Other', reason: 'r' }])).toMatchObject({ field: 'amendment.by' });
    expect(await failure('approveLabModel', [{ labModelId: 1, approvedBy: 'Dr Other', role: 'x', reason: 'r' }])).toMatchObject({
      field: 'approval.approvedBy',
    });
    expect(await failure('importLabModel', [{ path: '/x.json', importedBy: 'Dr Other' }])).toMatchObject({ field: 'import.importedBy' });
    expect(await failure('trainLabModel', [{ trainedBy: 'Dr Other' }])).toMatchObject({ field: 'training.trainedBy' });
    expect(await failure('saveSettings', [{ labName: '', reviewerName: 'Dr Other', reviewerRole: '' }])).toMatchObject({ field: 'settings.reviewerName' });
  });

  it('refuses extra arguments and caps text length', async () => {
    expect(await failure('getSettings', [1])).toMatchObject({ field: 'args' });
    expect(await failure('amendCase', [{ caseId: 1, reason: 'r'.repeat(1001) }])).toMatchObject({ field: 'reason' });
  });

  it('refuses control and text-direction characters in names, so a signer cannot print as someone else', async () => {
    // "Dr \u202Ehtims" prints as "Dr smith" read backwards: a name that displays unlike what was stored.
    // Names are given once, when an administrator creates the account; every signature prints that name.
    for (const name of ['Dr \u202Ehtims', 'A\u2066B', 'Ann\u0085', 'Ann\nLee']) {
      expect(await failure('createUser', [{ login: 'someone', displayName: name, roles: ['pathologist'], password: 'long-enough-1' }])).toMatchObject({
        field: 'displayName',
      });
    }
    // Right-to-left letters themselves are names like any other.
    const result = await dispatch(fx.service, 'createUser', [{ login: 'dana', displayName: 'דנה כהן', roles: ['pathologist'], password: 'long-enough-1' }]);
    expect(result.ok).toBe(true);
  });

  it('trims text before storing it', async () => {
    const result = await dispatch(fx.service, 'saveSettings', [{ labName: '  Haematology Lab  ' }]);
    expect(result).toEqual({ ok: true, value: { labName: 'Haematology Lab' } });
  });

  it('answers the About dialog with the model, its card status and the data attributions', async () => {
    const about = await fx.service.getAbout();
    expect(about.model?.id).toBe('tiny-test');
    expect(about.appVersion).toBe('0.0.0-test');
    expect(about.attributions.some((a) => a.includes('Matek'))).toBe(true);
    expect(about.databasePath).toBe(join(fx.root, 'data', 'marrowcount.sqlite'));
  });

  it('turns client errors into MarrowApiError with the kind and field intact', () => {
    const error = new MarrowApiError({ kind: 'validation', message: 'm', field: 'folder' });
    expect([error.kind, error.field]).toEqual(['validation', 'folder']);
  });
});
