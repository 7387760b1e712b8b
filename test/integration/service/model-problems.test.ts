// A missing or broken model package is reported at once as a 'model' error naming the file, and the About dialog
// still answers (that is when a person needs it most).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { createMarrowService } from '../../../src/main/service/marrow-service';
import { GOOD_CROPS, TINY_MODEL, withSession, type TestService } from './helpers';

describe('model package problems', () => {
  let root: string;
  let service: TestService;
  let modelDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'marrowcount-model-problems-'));
    modelDir = join(root, 'model');
    service = withSession(
      await createMarrowService({
        databaseLocation: join(root, 'db.sqlite'),
        modelDir,
        reportsDir: join(root, 'reports'),
        cellImageUrl: (c, i) => `/cells/${c}/${i}`,
        appVersion: 'test',
      }),
    );
    cpSync(GOOD_CROPS, join(root, 'crops'), { recursive: true });
  });
  afterAll(async () => {
    await service.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses to start an analysis without a model package, naming the missing file', async () => {
    const created = await service.createCase({ patient: { labId: 'M' }, accession: 'M-1', specimen: 'bone_marrow_aspirate', folder: join(root, 'crops') });
    const result = await dispatch(service, 'startAnalysis', [created.id]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe('model');
      expect(result.error.message).toContain('model.json');
    }
    expect((await service.getCase(created.id)).status).toBe('importing');
  });

  it('refuses a model.json that is not valid JSON', async () => {
    cpSync(TINY_MODEL, modelDir, { recursive: true });
    writeFileSync(join(modelDir, 'model.json'), '{ "formatVersion": 1,');
    const [summary] = await service.listCases({});
    const result = await dispatch(service, 'startAnalysis', [summary!.id]);
    expect(result).toMatchObject({ ok: false, error: { kind: 'model' } });
  });

  it('still answers About, saying what is wrong with the model', async () => {
    const about = await service.getAbout();
    expect(about.model).toBeNull();
    expect(about.attributions.some((a) => a.startsWith('Model:') && a.includes('model.json'))).toBe(true);
    expect(about.modelCard).toContain('MODEL_CARD.md');
  });
});
