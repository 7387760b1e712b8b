// The cell-image resolver used by the Electron protocol and the HTTP host: only a stored image of a stored case,
// inside that case's folder once symlinks are followed, ever resolves to a file.
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCellImageRoute, resolveCellImage } from '../../../src/main/protocol/resolve-cell-image';
import type { CellImageLocation } from '../../../src/main/service/types';
import { GOOD_CROPS, startService, waitForAnalysis, type ServiceFixture } from './helpers';

describe('cell images of stored cases', () => {
  let fx: ServiceFixture;
  let caseA: number;
  let caseB: number;
  let imageOfA: number;
  let imageOfB: number;
  const lookup = (c: number, i: number) => fx.service.locateCellImage(c, i);

  beforeAll(async () => {
    fx = startService('cell-images');
    for (const name of ['a', 'b']) {
      const c = await fx.service.createCase({ patient: { labId: `P-${name}` }, accession: `ACC-${name}`, specimen: 'bone_marrow_aspirate', folder: fx.caseFolder(name) });
      await fx.service.startAnalysis(c.id);
      await waitForAnalysis(fx.service, c.id);
      if (name === 'a') caseA = c.id;
      else caseB = c.id;
    }
    imageOfA = (await fx.service.listCells({ caseId: caseA, scope: 'all', limit: 1 })).cells[0]!.imageId;
    imageOfB = (await fx.service.listCells({ caseId: caseB, scope: 'all', limit: 1 })).cells[0]!.imageId;
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('resolves an image of the case to its file with an image content type', async () => {
    const resolution = await resolveCellImage(lookup, `${caseA}/${imageOfA}`);
    expect(resolution.ok).toBe(true);
    if (resolution.ok) {
      expect(resolution.path.startsWith(join(fx.root, 'cases', 'a'))).toBe(true);
      expect(resolution.contentType).toMatch(/^image\/(jpeg|png)$/);
    }
  });

  it('refuses another case’s image asked for under this case', async () => {
    expect(await resolveCellImage(lookup, `${caseA}/${imageOfB}`)).toMatchObject({ ok: false, status: 404 });
    expect(await resolveCellImage(lookup, `${caseB}/${imageOfA}`)).toMatchObject({ ok: false, status: 404 });
  });

  it('refuses unknown ids and anything that is not two ids', async () => {
    for (const rest of [`${caseA}/999999`, `999999/${imageOfA}`, `${caseA}`, `${caseA}/${imageOfA}/x`, `../${caseA}/${imageOfA}`, `${caseA}/..%2F${imageOfA}`, `0/${imageOfA}`, `${caseA}/-1`, `${caseA}/1e3`, '']) {
      expect(await resolveCellImage(lookup, rest), rest).toMatchObject({ ok: false, status: 404 });
    }
    expect(parseCellImageRoute('12/34')).toEqual({ caseId: 12, imageId: 34 });
    expect(parseCellImageRoute('012/34')).toBeNull();
  });

  it('refuses a stored path that climbs out of the case folder', async () => {
    const folder = join(fx.root, 'cases', 'a');
    writeFileSync(join(fx.root, 'secret.jpg'), 'not for the renderer');
    const climbing = (): CellImageLocation => ({ folder, file: '../../secret.jpg' });
    expect(await resolveCellImage(climbing, '1/1')).toMatchObject({ ok: false, status: 403 });
    const absolute = (): CellImageLocation => ({ folder, file: join(fx.root, 'secret.jpg') });
    expect(await resolveCellImage(absolute, '1/1')).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses a symlink in the case folder that points outside it', async () => {
    const folder = join(fx.root, 'cases', 'with-link');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(fx.root, 'outside.jpg'));
    symlinkSync(join(fx.root, 'outside.jpg'), join(folder, 'LINK.jpg'));
    expect(await resolveCellImage(() => ({ folder, file: 'LINK.jpg' }), '1/1')).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses files that are not images even inside the folder', async () => {
    const folder = join(fx.root, 'cases', 'a');
    expect(await resolveCellImage(() => ({ folder, file: 'labels.csv' }), '1/1')).toMatchObject({ ok: false, status: 403 });
  });

  it('answers 404 when the stored image has gone from disk', async () => {
    const folder = join(fx.root, 'cases', 'a');
    expect(await resolveCellImage(() => ({ folder, file: 'gone.jpg' }), '1/1')).toMatchObject({ ok: false, status: 404 });
  });
});
