// The smallest crop the bundled model can judge (issue 24; measured with scripts/bench-crop-size.ts): a crop with a
// side under MIN_JUDGED_CROP_SIDE is flagged with a reason giving its size, whatever the model's confidence. A 64 px
// crop used to pass as an artefact at 95.6% with no flag. Real SQLite, the bundled model, real crops.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createCase, listCells, openDatabase, upsertPatient, type CellRow } from '../../../src/main/db';
import { loadModelPackage, type LoadedModel } from '../../../src/main/inference/model-package';
import { analyseCaseFolder } from '../../../src/main/inference/pipeline';
import { flagReasonText, MIN_JUDGED_CROP_SIDE, smallCropReason } from '../../../src/shared/flag-reasons';
import { REPO, tempDir } from './helpers';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const MODEL_DIR = join(REPO, 'resources/models/marrowcount-ref');
const DEMO = join(REPO, 'resources/demo/case-001');

describe('the size below which a crop is flagged', () => {
  it('flags a crop whose shorter side is under 200 px, naming its size, and not one of 200 px', () => {
    expect(MIN_JUDGED_CROP_SIDE).toBe(200);
    expect(smallCropReason(250, 250)).toBeNull();
    expect(smallCropReason(200, 240)).toBeNull();
    expect(flagReasonText(smallCropReason(199, 240)!)).toMatch(/^small crop 199×240 px < 200 px/);
    expect(smallCropReason(64, 64)).toEqual({ kind: 'small_crop', detail: '64×64 px' });
  });
});

describe('small crops through the analysis with the bundled model', () => {
  let temp: { path: string; remove: () => void };
  let model: LoadedModel;
  let cells: Map<string, CellRow>;

  beforeAll(async () => {
    temp = tempDir('small-crops');
    const folder = join(temp.path, 'case');
    mkdirSync(folder);
    // The same demo cell at its own 250 px, at 200 px and at 64 px (the whole crop downscaled).
    for (const side of [250, 200, 64]) {
      await sharp(join(DEMO, 'cell_0001.jpg'))
        .resize(side, side, { kernel: 'lanczos3' })
        .png()
        .toFile(join(folder, `cell-${side}.png`));
    }
    const db = openDatabase(join(temp.path, 'marrowcount.sqlite'));
    model = await loadModelPackage(MODEL_DIR);
    const patient = upsertPatient(db, { labId: 'SMALL', actor: 'test' });
    const caseId = createCase(db, { patientId: patient.id, accession: 'small-1', specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
    const outcome = await analyseCaseFolder(sqliteStore(db), model, caseId);
    expect(outcome.failures).toEqual([]);
    cells = new Map(listCells(db, { caseId, scope: 'all', limit: 100 }).rows.map((cell) => [cell.relativePath, cell]));
    closeDatabase(db);
  }, 120_000);

  afterAll(async () => {
    await model?.session.release();
    temp?.remove();
  });

  it('flags the 64 px crop with its size, whatever the model says, and not the 200 and 250 px ones for their size', () => {
    const small = cells.get('cell-64.png')!;
    expect(small.flagged).toBe(true);
    expect(flagReasonText(small.flagReasons[0]!)).toMatch(/^small crop 64×64 px < 200 px/);
    for (const name of ['cell-200.png', 'cell-250.png']) {
      expect(
        cells.get(name)!.flagReasons.some((reason) => reason.kind === 'small_crop'),
        name,
      ).toBe(false);
    }
  });
});
