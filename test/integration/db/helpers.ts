// Shared set-up for the storage tests: real SQLite files in a fresh temporary folder, removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import {
  beginAnalysis,
  closeDatabase,
  createCase,
  insertImages,
  insertPredictions,
  openDatabase,
  registerModel,
  setCaseStatus,
  upsertPatient,
  type MarrowDatabase,
  type NewPrediction,
} from '../../../src/main/db';
import type { NewCase } from '../../../src/main/db/cases';
import type { ImageFile } from '../../../src/main/db/images';
import type { ModelRegistration } from '../../../src/main/db/models';

const openedDirs: string[] = [];
const openedDbs: MarrowDatabase[] = [];

afterEach(() => {
  for (const db of openedDbs.splice(0)) {
    if (db.raw.open) db.raw.close();
  }
  for (const dir of openedDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'marrowcount-db-test-'));
  openedDirs.push(dir);
  return dir;
}

/** Opens (and tracks for clean-up) a database file in a fresh temporary folder. */
export function openTemp(name = 'marrowcount.sqlite'): { db: MarrowDatabase; path: string; dir: string } {
  const dir = tempDir();
  const path = join(dir, name);
  return { db: track(openDatabase(path)), path, dir };
}

export function track(db: MarrowDatabase): MarrowDatabase {
  openedDbs.push(db);
  return db;
}

export function reopen(db: MarrowDatabase): MarrowDatabase {
  closeDatabase(db);
  return track(openDatabase(db.path));
}

export function sha(n: number): string {
  return n.toString(16).padStart(64, '0');
}

export const FOUR_CLASSES: CellClassCode[] = ['BLA', 'LYT', 'NGS', 'EBO'];

/** The test model `tag` (its file hash made of the tag's digit), on either engine. */
export function modelRegistration(tag = 'a', classes: CellClassCode[] = FOUR_CLASSES): ModelRegistration {
  const digit = (tag.charCodeAt(0) % 16).toString(16);
  return { modelId: `model-${tag}`, version: '1.0.0', sha256: digit.repeat(64), name: `Model ${tag}`, classes };
}

export function addModel(db: MarrowDatabase, tag = 'a', classes: CellClassCode[] = FOUR_CLASSES) {
  return registerModel(db, modelRegistration(tag, classes));
}

export const TEST_PATIENT = { name: 'Ada Example', birthDate: '1950-03-04' };

export function newCase(patientId: number, accession: string): NewCase {
  return { patientId, accession, specimen: 'bone_marrow_aspirate', folder: `/cases/${accession}`, actor: 'tech' };
}

export function addCase(db: MarrowDatabase, accession = 'BM-001', labId = 'MRN-1') {
  const patient = upsertPatient(db, { labId, ...TEST_PATIENT });
  return createCase(db, newCase(patient.id, accession));
}

/** n distinct, well-imported image files (cell-0000.jpg ...), their hashes counted from firstHash. */
export function imageFiles(n: number, firstHash = 1): ImageFile[] {
  return Array.from({ length: n }, (_, i) => ({
    relativePath: `cell-${String(i).padStart(4, '0')}.jpg`,
    sha256: sha(firstHash + i),
    bytes: 1000,
    width: 250,
    height: 250,
    importError: null,
  }));
}

/** Imports n distinct images into the case and returns their ids in import order. */
export function addImages(db: MarrowDatabase, caseId: number, n: number, firstHash = 1): number[] {
  return insertImages(db, caseId, imageFiles(n, firstHash)).inserted.map((r) => r.id);
}

/** A prediction whose probability vector puts `confidence` on `predicted` and spreads the rest evenly. */
export function prediction(
  imageId: number,
  predicted: CellClassCode,
  confidence: number,
  classes: CellClassCode[] = FOUR_CLASSES,
  flagged = confidence < 0.6,
): NewPrediction {
  const rest = (1 - confidence) / (classes.length - 1);
  return {
    imageId,
    predicted,
    probabilities: classes.map((c) => (c === predicted ? confidence : rest)),
    confidence,
    flagged,
    flagReasons: flagged ? [{ kind: 'low_confidence', detail: `${confidence.toFixed(2)} < 0.60` }] : [],
  };
}

/**
 * A case in review whose cells have the given predicted classes and confidences (flagged below 0.6), classified
 * by one model. Returns the ids in the same order.
 */
export function caseInReview(db: MarrowDatabase, cells: { predicted: CellClassCode; confidence: number }[], accession = 'BM-001') {
  const model = addModel(db);
  const row = addCase(db, accession);
  const imageIds = addImages(db, row.id, cells.length);
  beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
  insertPredictions(
    db,
    model.id,
    cells.map((c, i) => prediction(imageIds[i]!, c.predicted, c.confidence)),
  );
  setCaseStatus(db, row.id, 'in_review', 'tech');
  return { caseId: row.id, modelRowId: model.id, imageIds };
}
