// Migration 0010 turns the flag reasons stored as prose into {kind, detail}. Each reason text that earlier versions
// wrote (classify.ts and the lab model) must come out with its kind, and flagReasonText must give back the very
// text that was stored: the conversion loses nothing a reviewer or an auditor read.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagReasonText, type FlagReason, type FlagReasonKind } from '../../../src/shared/flag-reasons';
import { insertPredictions, listPredictions, openDatabase } from '../../../src/main/db';
import { migrate } from '../../../src/main/db/migrate';
import { expectDbError } from './errors-helper';
import { addImages, addModel, addCase, openTemp, tempDir, track } from './helpers';
import { beginAnalysis } from '../../../src/main/db';

// Texts as versions before 0010 wrote them (classify.ts flagReasons, lab-models.ts), with the kind each must get.
const STORED: [string, FlagReasonKind, string][] = [
  [
    'unlike any cell type this model has learned — check for a type it cannot classify (open-set distance 16.2 > 13.3)',
    'open_set',
    'open-set distance 16.2 > 13.3',
  ],
  ['provisional class BAS (learned from peripheral-blood images only)', 'provisional', 'BAS (learned from peripheral-blood images only)'],
  ['low confidence 0.41 < 0.60', 'low_confidence', '0.41 < 0.60'],
  ['margin 0.05 < 0.10', 'margin', '0.05 < 0.10'],
  ['rare class BLA', 'rare_class', 'BLA'],
  ['base model calls it a class this lab model has not learned (EOS)', 'unlearned_class', 'EOS'],
  [
    "small crop 64×64 px < 200 px: the model's answers are unreliable on crops this small (measured: 86.7% right at 250 px, 75–81% at 176 px, 47–63% at 128 px)",
    'small_crop',
    '64×64 px',
  ],
  ['confidence 50% below 60%', 'other', 'confidence 50% below 60%'],
];

describe('flag reasons as data (migration 0010)', () => {
  it('converts every stored reason text to its kind and detail, and renders the same text back', () => {
    const dir = tempDir();
    const path = join(dir, 'v7.sqlite');
    const raw = new Database(path);
    migrate(raw, path, { upTo: 7 });
    raw.exec(`
      INSERT INTO patients (id, lab_id, created_at, updated_at) VALUES (1, 'MRN-1', 't', 't');
      INSERT INTO models (id, model_id, version, sha256, name, classes, class_count, registered_at)
        VALUES (1, 'm', '1', '${'e'.repeat(64)}', 'm', '["BLA","LYT"]', 2, 't');
      INSERT INTO cases (id, patient_id, accession, specimen, folder, created_at) VALUES (1, 1, 'BM-V7', 'other', '/v7', 't');
      UPDATE cases SET model_id = 1, status = 'analysing' WHERE id = 1;
      INSERT INTO images (id, case_id, relative_path, sha256, bytes, created_at) VALUES
        (1, 1, '1.jpg', '${'1'.repeat(64)}', 1, 't'), (2, 1, '2.jpg', '${'2'.repeat(64)}', 1, 't');
    `);
    raw
      .prepare(
        `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
         VALUES (1, 1, 1, 'BLA', '[0.6,0.4]', 0.6, 1, ?, 't'), (2, 1, 1, 'LYT', '[0.1,0.9]', 0.9, 0, '[]', 't')`,
      )
      .run(JSON.stringify(STORED.map(([text]) => text)));
    raw.close();

    const db = track(openDatabase(path));
    const [flagged] = listPredictions(db, 1);
    expect(flagged!.flagReasons).toEqual(STORED.map(([, kind, detail]) => ({ kind, detail })));
    expect(flagged!.flagReasons.map(flagReasonText)).toEqual(STORED.map(([text]) => text));
    expect(listPredictions(db, 2)[0]!.flagReasons).toEqual([]);
    // Still immutable after the conversion.
    expect(() => db.raw.exec(`UPDATE predictions SET flag_reasons = '[]'`)).toThrow(/\[immutable\]/);
  });

  it('refuses a new prediction whose reasons are prose or of an unknown kind', () => {
    const { db } = openTemp();
    const model = addModel(db);
    const row = addCase(db);
    const [imageId] = addImages(db, row.id, 1);
    beginAnalysis(db, { caseId: row.id, modelRowId: model.id, actor: 'tech' });
    const base = { imageId: imageId!, predicted: 'BLA' as const, probabilities: [0.4, 0.2, 0.2, 0.2], confidence: 0.4, flagged: true };
    expectDbError(() => insertPredictions(db, model.id, [{ ...base, flagReasons: ['low confidence 0.40 < 0.60' as unknown as FlagReason] }]), 'constraint');
    expectDbError(() => insertPredictions(db, model.id, [{ ...base, flagReasons: [{ kind: 'hunch' as FlagReasonKind, detail: '' }] }]), 'constraint');
    // And in SQL, for any other writer.
    expect(() =>
      db.raw
        .prepare(
          `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
           VALUES (?, ?, ?, 'BLA', '[0.4,0.2,0.2,0.2]', 0.4, 1, '["low confidence 0.40 < 0.60"]', 't')`,
        )
        .run(imageId, row.id, model.id),
    ).toThrow(/not \{kind, detail\}/);
  });
});
