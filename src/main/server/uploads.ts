// Crops uploaded from a station, for a lab whose stations see the slides' exports but the server does not.
//   POST /uploads               {"files": [{"path": "a/BLA_1.jpg", "sha256": "<hex>", "size": 1234}, ...]}
//                               → {"uploadId", "folder", "missing": [paths]}
//   GET  /uploads/<id>          → the same status (what is still missing: resume from there)
//   PUT  /uploads/<id>/<path>   the file's bytes, streamed, with X-Content-SHA256: <hex>
// Each file is written to a temporary name while its SHA-256 is computed, and kept only when it matches both the
// header and the manifest; a file already stored with that hash is a no-op (a resumed upload re-sends safely).
// Until the last file is stored the folder holds UPLOAD_INCOMPLETE_MARKER, and the service refuses to make a case
// of it; after, the station creates the case with `folder` set to the returned folder.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { UPLOAD_INCOMPLETE_MARKER } from '../service/case-folder-policy';
import { isPathInside } from '../security/path-inside';

export const UPLOADS_PREFIX = '/uploads';
/** The largest single crop accepted: crops are tens of kilobytes; a whole-slide image is not a crop. */
export const MAX_UPLOAD_FILE_BYTES = 50 * 1024 * 1024;
export const MAX_UPLOAD_FILES = 200_000;
const MANIFEST_FILE = '.marrowcount-upload-manifest.json';
const CROP_EXTENSIONS = /\.(jpe?g|png|tiff?)$/i;
const HEX64 = /^[0-9a-f]{64}$/;

export interface UploadFileEntry {
  path: string;
  sha256: string;
  size: number;
}

export interface UploadStatus {
  uploadId: string;
  folder: string;
  expected: number;
  stored: number;
  missing: string[];
  complete: boolean;
}

export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

function checkRelativePath(path: unknown, where: string): string {
  if (typeof path !== 'string' || path === '' || path.length > 500)
    throw new UploadError(400, `${where}: a file path is needed (at most 500 characters).`, 'path');
  const parts = path.split('/');
  if (path.includes('\\') || path.includes('\0') || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.'))) {
    throw new UploadError(400, `${where}: "${path.slice(0, 100)}" is not a plain relative path (no "..", no leading "/", no hidden names).`, 'path');
  }
  if (!CROP_EXTENSIONS.test(path)) throw new UploadError(400, `${where}: "${path.slice(0, 100)}" is not a JPEG, PNG or TIFF file name.`, 'path');
  return path;
}

export function parseManifest(body: unknown): UploadFileEntry[] {
  const files = (body as { files?: unknown } | null)?.files;
  if (!Array.isArray(files) || files.length === 0)
    throw new UploadError(400, 'The upload needs {"files": [{"path", "sha256", "size"}, ...]} with at least one file.', 'files');
  if (files.length > MAX_UPLOAD_FILES)
    throw new UploadError(400, `An upload holds at most ${MAX_UPLOAD_FILES} files; this one lists ${files.length}.`, 'files');
  const seen = new Set<string>();
  return files.map((f: unknown, i) => {
    const entry = f as Partial<UploadFileEntry> | null;
    const path = checkRelativePath(entry?.path, `files[${i}]`);
    if (seen.has(path)) throw new UploadError(400, `files[${i}]: "${path}" is listed twice.`, 'path');
    seen.add(path);
    if (typeof entry?.sha256 !== 'string' || !HEX64.test(entry.sha256))
      throw new UploadError(400, `files[${i}] (${path}): sha256 must be 64 lower-case hex digits.`, 'sha256');
    if (typeof entry.size !== 'number' || !Number.isInteger(entry.size) || entry.size < 1 || entry.size > MAX_UPLOAD_FILE_BYTES) {
      throw new UploadError(400, `files[${i}] (${path}): size must be a whole number of bytes from 1 to ${MAX_UPLOAD_FILE_BYTES}.`, 'size');
    }
    return { path, sha256: entry.sha256, size: entry.size };
  });
}

function sha256OfFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

interface OpenUpload {
  folder: string;
  files: Map<string, UploadFileEntry>;
  /** Paths stored and verified (found on disk when the upload was first opened in this process, then kept up to date). */
  stored: Set<string>;
}

export class UploadStore {
  /** Uploads in use, so that each PUT costs O(1) and not a look at every file of the upload (2,000 files: 4 M stats). */
  private readonly open = new Map<string, OpenUpload>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  private opened(uploadId: string): OpenUpload {
    let upload = this.open.get(uploadId);
    if (upload === undefined) {
      const folder = this.folderOf(uploadId);
      const files = new Map(this.manifestOf(folder).map((f) => [f.path, f] as const));
      // A file counts as stored when it is there under its final name: it is renamed there only after verification.
      const stored = new Set([...files.keys()].filter((path) => existsSync(join(folder, path))));
      upload = { folder, files, stored };
      this.open.set(uploadId, upload);
    }
    return upload;
  }

