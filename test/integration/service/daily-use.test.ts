// Issue 24 (daily use) at the service: what the screens rely on, with the real service on a real SQLite file and on a
// real PostgreSQL database (the same tests), and the tiny real ONNX model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { DEFAULT_REVIEW_LAYOUT } from '../../../src/shared/review-layout';
import { analysedFixtureCase, ENGINES, type ServiceFixture, startService, TEST_PERSON, usePostgres } from './helpers';

const pgSetup = usePostgres();

describe.each(ENGINES)('daily use at the service on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;

  beforeAll(async () => {
    fx = await startService('daily-use', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('undoes, with no cell named, the reviewer’s own latest decision still in force, walking back one at a time', async () => {
    const { detail, cells } = await analysedFixtureCase(fx, 'undo-own');
    const [a, b, c] = [cells[0]!, cells[1]!, cells[2]!];
    // Each person's own decisions, from their own session.
    const alex = await fx.as('Alex');
    const sam = await fx.as('Sam');
    await alex.reviewCell({ caseId: detail.id, imageId: a.imageId, label: 'ART' });
    await alex.reviewCell({ caseId: detail.id, imageId: b.imageId, label: 'ART' });
    await sam.reviewCell({ caseId: detail.id, imageId: c.imageId, label: 'ART' });

    const first = await alex.undoReview({ caseId: detail.id });
    expect(first.imageId).toBe(b.imageId);
    expect(first.decision).toBeNull();
    const second = await alex.undoReview({ caseId: detail.id });
    expect(second.imageId).toBe(a.imageId);
    // Sam's decision is not Alex's to undo: nothing of Alex's is left, and Sam's stays.
    const refused = await dispatch(alex, 'undoReview', [{ caseId: detail.id }]);
    expect(refused).toMatchObject({ ok: false, error: { kind: 'not_found', field: 'imageId' } });
    // Naming someone else in the request is refused at the boundary: the person is the session's.
    expect(await dispatch(alex, 'undoReview', [{ caseId: detail.id, reviewer: 'Sam' }])).toMatchObject({
      ok: false,
      error: { kind: 'validation', field: 'undo.reviewer' },
    });
    expect(
      (await fx.service.listCells({ caseId: detail.id, scope: 'all', limit: 100 })).cells.find((cell) => cell.imageId === c.imageId)?.decision?.reviewer,
    ).toBe('Sam');
  });

  it('refuses a review layout with a key conflict, naming the class, and records an accepted change in the audit log', async () => {
    await fx.service.saveSettings({ labName: '' });
    const layout = await fx.service.getReviewLayout();
    expect(layout).toEqual(DEFAULT_REVIEW_LAYOUT);
    const conflict = await dispatch(fx.service, 'saveReviewLayout', [{ ...layout, keys: { ...layout.keys, NGS: 'b' } }]);
    expect(conflict).toMatchObject({ ok: false, error: { kind: 'validation', field: 'keys.NGS', message: expect.stringContaining('BLA and NGS') } });
    const command = await dispatch(fx.service, 'saveReviewLayout', [{ ...layout, keys: { ...layout.keys, NGS: 'v' } }]);
    expect(command).toMatchObject({ ok: false, error: { kind: 'validation', field: 'keys.NGS' } });
    const saved = await fx.service.saveReviewLayout({ ...layout, keys: { ...layout.keys, NGS: '9' }, hidden: ['HAC'] });
    expect(saved.keys.NGS).toBe('9');
    const [row] = await (await fx.store()).audit.listAuditLog({ limit: 1 });
    expect(row).toMatchObject({
      actor: TEST_PERSON.displayName,
      action: 'review_layout_changed',
      detail: { keys: { NGS: { from: 's', to: '9' } }, hidden: { from: [], to: ['HAC'] } },
    });
  });

  it('corrects a patient’s stored name with a reason, audited against the case, and refuses it without one', async () => {
    await fx.service.saveSettings({ labName: '' });
    const created = await fx.service.createCase({
      patient: { labId: 'MRN-NAME-1', name: 'Jnae Doe' },
      accession: 'ACC-NAME-1',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('name-1'),
    });
    const refused = await dispatch(fx.service, 'correctPatientName', [{ caseId: created.id, name: 'Jane Doe', reason: '  ' }]);
    expect(refused).toMatchObject({ ok: false, error: { kind: 'validation', field: 'reason' } });
    expect((await fx.service.getCase(created.id)).patientName).toBe('Jnae Doe');
    const corrected = await fx.service.correctPatientName({ caseId: created.id, name: ' Jane  Doe ', reason: 'typing error at registration' });
    expect(corrected.patientName).toBe('Jane Doe');
    // A new case of the same patient now matches the corrected name, and the old one is a mismatch.
    const again = await dispatch(fx.service, 'createCase', [
      { patient: { labId: 'MRN-NAME-1', name: 'Jnae Doe' }, accession: 'ACC-NAME-2', specimen: 'bone_marrow_aspirate', folder: fx.caseFolder('name-2') },
    ]);
    expect(again).toMatchObject({ ok: false, error: { kind: 'conflict', field: 'patient.name' } });
    const row = (await (await fx.store()).audit.listAuditLog()).find((r) => r.action === 'patient_name_corrected');
    expect(row).toMatchObject({
      actor: TEST_PERSON.displayName,
      caseId: created.id,
      detail: { labId: 'MRN-NAME-1', from: 'Jnae Doe', to: 'Jane Doe', reason: 'typing error at registration' },
    });
  });

  it('finds cells by part of their file name, case-insensitive, within the scope, with the total of the matches', async () => {
    const { detail } = await analysedFixtureCase(fx, 'find-file');
    const bySlide = await fx.service.listCells({ caseId: detail.id, scope: 'all', file: 'SLIDE-2/', limit: 2 });
    expect(bySlide.total).toBe(3);
    expect(bySlide.cells).toHaveLength(2);
    expect(bySlide.cells.every((cell) => cell.file.startsWith('slide-2/'))).toBe(true);
    const one = await fx.service.listCells({ caseId: detail.id, scope: 'all', file: 'eos_00002' });
    expect(one.cells.map((cell) => cell.file)).toEqual(['slide-2/EOS_00002.png']);
    const none = await fx.service.listCells({ caseId: detail.id, scope: 'all', file: 'no-such-file' });
    expect(none).toEqual({ cells: [], total: 0 });
    // Within the scope: the flagged scope holds only flagged matches.
    const flagged = await fx.service.listCells({ caseId: detail.id, scope: 'flagged', file: 'slide-2/' });
    expect(flagged.cells.every((cell) => cell.flagged)).toBe(true);
    expect(flagged.total).toBe(flagged.cells.length);
  });
});
