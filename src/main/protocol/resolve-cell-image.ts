// Resolves a cell-image request (`marrowcell://cell/<caseId>/<imageId>` in Electron, `/cells/<caseId>/<imageId>`
// on the loopback HTTP host) to a file on disk. The renderer never names a path: it names a stored case and one of
// that case's stored images, and the file must still lie inside the case's folder once symlinks are followed, so a
// crafted id, a "../" in the database or a symlink planted in the folder cannot expose any other file.
import { realpath } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { isPathInside } from '../security/path-inside';
import type { CellImageLocation } from '../service/types';

/** Finds a stored image of a stored case; null when the image does not exist or belongs to another case. */
export type CellImageLookup = (caseId: number, imageId: number) => CellImageLocation | null | Promise<CellImageLocation | null>;

export type CellImageResolution =
  | { ok: true; path: string; contentType: string }
  | { ok: false; status: 403 | 404; reason: string };

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

const ID = /^[1-9][0-9]{0,14}$/;

/** Parses "<caseId>/<imageId>" (the part of the URL after the route prefix); null for anything else. */
export function parseCellImageRoute(rest: string): { caseId: number; imageId: number } | null {
  const parts = rest.split('/');
  if (parts.length !== 2) return null;
  const [caseText, imageText] = parts as [string, string];
  if (!ID.test(caseText) || !ID.test(imageText)) return null;
  return { caseId: Number(caseText), imageId: Number(imageText) };
}


export async function resolveCellImage(lookup: CellImageLookup, rest: string): Promise<CellImageResolution> {
  const route = parseCellImageRoute(rest);
  if (!route) return { ok: false, status: 404, reason: 'not a cell image address' };
  const location = await lookup(route.caseId, route.imageId);
  if (!location) return { ok: false, status: 404, reason: `case ${route.caseId} has no image ${route.imageId}` };
  const contentType = CONTENT_TYPES[extname(location.file).toLowerCase()];
  if (!contentType) return { ok: false, status: 403, reason: 'not an image file type' };
  if (isAbsolute(location.file)) return { ok: false, status: 403, reason: 'stored image path is not relative to its case folder' };

  let realFolder: string;
  let realFile: string;
  try {
    realFolder = await realpath(location.folder);
    realFile = await realpath(join(location.folder, location.file));
  } catch {
    // Missing from disk (moved folder, removed file): the same answer as an unknown id, nothing about the disk leaks.
    return { ok: false, status: 404, reason: 'image file not found on disk' };
  }
  if (!isPathInside(realFolder, realFile)) return { ok: false, status: 403, reason: 'image lies outside its case folder' };
  return { ok: true, path: realFile, contentType };
}
