// The lab model end to end through the real service, the real reference model (marrowcount-ref with embeddings) and
// real databases (SQLite files and PostgreSQL databases, the same tests on each): the demo case's 300 marrow crops are dealt into cases, analysed, reviewed to their true labels
// (labels.csv) and signed; a head is trained on them in the worker thread, validated by case, approved, used to
// re-analyse a case, exported to a second database, and retired. Every refused step leaves the database unchanged.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { copyCropDistinctly } from '../../helpers/distinct-crops';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import { classificationMetrics } from '../../../src/shared/lab-head';
import type { ApiErrorBody, CaseDetail, LabModelDetail } from '../../../src/shared/api';
import { toApiError } from '../../../src/main/service/errors';
import { locateReportFonts } from '../../../src/main/report/fonts';
import { renderLabModelCardPdf } from '../../../src/main/report/lab-model-card';
import { flat, pdfPages } from '../report/pdf-tools';
import { ENGINES, REPO, startService, usePostgres, waitForAnalysis, TEST_PERSON, type ServiceFixture } from './helpers';

const pgSetup = usePostgres();

const MODEL_DIR = join(REPO, 'resources/models/marrowcount-ref');
const DEMO = join(REPO, 'resources/demo/case-001');
const TRUTH: ReadonlyMap<string, CellClassCode> = new Map(
  readFileSync(join(DEMO, 'labels.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, label] = line.split(',');
      return [file!, label as CellClassCode];
    }),
);
const FILES = [...TRUTH.keys()].sort();

/**
 * Every table's rows, to show that a refused step stored nothing. In the first column's order: PostgreSQL returns
 * rows in no set order without ORDER BY (an update moves a row), where SQLite's scan happens to follow the rowid.
 */
async function tableContents(db: Pick<ServiceFixture, 'engine' | 'sql'>): Promise<string> {
  const list =
    db.engine === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
      : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
  const tables = (await db.sql<{ name: string }>(list)).map((t) => t.name);
  const contents: string[] = [];
  for (const t of tables) contents.push(`${t}:${JSON.stringify(await db.sql(`SELECT * FROM "${t}" ORDER BY 1`))}`);
  return contents.join('\n');
}

/** The refusal as every transport carries it (kind, message, field). */
async function refusal(promise: Promise<unknown>): Promise<ApiErrorBody> {
  try {
    await promise;
  } catch (e) {
    return toApiError(e);
  }
  throw new Error('expected a refusal');
}

