// The distinct copies the service and e2e tests file under different patients must be other bytes with the very
// same pixels (or the classification tests built on them would test another image), and broken files stay as they are.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { headerDimensions, hashCropFiles } from '../../../src/main/inference/case-folder';
import { copyCropsDistinctly } from '../../helpers/distinct-crops';

const REPO = resolve(import.meta.dirname, '../../..');
const GOOD = join(REPO, 'test/fixtures/crops/good');
const BROKEN = join(REPO, 'test/fixtures/crops/broken');
const root = mkdtempSync(join(tmpdir(), 'marrowcount-distinct-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();

describe('copyCropsDistinctly', () => {
  it("changes every good crop's bytes (a JPEG comment, a PNG tEXt chunk) and none of its pixels", async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    copyCropsDistinctly(GOOD, a, 'a');
    copyCropsDistinctly(GOOD, b, 'b');
    const names = files(GOOD);
    expect(names.some((n) => n.endsWith('.png'))).toBe(true);
    const [original, first, second] = await Promise.all([hashCropFiles(GOOD), hashCropFiles(a), hashCropFiles(b)]);
    expect(new Set([...original, ...first, ...second]).size).toBe(3 * names.length);
    for (const name of names) {
      const source = readFileSync(join(GOOD, name));
      const copy = readFileSync(join(a, name));
      expect(headerDimensions(copy), name).toEqual(headerDimensions(source));
      const [before, after] = await Promise.all([sharp(source, { failOn: 'error' }).raw().toBuffer(), sharp(copy, { failOn: 'error' }).raw().toBuffer()]);
      expect(after.equals(before), name).toBe(true);
    }
  });

  it('copies files that are not whole JPEG or PNG images byte for byte', () => {
    const target = join(root, 'broken');
    copyCropsDistinctly(BROKEN, target, 'x');
    // corrupt-data.jpg and wrong-size-40px.jpg are whole files (SOI … EOI) that fail on their pixels or size: tagged too.
    const notWhole = ['empty.jpg', 'not-an-image.jpg', 'truncated.jpg'];
    expect(files(BROKEN)).toEqual(expect.arrayContaining(notWhole));
    for (const name of notWhole) expect(readFileSync(join(target, name)).equals(readFileSync(join(BROKEN, name))), name).toBe(true);
  });
});
