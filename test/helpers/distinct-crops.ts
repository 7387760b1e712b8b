// Copies of a crop folder whose files have the same pixels but different bytes, so that two cases of different
// patients made from "the same" fixture crops are not the same crops (issue 21 refuses those without a confirmation).
// A tag is written where decoders ignore it: a JPEG comment segment (COM) right after SOI, a PNG tEXt chunk right
// after IHDR. Files that are not a whole JPEG or PNG (the broken fixtures: truncated, empty, wrong format) are copied
// byte for byte, since their bytes are what the tests of import failures are about.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isWholeJpeg(bytes: Buffer): boolean {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return false;
  const tail = bytes.subarray(Math.max(0, bytes.length - 64));
  for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
  return false;
}

function isWholePng(bytes: Buffer): boolean {
  return bytes.length > 45 && bytes.subarray(0, 8).equals(PNG_SIGNATURE) && bytes.toString('latin1', 12, 16) === 'IHDR' && bytes.includes('IEND', 0, 'latin1');
}

/** The same image with `tag` in its metadata, or null when the file is not a whole JPEG or PNG. */
export function tagged(bytes: Buffer, tag: string): Buffer | null {
  const text = Buffer.from(`marrowcount-test-copy:${tag}`, 'latin1');
  if (isWholeJpeg(bytes)) {
    const segment = Buffer.alloc(4);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(text.length + 2, 2);
    return Buffer.concat([bytes.subarray(0, 2), segment, text, bytes.subarray(2)]);
  }
  if (isWholePng(bytes)) {
    const ihdrEnd = 8 + 4 + 4 + bytes.readUInt32BE(8) + 4;
    const data = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from('Comment\0', 'latin1'), text]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length - 4, 0);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data) >>> 0, 0);
    return Buffer.concat([bytes.subarray(0, ihdrEnd), length, data, crc, bytes.subarray(ihdrEnd)]);
  }
  return null;
}

/** Copies `source` into `target` (recursively), tagging every whole JPEG and PNG with `tag`. */
export function copyCropsDistinctly(source: string, target: string, tag: string): void {
  cpSync(source, target, { recursive: true });
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && /\.(jpe?g|png)$/i.test(entry.name)) {
        const copy = tagged(readFileSync(path), tag);
        if (copy !== null) writeFileSync(path, copy);
      }
    }
  };
  walk(target);
}

/** One file: `source` copied to `target`, tagged with `tag` when it is a whole JPEG or PNG. */
export function copyCropDistinctly(source: string, target: string, tag: string): void {
  const bytes = readFileSync(source);
  writeFileSync(target, tagged(bytes, tag) ?? bytes);
}