  private folderOf(uploadId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) throw new UploadError(404, 'No such upload.');
    const folder = join(this.root, uploadId);
    if (!existsSync(join(folder, MANIFEST_FILE))) throw new UploadError(404, 'No such upload.');
    return folder;
  }

  private manifestOf(folder: string): UploadFileEntry[] {
    return JSON.parse(readFileSync(join(folder, MANIFEST_FILE), 'utf8')) as UploadFileEntry[];
  }

  create(files: UploadFileEntry[]): UploadStatus {
    const uploadId = randomUUID();
    const folder = join(this.root, uploadId);
    mkdirSync(folder);
    // The marker first: from the moment the folder exists, a case cannot be made of it until it is complete.
    writeFileSync(join(folder, UPLOAD_INCOMPLETE_MARKER), JSON.stringify({ expected: files.length, stored: 0 }));
    writeFileSync(join(folder, MANIFEST_FILE), JSON.stringify(files));
    return this.status(uploadId);
  }

  status(uploadId: string): UploadStatus {
    const { folder, files, stored } = this.opened(uploadId);
    const missing = [...files.keys()].filter((path) => !stored.has(path));
    return { uploadId, folder, expected: files.size, stored: stored.size, missing, complete: missing.length === 0 };
  }

  /** Streams one file to disk, verifying its hash; returns whether it was stored now (false: it already was). */
  async put(
    uploadId: string,
    path: string,
    declaredSha256: string | undefined,
    body: IncomingMessage,
  ): Promise<{ stored: boolean; status: Omit<UploadStatus, 'missing'> }> {
    const upload = this.opened(uploadId);
    const { folder } = upload;
    const relative = checkRelativePath(path, 'the URL');
    const entry = upload.files.get(relative);
    if (entry === undefined) throw new UploadError(404, `${relative} is not in this upload's list of files.`, 'path');
    if (declaredSha256 === undefined || !HEX64.test(declaredSha256))
      throw new UploadError(400, `${relative}: the X-Content-SHA256 header must give the file's SHA-256 (64 lower-case hex digits).`, 'sha256');
    if (declaredSha256 !== entry.sha256)
      throw new UploadError(
        409,
        `${relative}: X-Content-SHA256 differs from the SHA-256 this upload listed for it. Start a new upload if the file changed.`,
        'sha256',
      );
    const target = join(folder, relative);
    if (!isPathInside(folder, target)) throw new UploadError(400, `${relative} is outside the upload.`, 'path');
    if (existsSync(target) && sha256OfFile(target) === entry.sha256) {
      body.resume(); // already stored and verified: the bytes are read and dropped
      return { stored: false, status: this.finishIfComplete(uploadId) };
    }
    mkdirSync(dirname(target), { recursive: true });
    const partial = join(folder, `.part-${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await new Promise<void>((resolveWrite, reject) => {
        const out = createWriteStream(partial, { flags: 'wx' });
        body.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > entry.size) {
            body.unpipe(out);
            body.resume();
            out.destroy();
            reject(new UploadError(413, `${relative} is larger than the ${entry.size} bytes its upload listed.`, 'size'));
            return;
          }
          hash.update(chunk);
        });
        body.on('error', reject);
        body.on('aborted', () => reject(new UploadError(400, `${relative}: the station stopped sending before the end.`)));
        out.on('error', reject);
        out.on('finish', resolveWrite);
        body.pipe(out);
      });
      const actual = hash.digest('hex');
      if (actual !== entry.sha256 || size !== entry.size) {
        throw new UploadError(
          422,
          `${relative} arrived with SHA-256 ${actual} (${size} bytes), not the ${entry.sha256} (${entry.size} bytes) it was sent as; it was not stored. Send it again.`,
          'sha256',
        );
      }
      renameSync(partial, target);
      upload.stored.add(relative);
    } finally {
      rmSync(partial, { force: true });
    }
    return { stored: true, status: this.finishIfComplete(uploadId) };
  }

  /** The answer to a PUT: counts only (a list of what is missing is GET /uploads/<id>'s). */
  private finishIfComplete(uploadId: string): Omit<UploadStatus, 'missing'> {
    const { folder, files, stored } = this.opened(uploadId);
    const marker = join(folder, UPLOAD_INCOMPLETE_MARKER);
    const complete = stored.size === files.size;
    if (complete) rmSync(marker, { force: true });
    else writeFileSync(marker, JSON.stringify({ expected: files.size, stored: stored.size }));
    return { uploadId, folder, expected: files.size, stored: stored.size, complete };
  }
}
