// One rule for "research and evaluation only", wherever it is shown: a model is research-only unless its own
// manifest says researchOnly: false. Real models (the tiny one, with a manifest that clears it, and the bundled
// reference model), real crops, a real SQLite file, the real PDF read back with pdftotext.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createCase, openDatabase, upsertPatient, type MarrowDatabase } from '../../../src/main/db';
import { loadModelPackage } from '../../../src/main/inference/model-package';
import { analyseCaseFolder } from '../../../src/main/inference/pipeline';
import { caseExportJson } from '../../../src/main/service/case-exports';
import { loadCaseReportData, writeCaseReport } from '../../../src/main/service/case-report';
import { createMarrowService } from '../../../src/main/service/marrow-service';
import { withSession } from '../service/helpers';
import { GOOD_CROPS, REPO, TINY_MODEL, tempDir } from '../inference/helpers';
import { flat, pdfPages } from './pdf-tools';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const BUNDLED_MODEL = join(REPO, 'resources/models/marrowcount-ref');
const CROPS = ['ART_00002.jpg', 'BLA_00001.jpg', 'EOS_00001.jpg', 'LYT_00001.jpg'];

let temp: { path: string; remove: () => void };
let db: MarrowDatabase;
let databasePath: string;
/** The tiny model's package with a model.json that says researchOnly: false (a lab's validated model). */
let clearedModel: string;
let clearedCase: number;
let bundledCase: number;

async function analysedCase(accession: string, modelDir: string): Promise<number> {
  const folder = join(temp.path, accession);
  mkdirSync(folder);
  for (const name of CROPS) cpSync(join(GOOD_CROPS, name), join(folder, name));
  const patient = upsertPatient(db, { labId: 'P-1', actor: 'test' });
  const caseId = createCase(db, { patientId: patient.id, accession, specimen: 'bone_marrow_aspirate', folder, actor: 'test' }).id;
  const model = await loadModelPackage(modelDir);
  try {
    await analyseCaseFolder(sqliteStore(db), model, caseId);
  } finally {
    await model.session.release();
  }
  return caseId;
}

async function reportText(caseId: number, modelDir: string | undefined, name: string): Promise<string> {
  const pdf = join(temp.path, `${name}.pdf`);
  await writeCaseReport(sqliteStore(db), caseId, pdf, { appVersion: '0.0.0-test', modelDir });
  return flat(pdfPages(pdf).join('\n'));
}

beforeAll(async () => {
  temp = tempDir('research-only');
  clearedModel = join(temp.path, 'lab-model');
  cpSync(TINY_MODEL, clearedModel, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(clearedModel, 'model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(clearedModel, 'model.json'), JSON.stringify({ ...manifest, researchOnly: false }, null, 2));
  databasePath = join(temp.path, 'marrowcount.sqlite');
  db = openDatabase(databasePath);
  clearedCase = await analysedCase('BM-LAB', clearedModel);
  bundledCase = await analysedCase('BM-REF', BUNDLED_MODEL);
}, 120_000);

afterAll(() => {
  if (db?.raw.open) closeDatabase(db);
  temp?.remove();
});

describe('research-only rule for reports', () => {
  it('prints no disclaimer for a case analysed with a model whose manifest says researchOnly: false', async () => {
    expect((await loadCaseReportData(sqliteStore(db), clearedCase, { modelDir: clearedModel })).model?.researchOnly).toBe(false);
    const text = await reportText(clearedCase, clearedModel, 'cleared');
    expect(text).not.toMatch(/diagnostic use/i);
    expect(text).toContain('as validated by the laboratory');
  });

  it('prints the disclaimer for a case analysed with the bundled reference model', async () => {
    expect((await loadCaseReportData(sqliteStore(db), bundledCase, { modelDir: BUNDLED_MODEL })).model?.researchOnly).toBe(true);
    const text = await reportText(bundledCase, BUNDLED_MODEL, 'bundled');
    expect(text).toContain('NOT FOR DIAGNOSTIC USE');
  });

  it('treats a model as research-only when its manifest is unknown: no folder, no model.json, or another model installed', async () => {
    expect((await loadCaseReportData(sqliteStore(db), clearedCase)).model?.researchOnly).toBe(true);
    expect((await loadCaseReportData(sqliteStore(db), clearedCase, { modelDir: join(temp.path, 'nowhere') })).model?.researchOnly).toBe(true);
    // The bundled package is installed now, but the case was analysed with the lab model: its flag says nothing.
    expect((await loadCaseReportData(sqliteStore(db), clearedCase, { modelDir: BUNDLED_MODEL })).model?.researchOnly).toBe(true);
    // The same model file with a manifest that does not clear it (the tiny fixture says nothing): research-only.
    expect((await loadCaseReportData(sqliteStore(db), clearedCase, { modelDir: TINY_MODEL })).model?.researchOnly).toBe(true);
  });

  it('states the same flag in the JSON export', async () => {
    const cleared = JSON.parse(await caseExportJson(sqliteStore(db), clearedCase, { modelDir: clearedModel })) as { model: { researchOnly: boolean } };
    const bundled = JSON.parse(await caseExportJson(sqliteStore(db), bundledCase, { modelDir: BUNDLED_MODEL })) as { model: { researchOnly: boolean } };
    expect(cleared.model.researchOnly).toBe(false);
    expect(bundled.model.researchOnly).toBe(true);
  });
});

describe('research-only rule through the service', () => {
  it('gives the About box and the case view the same answer as the manifest', async () => {
    closeDatabase(db);
    for (const [modelDir, caseId, expected] of [
      [clearedModel, clearedCase, false],
      [BUNDLED_MODEL, bundledCase, true],
    ] as const) {
      const service = withSession(
        await createMarrowService({
          databaseLocation: databasePath,
          modelDir,
          reportsDir: join(temp.path, 'reports'),
          cellImageUrl: (c, i) => `marrowcell://cell/${c}/${i}`,
          appVersion: '0.0.0-test',
        }),
      );
      try {
        expect((await service.getAbout()).model?.researchOnly).toBe(expected);
        expect((await service.getCase(caseId)).model?.researchOnly).toBe(expected);
        const saved = await service.saveReport({ caseId, path: join(temp.path, 'reports', `service-${caseId}.pdf`) });
        expect(flat(pdfPages(saved.path).join('\n')).includes('NOT FOR DIAGNOSTIC USE')).toBe(expected);
      } finally {
        await service.close();
      }
    }
  });
});
