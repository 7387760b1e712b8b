// The shipped model's open-set rule through the real pipeline and the real database: the embedding is stored per
// cell, its distance reproduces Python's, a crafted out-of-distribution crop is flagged with its own reason and a
// typical one is not; a package without an embedding output still analyses and stores none.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDatabase,
  createCase,
  getCase,
  listCells,
  listEmbeddings,
  openDatabase,
  upsertPatient,
  type CellRow,
  type MarrowDatabase,
} from '../../../src/main/db';
import { openSetDistance } from '../../../src/main/inference/open-set';
import { loadModelPackage, type LoadedModel } from '../../../src/main/inference/model-package';
import { analyseCaseFolder } from '../../../src/main/inference/pipeline';
import { GOOD_CROPS, REPO, TINY_MODEL, tempDir } from './helpers';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const MODEL_DIR = join(REPO, 'resources/models/marrowcount-ref');
const FIXTURES = join(REPO, 'test/fixtures/crops/open-set');

function analysedCase(db: MarrowDatabase, folder: string, accession: string): number {
  const patient = upsertPatient(db, { labId: `P-${accession}`, actor: 'test' });
  return createCase(db, { patientId: patient.id, accession, specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
}

describe('open-set flag of the reference model', () => {
  let temp: { path: string; remove: () => void };
  let db: MarrowDatabase;
  let model: LoadedModel;
  let caseId: number;
  let cells: Map<string, CellRow>;

  beforeAll(async () => {
    temp = tempDir('open-set');
    db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    model = await loadModelPackage(MODEL_DIR);
    caseId = analysedCase(db, FIXTURES, 'OS-1');
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(outcome.failures).toEqual([]);
    cells = new Map(listCells(db, { caseId, scope: 'all', limit: 100 }).rows.map((cell) => [cell.relativePath, cell]));
  }, 120_000);

  afterAll(async () => {
    await model?.session.release();
    if (db?.raw.open) closeDatabase(db);
    temp?.remove();
  });

  it('ships statistics for the embedding the graph returns', () => {
    expect(model.manifest.embedding).toEqual({ name: 'embedding', dim: 160 });
    expect(model.openSet?.classes).toEqual(['ART', 'BLA', 'EOS', 'LYT', 'MON', 'NGS', 'NIF', 'PMO']);
    expect(model.manifest.provisional.classes).toEqual(['BAS', 'EBO', 'MMZ', 'MYB', 'NGB']);
  });

  it('flags an empty field and noise as unlike any learned type, though the classifier is confident, and not a typical cell', () => {
    for (const file of ['empty-field.png', 'noise.png']) {
      const cell = cells.get(file)!;
      expect(cell.flagged, file).toBe(true);
      expect(
        cell.flagReasons.some((r) => r.kind === 'open_set'),
        `${file}: ${cell.flagReasons.join('; ')}`,
      ).toBe(true);
    }
    // Without the open-set rule nothing would send the empty field to review: it is called ART with high confidence.
    const empty = cells.get('empty-field.png')!;
    expect(empty.predicted).toBe('ART');
    expect(empty.flagReasons).toHaveLength(1);
    const typical = cells.get('typical-lymphocyte.jpg')!;
    expect(typical.predicted).toBe('LYT');
    expect(typical.flagReasons).toEqual([]);
  });

  it('stores each cell embedding with its open-set distance, recomputable from the stored float16 vector', () => {
    const stored = listEmbeddings(db, caseId, getCase(db, caseId).modelRowId!);
    expect(stored).toHaveLength(3);
    const byImage = new Map([...cells.values()].map((cell) => [cell.imageId, cell.relativePath]));
    const python: Record<string, number> = { 'typical-lymphocyte.jpg': 6.22, 'empty-field.png': 16.24, 'noise.png': 20.32 };
    for (const entry of stored) {
      const file = byImage.get(entry.imageId)!;
      expect(entry.embedding).toHaveLength(160);
      const recomputed = openSetDistance(model.openSet!, entry.embedding);
      expect(Math.abs(recomputed - entry.openSetScore!), file).toBeLessThan(0.05);
      // sharp's lanczos3 is not PIL's LANCZOS: the app's distance is close to, not equal to, Python's.
      expect(Math.abs(entry.openSetScore! - python[file]!), file).toBeLessThan(0.6);
    }
  });
});

describe('a package without an embedding output', () => {
  it('still analyses a case, stores no embeddings and flags no cell as open-set', async () => {
    const temp = tempDir('no-embedding');
    const db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    const model = await loadModelPackage(TINY_MODEL);
    try {
      expect(model.manifest.embedding).toBeNull();
      expect(model.openSet).toBeNull();
      const caseId = analysedCase(db, GOOD_CROPS, 'OLD-1');
      const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
      expect(outcome.classified).toBeGreaterThan(0);
      expect(listEmbeddings(db, caseId, getCase(db, caseId).modelRowId!)).toEqual([]);
      const rows = listCells(db, { caseId, scope: 'all', limit: 100 }).rows;
      expect(rows.length).toBe(outcome.classified);
      expect(rows.some((cell) => cell.flagReasons.some((r) => r.kind === 'open_set'))).toBe(false);
    } finally {
      await model.session.release();
      closeDatabase(db);
      temp.remove();
    }
  }, 120_000);
});
