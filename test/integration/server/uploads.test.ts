// Crops uploaded from a station: per-file PUT with the SHA-256 in a header, verified while streamed; a wrong hash
// refused and nothing stored; re-sending a stored file a no-op; the case refused until the upload is complete and
// analysable after.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult } from '../../../src/shared/api';
import type { UploadStatus } from '../../../src/main/server/uploads';
import { GOOD_CROPS, waitForAnalysis } from '../service/helpers';
import { startTestServer, type ServerFixture } from './helpers';
import type { Station } from '../../helpers/station-client';

function cropsOf(folder: string): { path: string; bytes: Buffer; sha256: string }[] {
  const out: { path: string; bytes: Buffer; sha256: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(jpe?g|png)$/i.test(entry.name)) {
        const bytes = readFileSync(full);
        out.push({ path: relative(folder, full).split('\\').join('/'), bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
      }
    }
  };
  walk(folder);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

const json = <T>(body: Buffer) => JSON.parse(body.toString('utf8')) as ApiResult<T>;

describe('uploading a case from a station', () => {
  let fx: ServerFixture;
  let tech: Station;
  const crops = cropsOf(GOOD_CROPS);

  beforeAll(async () => {
    fx = await startTestServer('uploads');
    tech = await fx.station('tech1');
  }, 60_000);
  afterAll(async () => fx?.dispose());

  const begin = async (): Promise<UploadStatus> => {
    const response = await tech.request('/uploads', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ files: crops.map((c) => ({ path: c.path, sha256: c.sha256, size: c.bytes.length })) }),
    });
    expect(response.status).toBe(201);
    const result = json<UploadStatus>(response.body);
    if (!result.ok) throw new Error(result.error.message);
    return result.value;
  };
  const put = (uploadId: string, path: string, bytes: Buffer, sha256: string) =>
    tech.request(`/uploads/${uploadId}/${path.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      body: bytes,
      headers: { 'X-Content-SHA256': sha256, 'Content-Type': 'application/octet-stream' },
    });

  it('refuses a file whose bytes do not match its SHA-256, storing nothing, and a case of the incomplete upload', async () => {
    const upload = await begin();
    expect(upload.missing).toHaveLength(crops.length);
    const first = crops[0]!;
    const corrupted = Buffer.from(first.bytes);
    corrupted[corrupted.length - 1] = corrupted[corrupted.length - 1]! ^ 0xff;
    const wrong = await put(upload.uploadId, first.path, corrupted, first.sha256);
    expect(wrong.status).toBe(422);
    expect(json(wrong.body)).toMatchObject({ ok: false, error: { field: 'sha256', message: expect.stringContaining(`${first.path} arrived with SHA-256`) } });
    expect(existsSync(join(upload.folder, first.path))).toBe(false);
    expect(readdirSync(upload.folder).filter((n) => n.startsWith('.part-'))).toEqual([]);

    const declaredOther = await put(upload.uploadId, first.path, first.bytes, crops[1]!.sha256);
    expect(declaredOther.status).toBe(409);

    const good = await put(upload.uploadId, first.path, first.bytes, first.sha256);
    expect(good.status).toBe(201);
    const refused = await tech.call('createCase', [
      { patient: { labId: 'P-UP' }, accession: 'UP-PART', specimen: 'bone_marrow_aspirate', folder: upload.folder },
    ]);
    expect(refused.result).toMatchObject({
      ok: false,
      error: { field: 'folder', message: expect.stringMatching(/upload .* is not complete \(1 of 11 files stored\)/) },
    });
  });

  it('resumes: a re-sent stored file is a no-op, the status lists what is missing, and the complete upload becomes a case that analyses', async () => {
    const upload = await begin();
    const half = crops.slice(0, 5);
    for (const c of half) expect((await put(upload.uploadId, c.path, c.bytes, c.sha256)).status).toBe(201);
    // The station was interrupted; it asks what is missing and sends the rest, re-sending one stored file.
    const status = json<UploadStatus>((await tech.request(`/uploads/${upload.uploadId}`)).body);
    expect(status.ok && status.value.missing).toEqual(crops.slice(5).map((c) => c.path));
    const again = await put(upload.uploadId, half[0]!.path, half[0]!.bytes, half[0]!.sha256);
    expect(again.status).toBe(200);
    expect(json(again.body)).toMatchObject({ ok: true, value: { alreadyStored: true } });
    for (const c of crops.slice(5)) expect((await put(upload.uploadId, c.path, c.bytes, c.sha256)).status).toBe(201);

    const created = await tech.api.createCase({ patient: { labId: 'P-UP' }, accession: 'UP-1', specimen: 'bone_marrow_aspirate', folder: upload.folder });
    await tech.api.startAnalysis(created.id);
    expect((await waitForAnalysis(tech.api, created.id)).phase).toBe('done');
    expect((await tech.api.listCells({ caseId: created.id, scope: 'all', limit: 100 })).total).toBe(crops.length);
  }, 60_000);

  it('applies the shared-crops rule to an uploaded folder: the same crops for another patient are refused until confirmed', async () => {
    // Runs after the test above analysed UP-1 (patient P-UP) from these very crops.
    const upload = await begin();
    for (const c of crops) expect((await put(upload.uploadId, c.path, c.bytes, c.sha256)).status).toBe(201);
    const input = { patient: { labId: 'P-UP-2' }, accession: 'UP-2', specimen: 'bone_marrow_aspirate' as const, folder: upload.folder };
    const { result: refused } = await tech.call('createCase', [input]);
    expect(refused).toMatchObject({ ok: false, error: { kind: 'shared_crops', field: 'confirmSharedCrops' } });
    expect(!refused.ok && refused.error.message).toContain(
      `case UP-1 of patient P-UP (no name on record) holds ${crops.length} of the folder's ${crops.length} files`,
    );
    const created = await tech.api.createCase({ ...input, confirmSharedCrops: { reason: 'Uploaded again for the paired patient' } });
    expect(created.sharedCrops).toMatchObject([
      { otherAccession: 'UP-1', otherPatientLabId: 'P-UP', sharedFiles: crops.length, confirmedBy: 'Tina Technician' },
    ]);
  }, 60_000);

  it('refuses uploads without a session, from a pathologist, without the CSRF header, and paths that climb out', async () => {
    const anonymous = fx.anonymous();
    expect((await anonymous.request('/uploads', { method: 'POST', body: '{}' })).status).toBe(401);
    const pathologist = await fx.station('path1');
    expect((await pathologist.request('/uploads', { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await tech.request('/uploads', { method: 'POST', body: '{}', noCsrf: true })).status).toBe(403);
    const climbing = await tech.request('/uploads', {
      method: 'POST',
      body: JSON.stringify({ files: [{ path: '../x.jpg', sha256: '0'.repeat(64), size: 1 }] }),
    });
    expect(climbing.status).toBe(400);
    expect(json(climbing.body)).toMatchObject({ ok: false, error: { field: 'path' } });
  });
});
