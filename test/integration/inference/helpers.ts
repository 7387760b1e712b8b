// Shared set-up of the inference integration tests: real model packages and real crops copied into temp folders.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');
export const TINY_MODEL = join(REPO, 'test/fixtures/models/tiny');
export const WRONG_SHAPE_MODEL = join(REPO, 'test/fixtures/models/wrong-shape');
export const GOOD_CROPS = join(REPO, 'test/fixtures/crops/good');
export const BROKEN_CROPS = join(REPO, 'test/fixtures/crops/broken');
/** Image files under GOOD_CROPS (labels.csv and .DS_Store are not images). */
export const GOOD_CROP_COUNT = 11;

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `marrowcount-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A case folder holding copies of the given fixture folders' contents. */
export function caseFolder(root: string, name: string, ...sources: string[]): string {
  const folder = join(root, name);
  for (const source of sources) cpSync(source, folder, { recursive: true });
  return folder;
}
