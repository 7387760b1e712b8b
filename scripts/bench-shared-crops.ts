// What issue 21's shared-crops check adds to creating a case: hashing the folder's crops (as the import does) and
// looking the hashes up in the images of other patients' cases. Figures only; correctness is asserted by
// test/integration/db/shared-crops.test.ts and test/integration/service/shared-crops.test.ts.
//   scripts/with-node.sh npx tsx scripts/bench-shared-crops.ts [files] [stored images]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closeDatabase, createCase, findCropsOfOtherPatients, insertImages, openDatabase, upsertPatient, type ImageFile } from '../src/main/db';
import { hashCropFiles } from '../src/main/inference/case-folder';

const FILES = Number(process.argv[2] ?? 2000);
const STORED = Number(process.argv[3] ?? 100_000);
const DEMO = resolve(import.meta.dirname, '../resources/demo/case-001');

const root = mkdtempSync(join(tmpdir(), 'marrowcount-bench-shared-'));
try {
  // FILES distinct crops made from the demo case's JPEGs (a few bytes after the image data make each its own content).
  const sources = readdirSync(DEMO)
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => readFileSync(join(DEMO, f)));
  const folder = join(root, 'case');
  mkdirSync(folder);
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const data = Buffer.concat([sources[i % sources.length]!, Buffer.from(`#${i}`)]);
    bytes += data.length;
    writeFileSync(join(folder, `${String(i).padStart(5, '0')}.jpg`), data);
  }

  const db = openDatabase(join(root, 'bench.sqlite'));
  // STORED images in cases of 2,000 of other patients; the folder's first 100 files are among them.
  const hashes = await hashCropFiles(folder);
  const perCase = 2000;
  for (let c = 0; c * perCase < STORED; c++) {
    const patient = upsertPatient(db, { labId: `P-${c}` });
    const row = createCase(db, { patientId: patient.id, accession: `B-${c}`, specimen: 'bone_marrow_aspirate', folder: `/x/${c}`, actor: 'bench' });
    const files: ImageFile[] = Array.from({ length: Math.min(perCase, STORED - c * perCase) }, (_, i) => ({
      relativePath: `${i}.jpg`,
      sha256: c === 0 && i < 100 ? hashes[i]! : (c * perCase + i + 1).toString(16).padStart(64, 'f'),
      bytes: 1,
      width: 250,
      height: 250,
      importError: null,
    }));
    insertImages(db, row.id, files);
  }
  const mine = upsertPatient(db, { labId: 'P-NEW' });

  const runs =
    (fn: () => Promise<unknown> | unknown, n = 5) =>
    async (): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        ms.push(performance.now() - t);
      }
      return ms.sort((a, b) => a - b);
    };
  const hashing = await runs(() => hashCropFiles(folder))();
  const lookup = await runs(() => findCropsOfOtherPatients(db, mine.id, hashes))();
  const found = findCropsOfOtherPatients(db, mine.id, hashes);
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!.toFixed(1);
  console.log(
    `machine: ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`folder: ${FILES} crops, ${(bytes / 1e6).toFixed(1)} MB (page cache warm after the first run)`);
  console.log(`hashCropFiles: median ${median(hashing)} ms of 5 (min ${hashing[0]!.toFixed(1)}, max ${hashing[4]!.toFixed(1)})`);
  console.log(
    `findCropsOfOtherPatients against ${STORED.toLocaleString('en-GB')} stored images (db ${(statSync(join(root, 'bench.sqlite')).size / 1e6).toFixed(0)} MB): ` +
      `median ${median(lookup)} ms of 5; found ${found.map((m) => `${m.accession}: ${m.sharedFiles}`).join(', ')}`,
  );
  closeDatabase(db);
} finally {
  rmSync(root, { recursive: true, force: true });
}
