// Files that cannot be analysed are listed by name with the reason, and never stop the rest of the case.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, REPO, type ServiceFixture, startService, usePostgres, waitForAnalysis } from './helpers';

const pgSetup = usePostgres();

const BROKEN = join(REPO, 'test/fixtures/crops/broken');

describe.each(ENGINES)('a case folder with broken files on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  beforeAll(async () => {
    fx = await startService('import-failures', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('analyses the good cells and names every file it could not use', async () => {
    const folder = fx.caseFolder('mixed');
    cpSync(BROKEN, join(folder, 'broken'), { recursive: true });
    const created = await fx.service.createCase({ patient: { labId: 'B' }, accession: 'B-1', specimen: 'bone_marrow_aspirate', folder });
    await fx.service.startAnalysis(created.id);
    const progress = await waitForAnalysis(fx.service, created.id);
    expect(progress.phase).toBe('done');
    const detail = await fx.service.getCase(created.id);
    expect(detail.cellCount).toBe(11);
    expect(detail.status).toBe('in_review');
    const failed = detail.importFailures.map((f) => f.file).sort();
    expect(failed).toEqual(
      ['broken/corrupt-data.jpg', 'broken/empty.jpg', 'broken/not-an-image.jpg', 'broken/truncated.jpg', 'broken/wrong-size-40px.jpg'].sort(),
    );
    for (const failure of detail.importFailures) expect(failure.reason.length).toBeGreaterThan(5);
  });
});