describe.each(ENGINES)("lab model trained from the lab's reviewed cells on %s", (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  const cases: CaseDetail[] = [];

  async function caseOf(name: string, files: readonly string[]): Promise<CaseDetail> {
    const folder = join(fx.root, 'cases', name);
    mkdirSync(folder, { recursive: true });
    // Each case its own copies (same pixels, other bytes): the cases are different patients' (issue 21's shared-crops rule).
    for (const f of files) copyCropDistinctly(join(DEMO, f), join(folder, f), name);
    const created = await fx.service.createCase({ patient: { labId: `MRN-${name}` }, accession: name, specimen: 'bone_marrow_aspirate', folder });
    await fx.service.startAnalysis(created.id);
    expect((await waitForAnalysis(fx.service, created.id)).phase).toBe('done');
    return fx.service.getCase(created.id);
  }

  /** Reviews every cell to its true label, as the expert would: confirm the right ones, reclassify the rest. */
  async function reviewAll(caseId: number): Promise<void> {
    const { cells } = await fx.service.listCells({ caseId, scope: 'all', limit: 1000 });
    const right = cells.filter((c) => c.predicted === TRUTH.get(c.file));
    await fx.service.confirmCells({ caseId, imageIds: right.map((c) => c.imageId) });
    for (const c of cells.filter((x) => x.predicted !== TRUTH.get(x.file))) {
      await fx.service.reviewCell({ caseId, imageId: c.imageId, label: TRUTH.get(c.file)! });
    }
  }

  const sign = (caseId: number) => fx.service.authoriseCase({ password: TEST_PERSON.password, caseId });

  beforeAll(async () => {
    fx = await startService('lab-model', { modelDir: MODEL_DIR, engine, pg: pgSetup });
    // Four cases of 75 cells, as four smears of one lab would be.
    for (let i = 0; i < 4; i++) cases.push(await caseOf(`LAB-${i + 1}`, FILES.slice(i * 75, (i + 1) * 75)));
    for (const c of cases) await reviewAll(c.id);
  }, 300_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  it('refuses to train on reviewed cells of unsigned cases only, naming why, and stores nothing', async () => {
    const before = await tableContents(fx);
    const error = await refusal(fx.service.trainLabModel({}));
    expect(error.kind).toBe('conflict');
    expect(error.message).toMatch(/300 reviewed cells are all in cases not signed/);
    expect(await tableContents(fx)).toBe(before);
    expect(await fx.service.getLabModelTrainingProgress()).toBeNull();
  });

  it('refuses with two signed cases (no case left to test on) and with too few cells per class', async () => {
    await sign(cases[0]!.id);
    await sign(cases[1]!.id);
    const before = await tableContents(fx);
    const twoCases = await refusal(fx.service.trainLabModel({}));
    expect(twoCases.message).toMatch(/at least 3 signed cases.*there are 2/);
    await sign(cases[2]!.id);
    await sign(cases[3]!.id);
    const afterSigning = await tableContents(fx);
    expect(afterSigning).not.toBe(before);
    const tooFew = await refusal(fx.service.trainLabModel({ minimumPerClass: 500 }));
    expect(tooFew.kind).toBe('conflict');
    expect(tooFew.message).toMatch(/at least 500 reviewed cells.*none does.*NGS \d+/);
    expect(await tableContents(fx)).toBe(afterSigning);
  });

  let lab: LabModelDetail;

  it('cancels a training: nothing is stored, and the progress says cancelled', async () => {
    const before = await tableContents(fx);
    await fx.service.trainLabModel({ minimumPerClass: 10 });
    const second = await refusal(fx.service.trainLabModel({ minimumPerClass: 10 }));
    expect(second.message).toMatch(/already being trained/);
    // The cancel flag is set before the worker has started: it stops at its first mini-batch.
    await fx.service.cancelLabModelTraining();
    const ended = await fx.service.whenLabModelTrained();
    expect(ended.phase).toBe('cancelled');
    expect(ended.labModelId).toBeNull();
    expect((await fx.service.getLabModelTrainingProgress())?.phase).toBe('cancelled');
    expect(await tableContents(fx)).toBe(before);
  }, 60_000);

  it('trains in the worker with progress, and stores a pending lab model validated on cases it never trained on', async () => {
    const started = await fx.service.trainLabModel({ minimumPerClass: 10 });
    expect(started.phase).toBe('training');
    expect(started.cells).toBe(300);
    expect(started.cases).toBe(4);
    const done = await fx.service.whenLabModelTrained();
    expect(done.phase, done.message ?? '').toBe('done');
    expect(done.fraction).toBe(1);
    lab = await fx.service.getLabModel(done.labModelId!);
    expect(lab.status).toBe('pending');
    expect(lab.version).toBe('lab-1');
    expect(lab.trainedBy).toBe(TEST_PERSON.displayName);
    expect(lab.baseModel.sha256).toBe(JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')).sha256);

    // By case: every signed case is in exactly one fold, each fold has a case, and the cell counts add up.
    const folds = lab.validation.folds;
    expect(folds.map((f) => f.caseKey).sort()).toEqual(['LAB-1', 'LAB-2', 'LAB-3', 'LAB-4']);
    for (const fold of ['train', 'calibration', 'test'] as const) expect(folds.some((f) => f.fold === fold)).toBe(true);
    expect(folds.reduce((a, f) => a + f.cells, 0)).toBe(300);
    expect(lab.cases.map((c) => c.accession).sort()).toEqual(['LAB-1', 'LAB-2', 'LAB-3', 'LAB-4']);

    // Learned classes are exactly those with >= 10 reviewed cells in the training cases.
    const trainCases = new Set(folds.filter((f) => f.fold === 'train').map((f) => f.caseKey));
    const trainCounts = new Map<string, number>();
    cases.forEach((c, i) => {
      if (!trainCases.has(c.accession)) return;
      for (const f of FILES.slice(i * 75, (i + 1) * 75)) trainCounts.set(TRUTH.get(f)!, (trainCounts.get(TRUTH.get(f)!) ?? 0) + 1);
    });
    const expected = [...trainCounts.entries()]
      .filter(([, n]) => n >= 10)
      .map(([c]) => c)
      .sort();
    expect(lab.classes).toEqual(expected);

    // The base model's side of the comparison, recomputed here from its stored predictions of the test cases' cells.
    const testIndex = cases.map((c, i) => ({ c, i })).filter(({ c }) => folds.find((f) => f.caseKey === c.accession)!.fold === 'test');
    const truth: CellClassCode[] = [];
    const basePredicted: CellClassCode[] = [];
    for (const { c } of testIndex) {
      const { cells } = await fx.service.listCells({ caseId: c.id, scope: 'all', limit: 1000 });
      for (const cell of cells) {
        truth.push(TRUTH.get(cell.file)!);
        basePredicted.push(cell.predicted);
      }
    }
    const base = classificationMetrics(truth, basePredicted, lab.classes, { outsideTruth: 'count' });
    expect(lab.validation.base.macroF1).toBeCloseTo(base.macroF1, 10);
    expect(lab.validation.base.cells).toBe(base.cells);
    expect(lab.validation.lab.cells).toBe(base.cells);
    expect(lab.validation.testCellsOfUnlearnedClasses).toBe(truth.length - base.cells);
    expect(lab.validation.lab.confusion.flat().reduce((a, n) => a + n, 0)).toBe(truth.length);
    expect(lab.validation.base.confusion).toEqual(base.confusion);
    expect(lab.validation.calibration.temperature).toBeGreaterThan(0);
    expect(lab.validation.openSet).not.toBeNull();
    expect(lab.labMacroF1).toBe(lab.validation.lab.macroF1);
  }, 120_000);

  it('writes the model card PDF with the comparison and provenance', async () => {
    const saved = await fx.service.saveLabModelCard({ labModelId: lab.id, path: join(fx.root, 'card.pdf') });
    const text = flat(pdfPages(saved.path).join('\n'));
    expect(text).toContain('Model card: Lab model lab-1');
    expect(text).toContain(`lab model ${lab.validation.lab.macroF1.toFixed(3)}, base model ${lab.validation.base.macroF1.toFixed(3)}`);
    expect(text).toContain(`Trained by ${TEST_PERSON.displayName}`);
    expect(text).toContain('not approved');
  });

  it('warns on the model card, as where it is approved, when the lab model scores below the base model', async () => {
    const withScores = (labF1: number, baseF1: number): LabModelDetail => ({
      ...lab,
      validation: { ...lab.validation, lab: { ...lab.validation.lab, macroF1: labF1 }, base: { ...lab.validation.base, macroF1: baseF1 } },
    });
    const cardText = async (detail: LabModelDetail, name: string): Promise<string> => {
      const path = join(fx.root, name);
      writeFileSync(path, await renderLabModelCardPdf(detail, { fonts: locateReportFonts(), appVersion: 'test', generatedAt: '2026-12-04T00:00:00Z' }));
      return flat(pdfPages(path).join('\n'));
    };
    expect(await cardText(withScores(0.61, 0.74), 'worse.pdf')).toContain('the lab model scores below the base model (macro-F1 0.610 against 0.740)');
    expect(await cardText(withScores(0.8, 0.74), 'better.pdf')).not.toContain('scores below the base model');
  });

  let fifth: CaseDetail;

  it('will not analyse with a pending lab model; approval names who, role and why, and only once', async () => {
    fifth = await caseOf('NEW-5', FILES.slice(0, 60));
    const before = await tableContents(fx);
    const pending = await refusal(fx.service.analyseWithLabModel({ caseId: fifth.id, labModelId: lab.id }));
    expect(pending.kind).toBe('conflict');
    expect(pending.message).toMatch(/lab-1 is pending; only an approved lab model analyses cases/);
    expect(await tableContents(fx)).toBe(before);

    const approved = await fx.service.approveLabModel({ labModelId: lab.id, reason: 'Macro-F1 above base on held-out cases' });
    expect(approved.status).toBe('approved');
    expect([approved.approvedBy, approved.approvedRole, approved.approvedReason]).toEqual([
      TEST_PERSON.displayName,
      'Pathologist',
      'Macro-F1 above base on held-out cases',
    ]);
    const after = await tableContents(fx);
    const again = await refusal(fx.service.approveLabModel({ labModelId: lab.id, reason: 'again' }));
    expect(again.message).toMatch(/only a pending lab model can be approved/);
    expect(await tableContents(fx)).toBe(after);
  }, 60_000);

  it('re-analyses a case with the lab model beside the base predictions, and the report names the lab model', async () => {
    const baseBefore = (await fx.service.listCells({ caseId: fifth.id, scope: 'all', limit: 1000 })).cells;
    const detail = await fx.service.analyseWithLabModel({ caseId: fifth.id, labModelId: lab.id });
    expect(detail.status).toBe('in_review');
    expect(detail.model?.version).toBe('lab-1');
    expect(detail.model?.name).toMatch(/^Lab model lab-1 \(marrowcount-ref 1\.3\.0 \+ head on \d+ reviewed cells\)$/);
    const after = (await fx.service.listCells({ caseId: fifth.id, scope: 'all', limit: 1000 })).cells;
    expect(after).toHaveLength(60);
    for (const cell of after) expect(lab.classes).toContain(cell.predicted);
    // Never overwritten: each cell has its base prediction, unchanged, and now the lab model's beside it.
    for (const cell of baseBefore) {
      const stored = await (await fx.store()).predictions.listPredictions(cell.imageId);
      expect(stored).toHaveLength(2);
      expect(stored[0]!.predicted).toBe(cell.predicted);
      expect(stored[0]!.confidence).toBe(cell.confidence);
      expect(stored[1]!.modelRowId).not.toBe(stored[0]!.modelRowId);
    }
    // A cell the base model calls a class the lab model did not learn is flagged with that reason.
    for (const cell of baseBefore.filter((c) => !lab.classes.includes(c.predicted))) {
      const now = after.find((c) => c.imageId === cell.imageId)!;
      expect(now.flagReasons).toContainEqual({ kind: 'unlearned_class', detail: cell.predicted });
    }
    // Again: nothing to add, so nothing is written.
    const state = await tableContents(fx);
    await fx.service.analyseWithLabModel({ caseId: fifth.id, labModelId: lab.id });
    expect(await tableContents(fx)).toBe(state);

    const report = await fx.service.saveReport({ caseId: fifth.id, path: join(fx.root, 'fifth.pdf') });
    const text = flat(pdfPages(report.path).join('\n'));
    expect(text).toContain('Lab model lab-1');
    // The report counts the lab model's own reason by its kind (it used to be summed up as "Other reason").
    const unlearned = after.filter((c) => c.flagReasons.some((r) => r.kind === 'unlearned_class')).length;
    expect(unlearned).toBeGreaterThan(0);
    expect(text).toContain('Class the lab model did not learn');
    expect(text).not.toContain('Other reason');
  }, 60_000);

  it('refuses a case that has no base-model embeddings yet, storing nothing', async () => {
    const folder = join(fx.root, 'cases', 'NEW-6');
    mkdirSync(folder, { recursive: true });
    copyCropDistinctly(join(DEMO, FILES[0]!), join(folder, FILES[0]!), 'NEW-6');
    const created = await fx.service.createCase({ patient: { labId: 'MRN-6' }, accession: 'NEW-6', specimen: 'bone_marrow_aspirate', folder });
    const before = await tableContents(fx);
    const error = await refusal(fx.service.analyseWithLabModel({ caseId: created.id, labModelId: lab.id }));
    expect(error.message).toMatch(/NEW-6 is importing; analyse it with the base model first/);
    expect(await tableContents(fx)).toBe(before);
  });

  it('analyses a new case with the approved lab model once the base model has classified it, the base predictions stored beside', async () => {
    const seventh = await caseOf('NEW-7', FILES.slice(60, 80));
    expect(seventh.model?.version).toBe('lab-1');
    const { cells } = await fx.service.listCells({ caseId: seventh.id, scope: 'all', limit: 1000 });
    expect(cells).toHaveLength(20);
    for (const cell of cells) {
      expect(lab.classes).toContain(cell.predicted);
      // The base model's prediction first, the lab model's beside it: two models, one row each.
      const stored = await (await fx.store()).predictions.listPredictions(cell.imageId);
      expect(stored).toHaveLength(2);
      expect(stored[1]!.modelRowId).not.toBe(stored[0]!.modelRowId);
      expect(stored[1]!.predicted).toBe(cell.predicted);
    }
  }, 60_000);

  it('refuses a second lab-model analysis of a case while one runs in the worker', async () => {
    const eighth = await caseOf('NEW-8', FILES.slice(80, 100));
    const both = await Promise.allSettled([0, 1].map(() => fx.service.analyseWithLabModel({ caseId: eighth.id, labModelId: lab.id })));
    const refused = both.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => toApiError(r.reason));
    expect(refused).toHaveLength(1);
    expect(refused[0]!.kind).toBe('conflict');
    expect(refused[0]!.message).toBe('Case NEW-8 is already being analysed with a lab model; wait for it to finish.');
  }, 60_000);

  it('exports a package that a second PC imports pending; refuses a corrupted package or one of another base model', async () => {
    const exported = await fx.service.exportLabModel({ labModelId: lab.id, path: join(fx.root, 'lab-1.json') });
    const second = await startService('lab-model-2', { modelDir: MODEL_DIR, engine, pg: pgSetup });
    try {
      const pkg = JSON.parse(readFileSync(exported.path, 'utf8')) as { sha256: string; labModel: Record<string, unknown> };
      const write = (name: string, value: unknown): string => {
        const path = join(second.root, name);
        writeFileSync(path, JSON.stringify(value));
        return path;
      };
      // The second PC's person logs in first (that is recorded); the refusals below must add nothing after it.
      await second.service.getSession();
      await second.service.listLabModels();
      const empty = await tableContents(second);

      // One weight changed: the content no longer matches its hash.
      const head = pkg.labModel['head'] as { weights: number[] };
      const tampered = { ...pkg, labModel: { ...pkg.labModel, head: { ...head, weights: [head.weights[0]! + 1, ...head.weights.slice(1)] } } };
      const corrupt = await refusal(second.service.importLabModel({ path: write('tampered.json', tampered) }));
      expect(corrupt.kind).toBe('model');
      expect(corrupt.field).toBe('sha256');
      // Another base model, re-hashed so that only the base check can catch it.
      const otherBase = { ...pkg.labModel, baseModel: { modelId: 'marrowcount-ref', version: '1.2.0', sha256: 'ab'.repeat(32) } };
      const body = JSON.stringify(otherBase);
      const wrongBase = { ...pkg, sha256: createHash('sha256').update(body).digest('hex'), labModel: otherBase };
      const mismatch = await refusal(second.service.importLabModel({ path: write('other-base.json', wrongBase) }));
      expect(mismatch.kind).toBe('model');
      expect(mismatch.field).toBe('labModel.baseModel.sha256');
      expect(mismatch.message).toMatch(/a lab model only works on the base model it was trained on/);
      // A re-hashed package whose validation report lacks the per-class figures the screens read.
      const validation = pkg.labModel['validation'] as { lab: Record<string, unknown> };
      const hollow = { ...pkg.labModel, validation: { ...validation, lab: { ...validation.lab, perClass: [] } } };
      const hollowBody = JSON.stringify(hollow);
      const hollowPkg = { ...pkg, sha256: createHash('sha256').update(hollowBody).digest('hex'), labModel: hollow };
      const shape = await refusal(second.service.importLabModel({ path: write('hollow.json', hollowPkg) }));
      expect(shape.field).toBe('labModel.validation.lab.perClass');
      const notJson = await refusal(second.service.importLabModel({ path: write('cut.json', 'x') }));
      expect(notJson.field).toBe('(file)');
      expect(await tableContents(second)).toBe(empty);

      const imported = await second.service.importLabModel({ path: exported.path });
      expect(imported.status).toBe('pending');
      expect(imported.importedBy).toBe(TEST_PERSON.displayName);
      expect(imported.sha256).toBe(lab.sha256);
      expect(imported.validation).toEqual(lab.validation);
      expect(imported.trainedBy).toBe(TEST_PERSON.displayName);
      const twice = await refusal(second.service.importLabModel({ path: exported.path }));
      expect(twice.kind).toBe('conflict');
      expect((await second.service.approveLabModel({ labModelId: imported.id, reason: 'Same lab' })).status).toBe('approved');
    } finally {
      await second.dispose();
    }
  }, 60_000);

  it('retires the lab model: it analyses no more cases, its predictions stay, and the step is one-way', async () => {
    const retired = await fx.service.retireLabModel({ labModelId: lab.id, reason: 'Superseded' });
    expect(retired.status).toBe('retired');
    expect(retired.approvedBy).toBe(TEST_PERSON.displayName);
    const before = await tableContents(fx);
    const use = await refusal(fx.service.analyseWithLabModel({ caseId: fifth.id, labModelId: lab.id }));
    expect(use.message).toMatch(/lab-1 is retired/);
    const twice = await refusal(fx.service.retireLabModel({ labModelId: lab.id, reason: 'again' }));
    expect(twice.message).toMatch(/only an approved lab model can be retired/);
    expect(await tableContents(fx)).toBe(before);
    expect((await fx.service.getCase(fifth.id)).model?.version).toBe('lab-1');
    expect((await fx.service.listLabModels()).map((m) => [m.version, m.status])).toEqual([['lab-1', 'retired']]);
  });

  it('refuses in SQL any other change of a lab model, whoever writes', async () => {
    await expect(fx.sql(`UPDATE lab_models SET status = 'approved' WHERE id = ?`, [lab.id])).rejects.toThrow(/pending -> approved -> retired/);
    await expect(fx.sql(`UPDATE lab_models SET head = '{}' WHERE id = ?`, [lab.id])).rejects.toThrow(/never changed/);
    await expect(fx.sql(`DELETE FROM lab_models WHERE id = ?`, [lab.id])).rejects.toThrow(/never deleted/);
  });
});
