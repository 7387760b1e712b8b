// Resolves a cell-image request (`marrowcell://cell/<caseId>/<imageId>` in Electron, `/cells/<caseId>/<imageId>`
// on the loopback HTTP host) to the image's bytes. The renderer never names a path: it names a stored case and one of
// that case's stored images, and the file must still lie inside the case's folder once symlinks are followed, so a
// crafted id, a "../" in the database or a symlink planted in the folder cannot expose any other file.
// The bytes must also be the ones that were imported and classified: a technician who reviews a cell must see the
// image its prediction came from, not whatever was copied over the file since. When the file changed, an identical
// copy stored as the image's duplicate is shown instead, if one still holds those bytes; else the image is not
// available (the review screen then says the file must be restored).
import { readFile, realpath } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { sha256Of } from '../files/sha256';
import { isPathInside } from '../security/path-inside';
import type { CellImageLocation } from '../service/types';

/** Finds a stored image of a stored case; null when the image does not exist or belongs to another case. */
export type CellImageLookup = (caseId: number, imageId: number) => CellImageLocation | null | Promise<CellImageLocation | null>;

export type CellImageResolution = { ok: true; data: Buffer; contentType: string } | { ok: false; status: 403 | 404; reason: string };

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
  const own = await readInsideFolder(location.folder, location.file);
  if (own.ok && sha256Of(own.data) === location.sha256) return own;
  // Changed, gone or now a link out of the folder: a copy with the imported bytes stands in for it.
  for (const copy of location.copies) {
    const read = await readInsideFolder(location.folder, copy);
    if (read.ok && sha256Of(read.data) === location.sha256) return read;
  }
  return own.ok ? { ok: false, status: 404, reason: 'image file changed on disk since it was imported' } : own;
}

async function readInsideFolder(folder: string, file: string): Promise<CellImageResolution> {
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()];
  if (!contentType) return { ok: false, status: 403, reason: 'not an image file type' };
  if (isAbsolute(file)) return { ok: false, status: 403, reason: 'stored image path is not relative to its case folder' };
  let realFolder: string;
  let realFile: string;
  try {
    realFolder = await realpath(folder);
    realFile = await realpath(join(folder, file));
  } catch {
    // Missing from disk (moved folder, removed file): the same answer as an unknown id, nothing about the disk leaks.
    return { ok: false, status: 404, reason: 'image file not found on disk' };
  }
  if (!isPathInside(realFolder, realFile)) return { ok: false, status: 403, reason: 'image lies outside its case folder' };
  try {
    return { ok: true, data: await readFile(realFile), contentType };
  } catch {
    return { ok: false, status: 404, reason: 'image file not readable' };
  }
}
