import { describe, expect, it } from 'vitest';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CaseFolderError } from '../../../src/main/inference/errors';
import sharp from 'sharp';
import { headerDimensions, inspectCrop, listCropFiles } from '../../../src/main/inference/case-folder';
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

  it('counts a linked image like a copy and reports a broken link as a failed file', async () => {
    const t = tempDir('links');
    try {
      symlinkSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(t.path, 'linked.jpg'));
      symlinkSync(join(t.path, 'gone.jpg'), join(t.path, 'broken-link.jpg'));
      symlinkSync(GOOD_CROPS, join(t.path, 'linked-folder'));
      const files = await listCropFiles(t.path);
      expect(files.map((f) => f.relativePath)).toEqual(['broken-link.jpg', 'linked.jpg']);
      const [broken, linked] = await Promise.all(files.map((f) => inspectCrop(f)));
      expect(linked?.ok).toBe(true);
      expect(broken?.ok).toBe(false);
      if (broken && !broken.ok) expect(broken.failure.reason).toMatch(/^broken-link\.jpg cannot be read/);
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
    const result = await inspectCrop({ path: join(GOOD_CROPS, 'BLA_00001.jpg'), relativePath: 'BLA_00001.jpg' });
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
    const wide = await sharp({ create: { width: 300, height: 120, channels: 3, background: '#808080' } }).jpeg({ progressive: true }).toBuffer();
    expect(headerDimensions(wide)).toEqual({ format: 'jpeg', width: 300, height: 120 });
    expect(headerDimensions(Buffer.from('not an image at all'))).toBeNull();
  });

  it.each([
    ['empty.jpg', /empty \(0 bytes\)/],
    ['not-an-image.jpg', /not a JPEG, PNG or TIFF image/],
    ['truncated.jpg', /truncated JPEG/],
    ['wrong-size-40px.jpg', /40×40 px; a single-cell crop must be roughly square, 64 to 1024 px/],
  ])('refuses %s with a message naming the file', async (name, reason) => {
    const result = await inspectCrop({ path: join(BROKEN_CROPS, name), relativePath: `broken/${name}` });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.failure.file).toBe(`broken/${name}`);
      expect(result.failure.reason).toMatch(reason);
      expect(result.failure.reason.startsWith(`broken/${name}`)).toBe(true);
    }
  });
});
