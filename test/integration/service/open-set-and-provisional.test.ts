// The new flags end to end through the real service, the real reference model and the real database: a cell unlike
// every learned type and cells predicted as provisional classes carry their reasons into the review list, the cells
// CSV, the classes CSV and the PDF report, and the differential says which figures are provisional until those
// cells are reviewed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellView } from '../../../src/shared/api';
import { OPEN_SET_REASON } from '../../../src/shared/flag-reasons';
import { parseCsv } from '../../helpers/csv';
import { flat, pdfPages } from '../report/pdf-tools';
import { ENGINES, REPO, type ServiceFixture, startService, usePostgres, waitForAnalysis } from './helpers';

const pgSetup = usePostgres();

const MODEL_DIR = join(REPO, 'resources/models/marrowcount-ref');
const PROVISIONAL = ['BAS', 'EBO', 'MMZ', 'MYB', 'NGB'];

function records(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ''])));
}

describe.each(ENGINES)('open-set and provisional flags through the service on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  let caseId: number;
  let cells: CellView[];

  beforeAll(async () => {
    fx = await startService('open-set', {
      modelDir: MODEL_DIR,
      crops: [join(REPO, 'test/fixtures/crops/open-set'), join(REPO, 'test/fixtures/crops/off-size')],
      engine,
      pg: pgSetup,
    });
    const created = await fx.service.createCase({
      patient: { labId: 'MRN-OS' },
      accession: 'ACC-OS',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('os'),
    });
    caseId = created.id;
    await fx.service.startAnalysis(caseId);
    expect((await waitForAnalysis(fx.service, caseId)).phase).toBe('done');
    cells = (await fx.service.listCells({ caseId, scope: 'all', limit: 100 })).cells;
  }, 180_000);

  afterAll(async () => fx?.dispose());

  const cell = (file: string): CellView => cells.find((c) => c.file === file)!;
  const provisionalCells = (): CellView[] => cells.filter((c) => PROVISIONAL.includes(c.predicted));

  it('lists each cell with the reasons it was flagged for', () => {
    expect(cell('empty-field.png').flagReasons.some((r) => r.kind === 'open_set')).toBe(true);
    expect(cell('typical-lymphocyte.jpg').flagged).toBe(false);
    const myb = cell('pbc-MYB.jpg');
    expect(myb.predicted).toBe('MYB');
    expect(myb.flagReasons).toContainEqual({ kind: 'provisional', detail: 'MYB (learned from peripheral-blood images only, not from marrow)' });
    // Another scanner's images are far from the marrow training data too.
    expect(myb.flagReasons.some((r) => r.kind === 'open_set')).toBe(true);
  });

  it('says which differential figures rest on unreviewed provisional classes', async () => {
    const { differential } = await fx.service.getDifferential(caseId);
    const expected = provisionalCells().length;
    expect(expected).toBeGreaterThanOrEqual(4);
    expect(differential.provisional?.unreviewedCells).toBe(expected);
    expect(differential.warnings[0]).toMatch(new RegExp(`^Provisional: ${expected} cells are counted in classes the model learned without marrow images`));
    for (const code of PROVISIONAL) {
      const row = differential.rows.find((r) => r.code === code)!;
      expect(row.provisionalUnreviewed, code).toBe(provisionalCells().filter((c) => c.predicted === code).length);
    }
    expect(differential.meRatio.provisional).toBe(true);
  });

  it('writes the reasons to the cells CSV and the unreviewed provisional counts to the classes CSV', async () => {
    const cellsCsv = join(fx.root, 'cells.csv');
    await fx.service.exportCase({ caseId, format: 'csv-cells', path: cellsCsv });
    const rows = records(readFileSync(cellsCsv, 'utf8'));
    expect(rows.find((r) => r['file'] === 'empty-field.png')!['flag_reasons']).toContain(OPEN_SET_REASON);
    expect(rows.find((r) => r['file'] === 'pbc-MYB.jpg')!['flag_reasons']).toContain('provisional class MYB');
    const classesCsv = join(fx.root, 'classes.csv');
    await fx.service.exportCase({ caseId, format: 'csv-classes', path: classesCsv });
    const myb = records(readFileSync(classesCsv, 'utf8')).find((r) => r['code'] === 'MYB')!;
    expect(myb['provisional_unreviewed']).toBe(String(provisionalCells().filter((c) => c.predicted === 'MYB').length));
  });

  it('prints the reasons and the provisional figures in the PDF report', async () => {
    const path = join(fx.root, 'report.pdf');
    await fx.service.saveReport({ caseId, path });
    const text = flat(pdfPages(path).join('\n'));
    expect(text).toContain('Flagged because');
    expect(text).toContain('Open-set: unlike any cell type this model has learned');
    expect(text).toContain('Provisional class (learned without marrow images)');
    expect(text).toMatch(/Provisional: \d+ cells are counted in classes the model learned without marrow images/);
    expect(text).toContain('provisional until the cells of provisional classes are reviewed');
    expect(text).toMatch(/provisional: \d+ unreviewed/);
    expect(text).toContain('unlike learned types');
  }, 60_000);

  it('drops the provisional notes once every provisional cell is reviewed, whatever the decision', async () => {
    const [first, ...rest] = provisionalCells();
    await fx.service.reviewCell({ caseId, imageId: first!.imageId, label: 'PMO' });
    let { differential } = await fx.service.getDifferential(caseId);
    expect(differential.provisional?.unreviewedCells).toBe(rest.length);
    await fx.service.confirmCells({ caseId, imageIds: rest.map((c) => c.imageId) });
    ({ differential } = await fx.service.getDifferential(caseId));
    expect(differential.provisional).toBeNull();
    expect(differential.meRatio.provisional).toBe(false);
    expect(differential.warnings.some((w) => w.startsWith('Provisional'))).toBe(false);
  });
});
