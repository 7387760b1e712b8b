// Builds benchmark case folders from ../shared/data: real Matek crops, round-robin over the classes so a folder
// looks like a real (if unusually varied) case. Beyond the 6,121 distinct marrow crops, copies are made distinct by
// a JPEG comment segment (APP-free COM marker after SOI): the pixels are the same, the SHA-256 differs, so the
// import does not treat them as duplicates and every copy is decoded and classified.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function listMarrowCrops(dataDir) {
  const root = join(dataDir, 'matek-bm');
  const byClass = readdirSync(root)
    .sort()
    .map((cls) =>
      readdirSync(join(root, cls))
        .filter((f) => f.toLowerCase().endsWith('.jpg'))
        .sort()
        .map((f) => join(root, cls, f)),
    );
  const ordered = [];
  for (let i = 0; byClass.some((files) => i < files.length); i++) {
    for (const files of byClass) if (i < files.length) ordered.push(files[i]);
  }
  return ordered;
}

function withComment(jpeg, text) {
  const comment = Buffer.from(text, 'latin1');
  const segment = Buffer.alloc(4 + comment.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(comment.length + 2, 2);
  comment.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** Writes `count` crops into `folder` (in sub-folders of 1,000, like slides) and returns the folder. */
export function buildCropFolder(dataDir, folder, count) {
  const sources = listMarrowCrops(dataDir);
  if (sources.length === 0) throw new Error(`no crops under ${join(dataDir, 'matek-bm')}`);
  for (let i = 0; i < count; i++) {
    const source = sources[i % sources.length];
    const round = Math.floor(i / sources.length);
    const bytes = readFileSync(source);
    const sub = join(folder, `slide-${String(Math.floor(i / 1000)).padStart(2, '0')}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `cell-${String(i).padStart(5, '0')}.jpg`), round === 0 ? bytes : withComment(bytes, `marrowcount bench copy ${round}`));
  }
  return folder;
}
