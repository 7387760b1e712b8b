// Finding and vetting the crops of a case folder. A bad file never stops a case: it is returned as a failure with
// a sentence a technician can act on, and the rest of the folder goes on.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import type { ImportFailure } from '../../shared/api';
import { sha256Of } from '../files/sha256';
import { isPathInside } from '../security/path-inside';
import { CaseFolderError } from './errors';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff']);
/**
 * Image files MarrowCount cannot read. They are listed as failed files rather than skipped: a crop exported as BMP
 * that silently drops out of the case would change the differential without anyone seeing why.
 */
const UNSUPPORTED_IMAGE_EXTENSIONS = new Set(['.bmp', '.gif', '.webp', '.jp2', '.j2k', '.jpx', '.heic', '.heif', '.avif', '.jxl']);
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'tiff']);

/**
 * Accepted crop geometry. The Matek 2021 crops are 250x250 px at 100x oil; other scanners' crops of one cell are
 * of the same order. A tile far outside this range (a whole field, a thumbnail) is not a single-cell crop, and
 * resizing it to the model's input would classify something the model never saw, so it is refused instead.
 */
export const CROP_SIZE_POLICY = { minSide: 64, maxSide: 1024, maxAspectRatio: 1.25 } as const;

export interface CropFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the case folder, with forward slashes: what the database and the reports show. */
  relativePath: string;
  /** The case folder with every link resolved: a crop must still lie inside it when it is read. */
  caseRoot: string;
}

export interface InspectedCrop extends CropFile {
  sha256: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
  /** The file's content, so that the decode for classification does not read the file again. */
  data: Buffer;
}

/**
 * A failed inspection still carries the hash and size of what was read ('' and 0 when nothing could be read), so
 * that a later run can tell whether the technician replaced the file.
 */
export type Inspection = { ok: true; crop: InspectedCrop } | { ok: false; failure: ImportFailure; sha256: string; bytes: number };

function toPortable(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot).toLowerCase();
}

/**
 * Every crop file under `folder`, recursively, in a stable (sorted) order; dotfiles and dot-folders skipped. Image
 * files of formats that cannot be read are included so that the analysis reports them.
 */
export async function listCropFiles(folder: string): Promise<CropFile[]> {
  const root = resolve(folder);
  let info;
  try {
    info = await stat(root);
  } catch (error) {
    throw new CaseFolderError(`The case folder ${root} cannot be read: ${(error as Error).message}`, root);
  }
  if (!info.isDirectory()) throw new CaseFolderError(`${root} is not a folder; choose the folder holding the case's cell images.`, root);

  const realRoot = await realpath(root);
  const files: CropFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new CaseFolderError(`The folder ${dir} cannot be read: ${(error as Error).message}`, dir);
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      // A linked image counts like a copy (a broken link becomes a per-file error when read); linked folders are
      // not followed, so a link loop cannot make the walk endless.
      else if ((entry.isFile() || entry.isSymbolicLink()) && isImageName(entry.name)) {
        files.push({ path, relativePath: toPortable(relative(root, path)), caseRoot: realRoot });
      }
    }
  };
  await walk(root);
  return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

function isImageName(name: string): boolean {
  const extension = extensionOf(name);
  return IMAGE_EXTENSIONS.has(extension) || UNSUPPORTED_IMAGE_EXTENSIONS.has(extension);
}

/**
 * Where `path` really is when it lies outside `caseRoot` (it is, or passes through, a link out of the folder); null
 * when it is inside, or cannot be resolved (reading it then fails with the system's reason). The review screen and
 * the report only show images inside the case's folder (protocol/resolve-cell-image.ts), so a cell read through
 * such a link could be counted but never seen. Checked when the file is read, not when the folder is listed, so a
 * file swapped for a link during an analysis is caught too.
 */
async function outsideTarget(caseRoot: string, path: string): Promise<string | null> {
  let real;
  try {
    real = await realpath(path);
  } catch {
    return null;
  }
  return isPathInside(caseRoot, real) ? null : real;
}

function formatBytes(bytes: number): string {
  return bytes === 1 ? '1 byte' : `${bytes.toLocaleString('en-US')} bytes`;
}

/**
 * Hash, format and size of one file. A truncated JPEG still has a readable header, so truncation is only caught
 * when pixels are decoded (preprocess.ts, failOn 'error'); the cheap end-of-image check here catches the common
 * case (an interrupted copy) before the file enters the case.
 */
