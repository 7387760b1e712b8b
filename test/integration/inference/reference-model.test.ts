// The bundled reference model, run by the app's own preprocessing and onnxruntime-node, must reproduce the
// probabilities the training pipeline (PIL + PyTorch/onnxruntime in Python) computed for the demo case, and its
// accuracy on the demo labels must be the figure its model card states. Both are committed, so a missing or
// unreadable model or demo case fails this test: it is never skipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDatabase,
  createCase,
  listCells,
  listEmbeddings,
  listImages,
  openDatabase,
  upsertPatient,
  type CellRow,
  type MarrowDatabase,
} from '../../../src/main/db';
import { loadModelPackage, type LoadedModel } from '../../../src/main/inference/model-package';
import { analyseCaseFolder } from '../../../src/main/inference/pipeline';
import { parseCsv } from '../../helpers/csv';
import { REPO, tempDir } from './helpers';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const MODEL_DIR = join(REPO, 'resources/models/marrowcount-ref');
const DEMO = join(REPO, 'resources/demo/case-001');
const REFERENCE_CSV = join(MODEL_DIR, 'reference-predictions.csv');
const OFF_SIZE = join(REPO, 'test/fixtures/crops/off-size');

/** Rows keyed by the header: the reference files are written by Python's csv module (RFC 4180, CRLF). */
function readCsv(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name.trim(), row[i] ?? ''])));
}

describe('bundled reference model on the demo case', () => {
  let temp: { path: string; remove: () => void };
  let db: MarrowDatabase;
  let model: LoadedModel;
  let cells: Map<string, CellRow>;

  beforeAll(async () => {
    temp = tempDir('reference');
    db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    model = await loadModelPackage(MODEL_DIR);
    const patient = upsertPatient(db, { labId: 'DEMO', actor: 'test' });
    const caseId = createCase(db, { patientId: patient.id, accession: 'case-001', specimen: 'bone_marrow_aspirate', folder: DEMO, actor: 'test' }).id;
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(outcome.failures).toEqual([]);
    cells = new Map(listCells(db, { caseId, scope: 'all', limit: 100_000 }).rows.map((cell) => [cell.relativePath, cell]));
  }, 300_000);

  afterAll(async () => {
    await model?.session.release();
    if (db?.raw.open) closeDatabase(db);
    temp?.remove();
  });

  it('reproduces the Python reference probabilities: predicted class agreement >= 99%, small max |Δp|', () => {
    const reference = readCsv(readFileSync(REFERENCE_CSV, 'utf8'));
    const fileColumn = ['file', 'path', 'relative_path', 'image'].find((c) => c in reference[0]!)!;
    const probabilityColumn = (code: string): string | undefined => [code, `p_${code}`, `prob_${code}`, `p(${code})`].find((c) => c in reference[0]!);
    const columns = model.manifest.classes.map((code) => probabilityColumn(code));
    expect(
      columns.every((c) => c !== undefined),
      `reference columns ${Object.keys(reference[0]!).join(',')}`,
    ).toBe(true);

    let agree = 0;
    let maxDelta = 0;
    for (const row of reference) {
      const cell = cells.get(row[fileColumn]!);
      expect(cell, `no stored cell for ${row[fileColumn]}`).toBeDefined();
      const expected = columns.map((c) => Number(row[c!]));
      const expectedClass = model.manifest.classes[expected.indexOf(Math.max(...expected))];
      if (cell!.predicted === expectedClass) agree++;
      cell!.probabilities.forEach((p, i) => (maxDelta = Math.max(maxDelta, Math.abs(p - expected[i]!))));
    }
    console.log(`reference model: ${agree}/${reference.length} predicted classes agree with Python; max |Δp| ${maxDelta.toFixed(4)}`);
    expect(reference).toHaveLength(cells.size);
    expect(agree / reference.length).toBeGreaterThanOrEqual(0.99);
    // PIL and libvips resample with the same Lanczos-3 kernel but round differently (at most 2 grey levels apart on
    // Matek crops): measured 300/300 classes agreeing and max |Δp| 0.022 for marrowcount-ref 1.0.0.
    expect(maxDelta).toBeLessThan(0.05);
  });

  it('stores every cell embedding, whose open-set distances and flags reproduce the Python reference', () => {
    const reference = readCsv(readFileSync(REFERENCE_CSV, 'utf8'));
    const first = cells.values().next().value!;
    const stored = new Map(listEmbeddings(db, first.caseId, first.modelRowId).map((e) => [e.imageId, e]));
    expect(stored.size).toBe(cells.size);
    let flagAgree = 0;
    let maxDelta = 0;
    for (const row of reference) {
      const cell = cells.get(row['file']!)!;
      const distance = stored.get(cell.imageId)!.openSetScore!;
      maxDelta = Math.max(maxDelta, Math.abs(distance - Number(row['open_set_distance'])));
      if (cell.flagged === (row['flagged'] === '1')) flagAgree++;
    }
    console.log(`reference model: open-set distance max |Δ| ${maxDelta.toFixed(3)} vs Python; flag agreement ${flagAgree}/${reference.length}`);
    expect(maxDelta).toBeLessThan(0.6);
    expect(flagAgree / reference.length).toBeGreaterThanOrEqual(0.98);
  });

  it('scores the accuracy on the demo labels that the model card states', () => {
    const labels = readCsv(readFileSync(join(DEMO, 'labels.csv'), 'utf8'));
    const correct = labels.filter((row) => cells.get(row['file']!)?.predicted === row['label']).length;
    const accuracy = correct / labels.length;
    const card = readFileSync(join(MODEL_DIR, 'MODEL_CARD.md'), 'utf8');
    const demoSection = card.slice(card.indexOf('## Demo case'));
    const stated = Number(/accuracy \*\*([0-9.]+)\*\*/.exec(demoSection)?.[1]);
    console.log(`reference model: demo accuracy ${correct}/${labels.length} = ${accuracy.toFixed(4)}; model card ${stated}`);
    expect(labels).toHaveLength(cells.size);
    expect(Number.isFinite(stated)).toBe(true);
    // The card's figure is rounded to 4 decimals and may differ from the app's by the few cells on which PIL and
    // libvips disagree (at most 1% by the test above); one cell in 300 is 0.0033.
    expect(Math.abs(accuracy - stated)).toBeLessThanOrEqual(0.01);
  });
});

