// Uploading a case's crops from a lab-server station (the server's /uploads, src/main/server/uploads.ts): each file's
// SHA-256 computed here, the list sent first, then each file PUT with its hash, four at a time. The server keeps a
// file only when its bytes match; a file it already has is a no-op, so a failed PUT is simply sent again.
import type { ApiResult } from '../../../shared/api';
import { csrfHeaders } from './http-client';

const CROP = /\.(jpe?g|png|tiff?)$/i;
const PARALLEL = 4;
const ATTEMPTS = 3;

export interface UploadProgress {
  phase: 'hashing' | 'sending';
  done: number;
  total: number;
}

export interface UploadedFolder {
  /** The folder on the server that holds the uploaded crops: the new case's folder. */
  folder: string;
  files: number;
}

/** The crops among the chosen files, with their paths inside the chosen folder (its own name dropped). */
export function cropsOf(files: readonly File[]): { file: File; path: string }[] {
  return files
    .map((file) => {
      const relative = (file.webkitRelativePath || file.name).split('/');
      return { file, path: (relative.length > 1 ? relative.slice(1) : relative).join('/') };
    })
    .filter(({ path }) => CROP.test(path) && !path.split('/').some((part) => part.startsWith('.')));
}

async function sha256(file: File): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function answer<T>(response: Response, what: string): Promise<T> {
  let body: ApiResult<T>;
  try {
    body = (await response.json()) as ApiResult<T>;
  } catch {
    throw new Error(`${what}: the server answered HTTP ${response.status}.`);
  }
  if (!body.ok) throw new Error(`${what}: ${body.error.message}`);
  return body.value;
}

export async function uploadCrops(files: readonly File[], onProgress: (progress: UploadProgress) => void): Promise<UploadedFolder> {
  const crops = cropsOf(files);
  if (crops.length === 0) throw new Error('The chosen folder holds no JPEG, PNG or TIFF files.');
  const listed: { path: string; sha256: string; size: number; file: File }[] = [];
  for (const { file, path } of crops) {
    listed.push({ path, sha256: await sha256(file), size: file.size, file });
    if (listed.length % 50 === 0 || listed.length === crops.length) onProgress({ phase: 'hashing', done: listed.length, total: crops.length });
  }
  const begun = await answer<{ uploadId: string; folder: string }>(
    await fetch('/uploads', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...csrfHeaders() },
      body: JSON.stringify({ files: listed.map(({ path, sha256: hash, size }) => ({ path, sha256: hash, size })) }),
    }),
    'Starting the upload',
  );
  let next = 0;
  let done = 0;
  const send = async (entry: (typeof listed)[number]): Promise<void> => {
    const url = `/uploads/${begun.uploadId}/${entry.path.split('/').map(encodeURIComponent).join('/')}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(url, { method: 'PUT', headers: { 'X-Content-SHA256': entry.sha256, ...csrfHeaders() }, body: entry.file });
        await answer(response, entry.path);
        return;
      } catch (error) {
        if (attempt >= ATTEMPTS) throw error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < listed.length) {
        await send(listed[next++]!);
        done += 1;
        onProgress({ phase: 'sending', done, total: listed.length });
      }
    }),
  );
  return { folder: begun.folder, files: listed.length };
}

/** Only a lab-server station (a page served over HTTPS, not the desktop app's own window) can upload. */
export function isLabServerStation(): boolean {
  return window.marrowcount === undefined && window.location.protocol === 'https:';
}