export async function inspectCrop(file: CropFile): Promise<Inspection> {
  const outside = await outsideTarget(file.caseRoot, file.path);
  if (outside !== null) {
    const reason =
      `${file.relativePath} is a link to ${outside}, outside the case folder; copy that image into the case folder ` +
      'instead (only images inside the folder can be shown for review and in the report).';
    // The hash names the link, not the image: a real copy put in its place has other "content" and is imported.
    return { ok: false, failure: { file: file.relativePath, reason }, sha256: sha256Of(Buffer.from(`link:${outside}`)), bytes: 0 };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file.path);
  } catch (error) {
    return {
      ok: false,
      failure: { file: file.relativePath, reason: `${file.relativePath} cannot be read: ${(error as Error).message}` },
      sha256: '',
      bytes: 0,
    };
  }
  const fail = (reason: string): Inspection => ({ ok: false, failure: { file: file.relativePath, reason }, sha256: sha256Of(bytes), bytes: bytes.length });
  if (bytes.length === 0) return fail(`${file.relativePath} is empty (0 bytes); it is not an image.`);

  let metadata: Pick<Metadata, 'format' | 'width' | 'height'> | null = headerDimensions(bytes);
  if (metadata === null) {
    try {
      metadata = await sharp(bytes).metadata();
    } catch (error) {
      return fail(`${file.relativePath} is not a JPEG, PNG or TIFF image (${formatBytes(bytes.length)}; ${(error as Error).message}).`);
    }
  }
  const format = metadata.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.has(format)) {
    return fail(`${file.relativePath} is a ${format} file, not a JPEG, PNG or TIFF image.`);
  }
  if (format === 'jpeg' && !hasJpegEndMarker(bytes)) {
    return fail(`${file.relativePath} is a truncated JPEG (${formatBytes(bytes.length)}, no end-of-image marker); copy the file again.`);
  }
  const { width, height } = metadata;
  if (!width || !height) return fail(`${file.relativePath} has no readable width and height.`);
  const { minSide, maxSide, maxAspectRatio } = CROP_SIZE_POLICY;
  const aspect = Math.max(width, height) / Math.min(width, height);
  if (Math.min(width, height) < minSide || Math.max(width, height) > maxSide || aspect > maxAspectRatio) {
    return fail(
      `${file.relativePath} is ${width}×${height} px; a single-cell crop must be roughly square, ${minSide} to ${maxSide} px a side ` +
        '(Matek crops are 250×250).',
    );
  }
  return { ok: true, crop: { ...file, sha256: sha256Of(bytes), width, height, bytes: bytes.length, format, data: bytes } };
}

/**
 * The SHA-256 of every crop file of the folder, as the import will hash it (sha256Of of the file's bytes), distinct.
 * Files the import would refuse unread (a link out of the folder, an unreadable file) are left out: they never
 * become counted images. Read one at a time: ~2,000 crops of tens of kilobytes are a few tens of megabytes.
 */
export async function hashCropFiles(folder: string): Promise<string[]> {
  const hashes = new Set<string>();
  for (const file of await listCropFiles(folder)) {
    if ((await outsideTarget(file.caseRoot, file.path)) !== null) continue;
    try {
      hashes.add(sha256Of(await readFile(file.path)));
    } catch {
      // unreadable now: the import lists it as a failed file, with the system's reason
    }
  }
  return [...hashes];
}

/** What is on disk now for an image stored with `sha256`: its bytes when unchanged, else why it cannot be used. */
export type StoredFileState = { state: 'same'; data: Buffer } | { state: 'changed' } | { state: 'missing'; message: string };

export async function readStoredFile(caseRoot: string, path: string, sha256: string): Promise<StoredFileState> {
  const outside = await outsideTarget(caseRoot, path);
  if (outside !== null) return { state: 'missing', message: `it is now a link to ${outside}, outside the case folder` };
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    return { state: 'missing', message: (error as Error).message };
  }
  return sha256Of(data) === sha256 ? { state: 'same', data } : { state: 'changed' };
}

/** JPEG ends with FF D9; some writers pad after it, so look in the last few bytes. */
function hasJpegEndMarker(bytes: Buffer): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 64));
  for (let i = tail.length - 2; i >= 0; i--) {
    if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
  }
  return false;
}

/**
 * Format and size read from a JPEG's frame header or a PNG's IHDR chunk, without a libvips call: at about 0.4 ms of
 * CPU per call, sharp's metadata() was a tenth of the per-cell cost of an analysis (scripts/bench.mjs). The pixels
 * are decoded in full before classification anyway, which is what proves the file sound. null: let libvips look.
 */
export function headerDimensions(bytes: Buffer): { format: 'jpeg' | 'png'; width: number; height: number } | null {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a && bytes.toString('latin1', 12, 16) === 'IHDR') {
    return { format: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'jpeg', height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    if (marker === 0xda || marker === 0xd9 || length < 2) return null;
    offset += 2 + length;
  }
  return null;
}
