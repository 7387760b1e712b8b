// The cell-image resolver used by the Electron protocol and the HTTP host: only a stored image of a stored case,
// inside that case's folder once symlinks are followed, ever resolves, and only to the bytes that were imported.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCellImageRoute, resolveCellImage } from '../../../src/main/protocol/resolve-cell-image';
import type { CellImageLocation } from '../../../src/main/service/types';
import { ENGINES, GOOD_CROPS, type ServiceFixture, startService, usePostgres, waitForAnalysis } from './helpers';

const pgSetup = usePostgres();

/** A location for the resolver's path checks, which come before any content check. */
const at = (folder: string, file: string): CellImageLocation => ({ folder, file, sha256: '0'.repeat(64), copies: [] });

describe.each(ENGINES)('cell images of stored cases on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  let caseA: number;
  let caseB: number;
  let imageOfA: number;
  let imageOfB: number;
  const lookup = (c: number, i: number) => fx.service.locateCellImage(c, i);

  beforeAll(async () => {
    fx = await startService('cell-images', { engine, pg: pgSetup });
    for (const name of ['a', 'b']) {
      const c = await fx.service.createCase({
        patient: { labId: `P-${name}` },
        accession: `ACC-${name}`,
        specimen: 'bone_marrow_aspirate',
        folder: fx.caseFolder(name),
      });
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

  it("resolves an image of the case to its file's bytes with an image content type", async () => {
    const location = (await lookup(caseA, imageOfA))!;
    expect(location.folder).toBe(join(fx.root, 'cases', 'a'));
    const resolution = await resolveCellImage(lookup, `${caseA}/${imageOfA}`);
    expect(resolution.ok).toBe(true);
    if (resolution.ok) {
      expect(resolution.data.equals(readFileSync(join(location.folder, location.file)))).toBe(true);
      expect(resolution.contentType).toMatch(/^image\/(jpeg|png)$/);
    }
  });

  it('refuses an image whose file changed since import, or shows an identical copy that still has its bytes', async () => {
    const folder = join(fx.root, 'cases', 'changed');
    mkdirSync(folder, { recursive: true });
    const original = readFileSync(join(GOOD_CROPS, 'ART_00002.jpg'));
    writeFileSync(join(folder, 'a.jpg'), original);
    writeFileSync(join(folder, 'copy-of-a.jpg'), original);
    writeFileSync(join(folder, 'b.jpg'), readFileSync(join(GOOD_CROPS, 'EOS_00001.jpg')));
    const c = await fx.service.createCase({ patient: { labId: 'P-changed' }, accession: 'ACC-changed', specimen: 'bone_marrow_aspirate', folder });
    await fx.service.startAnalysis(c.id);
    await waitForAnalysis(fx.service, c.id);
    const cells = (await fx.service.listCells({ caseId: c.id, scope: 'all', limit: 10 })).cells;
    const idOf = (file: string): number => cells.find((cell) => cell.file === file)!.imageId;
    expect(await lookup(c.id, idOf('a.jpg'))).toMatchObject({ sha256: createHash('sha256').update(original).digest('hex'), copies: ['copy-of-a.jpg'] });

    // Another cell copied over b.jpg, which has no copy: not shown, so it cannot be reviewed as b.jpg's cell.
    copyFileSync(join(GOOD_CROPS, 'LYT_00001.jpg'), join(folder, 'b.jpg'));
    expect(await resolveCellImage(lookup, `${c.id}/${idOf('b.jpg')}`)).toMatchObject({ ok: false, status: 404, reason: /changed on disk/ });

    // a.jpg overwritten, then deleted: its copy still has the imported bytes and is shown; once the copy is gone too,
    // nothing is.
    copyFileSync(join(GOOD_CROPS, 'LYT_00001.jpg'), join(folder, 'a.jpg'));
    const shown = await resolveCellImage(lookup, `${c.id}/${idOf('a.jpg')}`);
    expect(shown.ok && shown.data.equals(original)).toBe(true);
    rmSync(join(folder, 'a.jpg'));
    const stillShown = await resolveCellImage(lookup, `${c.id}/${idOf('a.jpg')}`);
    expect(stillShown.ok && stillShown.data.equals(original)).toBe(true);
    rmSync(join(folder, 'copy-of-a.jpg'));
    expect(await resolveCellImage(lookup, `${c.id}/${idOf('a.jpg')}`)).toMatchObject({ ok: false, status: 404 });

    // Restored: shown again.
    writeFileSync(join(folder, 'a.jpg'), original);
    const restored = await resolveCellImage(lookup, `${c.id}/${idOf('a.jpg')}`);
    expect(restored.ok && restored.data.equals(original)).toBe(true);
  });

  it('never shows a copy that lies outside the case folder, even with the imported bytes', async () => {
    const folder = join(fx.root, 'cases', 'copy-link');
    mkdirSync(folder, { recursive: true });
    const bytes = readFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'));
    writeFileSync(join(folder, 'a.jpg'), 'overwritten');
    writeFileSync(join(fx.root, 'outside-copy.jpg'), bytes);
    symlinkSync(join(fx.root, 'outside-copy.jpg'), join(folder, 'copy.jpg'));
    const location: CellImageLocation = {
      folder,
      file: 'a.jpg',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      copies: ['copy.jpg', '../outside-copy.jpg'],
    };
    expect(await resolveCellImage(() => location, '1/1')).toMatchObject({ ok: false, status: 404 });
  });

  it('refuses another case’s image asked for under this case', async () => {
    expect(await resolveCellImage(lookup, `${caseA}/${imageOfB}`)).toMatchObject({ ok: false, status: 404 });
    expect(await resolveCellImage(lookup, `${caseB}/${imageOfA}`)).toMatchObject({ ok: false, status: 404 });
  });

  it('refuses unknown ids and anything that is not two ids', async () => {
    for (const rest of [
      `${caseA}/999999`,
      `999999/${imageOfA}`,
      `${caseA}`,
      `${caseA}/${imageOfA}/x`,
      `../${caseA}/${imageOfA}`,
      `${caseA}/..%2F${imageOfA}`,
      `0/${imageOfA}`,
      `${caseA}/-1`,
      `${caseA}/1e3`,
      '',
    ]) {
      expect(await resolveCellImage(lookup, rest), rest).toMatchObject({ ok: false, status: 404 });
    }
    expect(parseCellImageRoute('12/34')).toEqual({ caseId: 12, imageId: 34 });
    expect(parseCellImageRoute('012/34')).toBeNull();
  });

  it('refuses a stored path that climbs out of the case folder', async () => {
    const folder = join(fx.root, 'cases', 'a');
    writeFileSync(join(fx.root, 'secret.jpg'), 'not for the renderer');
    const climbing = (): CellImageLocation => at(folder, '../../secret.jpg');
    expect(await resolveCellImage(climbing, '1/1')).toMatchObject({ ok: false, status: 403 });
    const absolute = (): CellImageLocation => at(folder, join(fx.root, 'secret.jpg'));
    expect(await resolveCellImage(absolute, '1/1')).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses a symlink in the case folder that points outside it', async () => {
    const folder = join(fx.root, 'cases', 'with-link');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(fx.root, 'outside.jpg'));
    symlinkSync(join(fx.root, 'outside.jpg'), join(folder, 'LINK.jpg'));
    expect(await resolveCellImage(() => at(folder, 'LINK.jpg'), '1/1')).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses files that are not images even inside the folder', async () => {
    const folder = join(fx.root, 'cases', 'a');
    expect(await resolveCellImage(() => at(folder, 'labels.csv'), '1/1')).toMatchObject({ ok: false, status: 403 });
  });

  it('answers 404 when the stored image has gone from disk', async () => {
    const folder = join(fx.root, 'cases', 'a');
    expect(await resolveCellImage(() => at(folder, 'gone.jpg'), '1/1')).toMatchObject({ ok: false, status: 404 });
  });
});
