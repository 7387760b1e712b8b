import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaseFolderError } from '../../../src/main/inference/errors';
import sharp from 'sharp';
import { headerDimensions, inspectCrop, listCropFiles, readStoredFile } from '../../../src/main/inference/case-folder';
import { BROKEN_CROPS, GOOD_CROPS, GOOD_CROP_COUNT, tempDir } from './helpers';

describe('case folder', () => {
  it('finds crops recursively, in a stable order, skipping dotfiles and non-image files', async () => {
    const files = await listCropFiles(GOOD_CROPS);
    expect(files).toHaveLength(GOOD_CROP_COUNT);
    expect(files.map((f) => f.relativePath)).toContain('slide-2/EOS_00002.png');
    expect(files.map((f) => f.relativePath)).not.toContain('labels.csv');
    expect(files.some((f) => f.relativePath.includes('.DS_Store'))).toBe(false);
    expect(files.map((f) => f.relativePath)).toEqual([...files.map((f) => f.relativePath)].sort());
  });

  it('counts a link to an image inside the case folder like a copy, and refuses one that points outside it', async () => {
    const t = tempDir('links');
    try {
      const folder = join(t.path, 'case');
      mkdirSync(join(folder, 'slide'), { recursive: true });
      copyFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(folder, 'slide', 'BLA_00001.jpg'));
      copyFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(t.path, 'outside.jpg'));
      symlinkSync(join(folder, 'slide', 'BLA_00001.jpg'), join(folder, 'linked.jpg'));
      symlinkSync(join(t.path, 'outside.jpg'), join(folder, 'outside-link.jpg'));
      symlinkSync(join(folder, 'gone.jpg'), join(folder, 'broken-link.jpg'));
      symlinkSync(GOOD_CROPS, join(folder, 'linked-folder'));
      const files = await listCropFiles(folder);
      expect(files.map((f) => f.relativePath)).toEqual(['broken-link.jpg', 'linked.jpg', 'outside-link.jpg', 'slide/BLA_00001.jpg']);
      const [broken, linked, outside] = await Promise.all(files.map((f) => inspectCrop(f)));
      expect(linked?.ok).toBe(true);
      expect(broken?.ok).toBe(false);
      if (broken && !broken.ok) expect(broken.failure.reason).toMatch(/^broken-link\.jpg cannot be read/);
      expect(outside?.ok).toBe(false);
      if (outside && !outside.ok) {
        expect(outside.failure.reason).toContain(`outside-link.jpg is a link to ${realpathSync(join(t.path, 'outside.jpg'))}, outside the case folder`);
        // A real copy put in the link's place must not look like "the same bytes that failed before".
        const copy = await inspectCrop({ path: join(t.path, 'outside.jpg'), relativePath: 'outside-link.jpg', caseRoot: realpathSync(t.path) });
        expect(copy.ok && copy.crop.sha256).not.toBe(outside.sha256);
      }
    } finally {
      t.remove();
    }
  });

  it('does not read a stored crop through a link that now points outside the case folder, even with the same bytes', async () => {
    const t = tempDir('stored-link');
    try {
      const folder = join(t.path, 'case');
      mkdirSync(folder);
      const bytes = readFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'));
      writeFileSync(join(folder, 'cell.jpg'), bytes);
      writeFileSync(join(t.path, 'elsewhere.jpg'), bytes);
      const root = realpathSync(folder);
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect((await readStoredFile(root, join(folder, 'cell.jpg'), sha)).state).toBe('same');
      rmSync(join(folder, 'cell.jpg'));
      symlinkSync(join(t.path, 'elsewhere.jpg'), join(folder, 'cell.jpg'));
      expect(await readStoredFile(root, join(folder, 'cell.jpg'), sha)).toEqual({
        state: 'missing',
        message: `it is now a link to ${realpathSync(join(t.path, 'elsewhere.jpg'))}, outside the case folder`,
      });
    } finally {
      t.remove();
    }
  });

  it('lists image files of formats it cannot read, so that they are reported instead of silently left out', async () => {
    const t = tempDir('formats');
    try {
      const bla = join(GOOD_CROPS, 'BLA_00001.jpg');
      await sharp(bla).webp().toFile(join(t.path, 'cell.webp'));
      await sharp(bla).gif().toFile(join(t.path, 'cell.gif'));
      copyFileSync(bla, join(t.path, 'cell.jpg'));
      writeFileSync(join(t.path, 'notes.txt'), 'not a crop');
      const files = await listCropFiles(t.path);
      expect(files.map((f) => f.relativePath)).toEqual(['cell.gif', 'cell.jpg', 'cell.webp']);
      const [gif, , webp] = await Promise.all(files.map((f) => inspectCrop(f)));
      expect(gif?.ok === false && gif.failure.reason).toBe('cell.gif is a gif file, not a JPEG, PNG or TIFF image.');
      expect(webp?.ok === false && webp.failure.reason).toBe('cell.webp is a webp file, not a JPEG, PNG or TIFF image.');
    } finally {
      t.remove();
    }
  });

  it('reports a missing case folder by name', async () => {
    const missing = join(GOOD_CROPS, 'no-such-folder');
    await expect(listCropFiles(missing)).rejects.toBeInstanceOf(CaseFolderError);
    await expect(listCropFiles(missing)).rejects.toThrow(missing);
  });

  it('hashes and measures a good crop', async () => {
    const result = await inspectCrop({ path: join(GOOD_CROPS, 'BLA_00001.jpg'), relativePath: 'BLA_00001.jpg', caseRoot: realpathSync(GOOD_CROPS) });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.crop).toMatchObject({ width: 250, height: 250, format: 'jpeg', bytes: 16132 });
      expect(result.crop.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('reads the size from JPEG and PNG headers as libvips does', async () => {
    for (const file of await listCropFiles(GOOD_CROPS)) {
      const bytes = readFileSync(file.path);
      const fromVips = await sharp(bytes).metadata();
      expect(headerDimensions(bytes), file.relativePath).toEqual({ format: fromVips.format, width: fromVips.width, height: fromVips.height });
    }
    const wide = await sharp({ create: { width: 300, height: 120, channels: 3, background: '#808080' } })
      .jpeg({ progressive: true })
      .toBuffer();
    expect(headerDimensions(wide)).toEqual({ format: 'jpeg', width: 300, height: 120 });
    expect(headerDimensions(Buffer.from('not an image at all'))).toBeNull();
  });

  it.each([
    ['empty.jpg', /empty \(0 bytes\)/],
    ['not-an-image.jpg', /not a JPEG, PNG or TIFF image/],
    ['truncated.jpg', /truncated JPEG/],
    ['wrong-size-40px.jpg', /40×40 px; a single-cell crop must be roughly square, 64 to 1024 px/],
  ])('refuses %s with a message naming the file', async (name, reason) => {
    const result = await inspectCrop({ path: join(BROKEN_CROPS, name), relativePath: `broken/${name}`, caseRoot: realpathSync(BROKEN_CROPS) });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.failure.file).toBe(`broken/${name}`);
      expect(result.failure.reason).toMatch(reason);
      expect(result.failure.reason.startsWith(`broken/${name}`)).toBe(true);
    }
  });
});
