// How small a crop the bundled model can judge (issue 24): the demo case's 300 labelled 250 px crops, made smaller in
// two ways, analysed by the app's own pipeline (framing, model, flags) at each size:
//   downscaled — the whole crop at lower resolution (a scanner at lower magnification): the cell shrinks;
//   cut       — the centre of the crop at full resolution (a tighter crop): the cell keeps its size, the border goes.
// Prints, per size and way: accuracy against the labels, agreement with the 250 px prediction, share flagged, errors
// caught by a flag, and share called ART. Run: sh scripts/with-node.sh npx tsx scripts/bench-crop-size.ts
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { closeDatabase, createCase, listCells, openDatabase, upsertPatient } from '../src/main/db';
import { loadModelPackage } from '../src/main/inference/model-package';
import { analyseCaseFolder } from '../src/main/inference/pipeline';
import { sqliteStore } from '../src/main/db/sqlite-repositories';

const root = resolve(import.meta.dirname, '..');
const demo = join(root, 'resources', 'demo', 'case-001');
const modelDir = join(root, 'resources', 'models', 'marrowcount-ref');
const SIZES = [250, 224, 200, 176, 160, 144, 128, 112, 96, 80, 64];

const labels = new Map(
  readFileSync(join(demo, 'labels.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(',') as [string, string]),
);
const files = readdirSync(demo).filter((name) => name.endsWith('.jpg'));
const work = mkdtempSync(join(tmpdir(), 'marrowcount-crop-size-'));
const model = await loadModelPackage(modelDir);
let native: Map<string, string> | null = null;

try {
  console.log('way        size  accuracy  same-as-250  flagged  errors-caught  called-ART');
  for (const way of ['downscaled', 'cut'] as const) {
    for (const size of SIZES) {
      const folder = join(work, `${way}-${size}`);
      mkdirSync(folder, { recursive: true });
      for (const name of files) {
        const image = sharp(join(demo, name));
        const out =
          way === 'downscaled'
            ? image.resize(size, size, { kernel: 'lanczos3' })
            : image.extract({ left: Math.floor((250 - size) / 2), top: Math.floor((250 - size) / 2), width: size, height: size });
        // PNG: no new JPEG loss on top of the size change being measured.
        await out.png().toFile(join(folder, name.replace(/\.jpg$/, '.png')));
      }
      const db = openDatabase(join(work, `${way}-${size}.sqlite`));
      const patient = upsertPatient(db, { labId: 'DEMO', actor: 'bench' });
      const caseId = createCase(db, { patientId: patient.id, accession: `${way}-${size}`, specimen: 'bone_marrow_aspirate', folder, actor: 'bench' }).id;
      const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
      const cells = listCells(db, { caseId, scope: 'all', limit: 100_000 }).rows;
      closeDatabase(db);
      const truth = (cell: { relativePath: string }) => labels.get(cell.relativePath.replace(/\.png$/, '.jpg'));
      const correct = cells.filter((cell) => truth(cell) === cell.predicted).length;
      const errors = cells.filter((cell) => truth(cell) !== cell.predicted);
      if (size === 250 && way === 'downscaled') native = new Map(cells.map((cell) => [cell.relativePath, cell.predicted]));
      const same = native === null ? cells.length : cells.filter((cell) => native!.get(cell.relativePath) === cell.predicted).length;
      const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`.padStart(7);
      console.log(
        `${way.padEnd(10)} ${String(size).padStart(4)} ${pct(correct, cells.length)}  ${pct(same, cells.length)}     ${pct(cells.filter((c) => c.flagged).length, cells.length)}  ${pct(errors.filter((c) => c.flagged).length, errors.length)}        ${pct(cells.filter((c) => c.predicted === 'ART').length, cells.length)}` +
          (outcome.failures.length > 0 ? `  (${outcome.failures.length} refused)` : ''),
      );
    }
  }
} finally {
  await model.session.release();
  rmSync(work, { recursive: true, force: true });
}