describe('the demo case README', () => {
  it('states the number of cells the app flags on the demo case, and the errors they catch', async () => {
    const temp = tempDir('demo-readme');
    const db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    const model = await loadModelPackage(MODEL_DIR);
    try {
      const patient = upsertPatient(db, { labId: 'DEMO', actor: 'test' });
      const caseId = createCase(db, { patientId: patient.id, accession: 'case-001', specimen: 'bone_marrow_aspirate', folder: DEMO, actor: 'test' }).id;
      await analyseCaseFolder(sqliteStore(db), model, caseId);
      const all = listCells(db, { caseId, scope: 'all', limit: 100_000 }).rows;
      const labels = new Map(readCsv(readFileSync(join(DEMO, 'labels.csv'), 'utf8')).map((row) => [row['file']!, row['label']!]));
      const flagged = all.filter((cell) => cell.flagged).length;
      const errors = all.filter((cell) => labels.get(cell.relativePath) !== cell.predicted);
      const caught = errors.filter((cell) => cell.flagged).length;
      const readme = readFileSync(join(REPO, 'resources/demo/README.md'), 'utf8').replace(/\s+/g, ' ');
      const stated = /In the app, (\d+) cells \(([\d.]+)%\) are flagged, catching (\d+) of the (\d+) errors/.exec(readme);
      expect(stated, 'the README states the flagged count of the app').not.toBeNull();
      expect([Number(stated![1]), Number(stated![3]), Number(stated![4])]).toEqual([flagged, caught, errors.length]);
      expect(Number(stated![2])).toBeCloseTo((100 * flagged) / all.length, 1);
    } finally {
      await model.session.release();
      closeDatabase(db);
      temp.remove();
    }
  }, 300_000);
});

describe('bundled reference model on crops that are not 250x250', () => {
  it('frames them as the training data were before the resize, reproducing the Python probabilities', async () => {
    const temp = tempDir('off-size');
    const db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    const model = await loadModelPackage(MODEL_DIR);
    try {
      expect(model.manifest.input.frameSide).toBe(250);
      const patient = upsertPatient(db, { labId: 'OFF', actor: 'test' });
      const caseId = createCase(db, { patientId: patient.id, accession: 'off-size', specimen: 'bone_marrow_aspirate', folder: OFF_SIZE, actor: 'test' }).id;
      const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
      expect(outcome.failures).toEqual([]);
      const cells = new Map(listCells(db, { caseId, scope: 'all', limit: 1000 }).rows.map((cell) => [cell.relativePath, cell]));
      const sizes = new Map(listImages(db, caseId).map((image) => [image.relativePath, [image.width, image.height]]));
      const expected = readCsv(readFileSync(join(OFF_SIZE, 'expected.csv'), 'utf8'));
      expect(cells.size).toBe(expected.length);
      for (const row of expected) {
        const cell = cells.get(row['file']!)!;
        expect(sizes.get(row['file']!), row['file']).toEqual([Number(row['width']), Number(row['height'])]);
        const probabilities = model.manifest.classes.map((code) => Number(row[`p_${code}`]));
        const pythonClass = model.manifest.classes[probabilities.indexOf(Math.max(...probabilities))];
        expect(cell.predicted, row['file']).toBe(pythonClass);
        const delta = Math.max(...cell.probabilities.map((p, i) => Math.abs(p - probabilities[i]!)));
        expect(delta, `${row['file']}: max |Δp|`).toBeLessThan(0.05);
      }
    } finally {
      await model.session.release();
      closeDatabase(db);
      temp.remove();
    }
  }, 120_000);
});
