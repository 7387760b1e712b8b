import type { ImportFailure } from '../../shared/api';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';
import type { ImageRow } from './types';

export interface ImageFile {
  relativePath: string;
  /** Hex SHA-256 of the file's bytes ('' allowed only with importError, e.g. an unreadable file). */
  sha256: string;
  bytes: number;
  width: number | null;
  height: number | null;
  importError: string | null;
}

export interface InsertImagesResult {
  /** New rows, duplicates included (they are stored with duplicateOf set and never classified or counted). */
  inserted: ImageRow[];
  /** Files whose content equals an image already in the case. */
  duplicates: { relativePath: string; duplicateOf: string }[];
  /** Files already imported in this case with the same content (a resumed import): skipped. */
  alreadyImported: string[];
}

export function insertImages(db: MarrowDatabase, caseId: number, files: readonly ImageFile[]): InsertImagesResult {
  return pending('insertImages', db, caseId, files);
}

export function listImages(db: MarrowDatabase, caseId: number): ImageRow[] {
  return pending('listImages', db, caseId);
}

/** Importable, non-duplicate images without a prediction from this model: what a (resumed) analysis must classify. */
export function listImagesNeedingPrediction(db: MarrowDatabase, caseId: number, modelRowId: number): ImageRow[] {
  return pending('listImagesNeedingPrediction', db, caseId, modelRowId);
}

/** Only an image of a stored case resolves: 'not_found' otherwise (the image protocol relies on it). */
export function getImage(db: MarrowDatabase, caseId: number, imageId: number): ImageRow {
  return pending('getImage', db, caseId, imageId);
}

export function listImportFailures(db: MarrowDatabase, caseId: number): ImportFailure[] {
  return pending('listImportFailures', db, caseId);
}
