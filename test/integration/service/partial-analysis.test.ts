// A cancelled analysis through the real service (worker thread, tiny real model, real crops, on a SQLite file and on a
// PostgreSQL database): the case says it is partial everywhere a person reads it (detail, list, PDF, CSV, JSON),
// release is refused until the analysis is resumed to the end or the remaining files are excluded with a recorded
// reason, and resuming continues where the run stopped.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail } from '../../../src/shared/api';
import { toApiError } from '../../../src/main/service/errors';
import { flat, pdfPages } from '../report/pdf-tools';
import { ENGINES, GOOD_CROPS, PERSON_PASSWORD, type ServiceFixture, startService, usePostgres, waitForAnalysis } from './helpers';

const FILES = 120;
let fx: ServiceFixture;

const pgSetup = usePostgres();

/** FILES distinct crops: the fixture JPEGs with a few bytes after the image data, so each has its own hash (the folder name too: other cases are other patients, not the same crops). */
function bigFolder(name: string): string {
  const folder = join(fx.root, 'cases', name);
  mkdirSync(folder, { recursive: true });
  const sources = readdirSync(GOOD_CROPS).filter((f) => f.endsWith('.jpg'));
  for (let i = 0; i < FILES; i++) {
    const source = sources[i % sources.length]!;
    const bytes = Buffer.concat([readFileSync(join(GOOD_CROPS, source)), Buffer.from(`copy ${i} of ${name}`)]);
    writeFileSync(join(folder, `${String(i).padStart(4, '0')}-${source}`), bytes);
  }
  return folder;
}

/** Starts the analysis and cancels it once some, but not all, files are done. */
async function cancelledCase(name: string): Promise<CaseDetail> {
  const created = await fx.service.createCase({
    patient: { labId: `MRN-${name}` },
    accession: name,
    specimen: 'bone_marrow_aspirate',
    folder: bigFolder(name),
  });
  await fx.service.startAnalysis(created.id);
  for (;;) {
    const progress = await fx.service.getAnalysisProgress(created.id);
    if (progress !== null && progress.phase === 'classifying' && progress.done > 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await fx.service.cancelAnalysis(created.id);
  const end = await waitForAnalysis(fx.service, created.id);
  expect(end.phase).toBe('cancelled');
  return fx.service.getCase(created.id);
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => toApiError(e),
  );

describe.each(ENGINES)('a cancelled analysis is partial everywhere, until resumed or the rest is excluded on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  beforeAll(async () => {
    fx = await startService('partial', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });
  it('says "Cancelled — n of N files analysed" in the case, the list, the PDF, both CSVs and the JSON', async () => {
    const detail = await cancelledCase('PART-1');
    expect(detail.status).toBe('cancelled');
    const partial = detail.partial!;
    expect(partial.filesTotal).toBe(FILES);
    expect(partial.filesAnalysed).toBeGreaterThan(0);
    expect(partial.filesAnalysed).toBeLessThan(FILES);
    // The cells stored are exactly the files the record says were analysed (all distinct and readable here).
    expect(detail.cellCount).toBe(partial.filesAnalysed);
    const words = `Cancelled — ${partial.filesAnalysed} of ${FILES} files analysed`;

    const listed = (await fx.service.listCases({ search: 'PART-1' }))[0]!;
    expect(listed.partial).toEqual(partial);

    const pdf = await fx.service.saveReport({ caseId: detail.id });
    expect(pdf.path).toMatch(/draft/);
    const page1 = flat(pdfPages(pdf.path)[0]!);
    expect(page1).toContain(`Partial result: the analysis was cancelled (${partial.filesAnalysed} of ${FILES} files analysed)`);
    expect(page1).toContain(`${FILES - partial.filesAnalysed} files were never analysed`);

    for (const format of ['csv-classes', 'csv-cells'] as const) {
      const csv = readFileSync((await fx.service.exportCase({ caseId: detail.id, format })).path, 'utf8');
      const [header, ...rows] = csv.trim().split(/\r?\n/);
      expect(header!.split(',').at(-1)).toBe('case_status');
      for (const row of rows) expect(row.endsWith(words)).toBe(true);
    }
    const json = JSON.parse(readFileSync((await fx.service.exportCase({ caseId: detail.id, format: 'json' })).path, 'utf8')) as {
      case: { status: string; statusText: string; partial: unknown };
    };
    expect(json.case).toMatchObject({ status: 'cancelled', statusText: words, partial });
  }, 60_000);

  it('refuses release of the partial result, and resuming continues where it stopped to a complete case', async () => {
    const detail = await cancelledCase('PART-2');
    const before = await fx.service.listCells({ caseId: detail.id, scope: 'all', limit: 1000 });
    const signing = await refusal((await fx.as('Dr A')).authoriseCase({ caseId: detail.id, password: PERSON_PASSWORD, overrideReason: 'x' }));
    expect(signing?.kind).toBe('conflict');
    expect(signing?.message).toContain(`resume the analysis, or exclude the remaining files with a reason, before signing it`);
    expect(signing?.message).toContain(`${detail.partial!.filesAnalysed} of ${FILES} files analysed`);
    // Reviewing the analysed part is allowed meanwhile.
    await (await fx.as('Tech A')).reviewCell({ caseId: detail.id, imageId: before.cells[0]!.imageId, label: 'BLA' });

    await fx.service.startAnalysis(detail.id);
    expect((await waitForAnalysis(fx.service, detail.id)).phase).toBe('done');
    const after = await fx.service.getCase(detail.id);
    expect(after.status).toBe('in_review');
    expect(after.partial).toBeNull();
    expect(after.cellCount).toBe(FILES);
    // The cells classified before the cancel were not classified again, and the decision stayed.
    const cells = await fx.service.listCells({ caseId: detail.id, scope: 'all', limit: 1000 });
    for (const cell of before.cells) expect(cells.cells.find((c) => c.imageId === cell.imageId)?.confidence).toBe(cell.confidence);
    expect(cells.cells.find((c) => c.imageId === before.cells[0]!.imageId)?.decision?.label).toBe('BLA');
    await (await fx.as('Dr A')).authoriseCase({ caseId: detail.id, password: PERSON_PASSWORD, overrideReason: 'test' });
  }, 60_000);

  it('releases the analysed part only with the remaining files excluded and the reason recorded, and says so on the report', async () => {
    const detail = await cancelledCase('PART-3');
    const left = FILES - detail.partial!.filesAnalysed;
    const blank = await refusal((await fx.as('Tech A')).excludeRemainingFiles({ caseId: detail.id, reason: '   ' }));
    expect(blank?.kind).not.toBeUndefined();
    const excluded = await (await fx.as('Tech A')).excludeRemainingFiles({ caseId: detail.id, reason: 'slide 2 scanned out of focus' });
    expect(excluded.status).toBe('in_review');
    expect(excluded.partial?.exclusion).toMatchObject({ filesExcluded: left, reason: 'slide 2 scanned out of focus', by: 'Tech A' });
    // Twice is refused: the case is no longer cancelled.
    expect((await refusal((await fx.as('Tech A')).excludeRemainingFiles({ caseId: detail.id, reason: 'again' })))?.kind).toBe('conflict');

    const signed = await (await fx.as('Dr A')).authoriseCase({ caseId: detail.id, password: PERSON_PASSWORD, overrideReason: 'test' });
    expect(signed.status).toBe('signed');
    expect(signed.partial?.exclusion?.reason).toBe('slide 2 scanned out of focus');
    const page1 = flat(pdfPages((await fx.service.saveReport({ caseId: detail.id })).path)[0]!);
    expect(page1).toContain(`the remaining ${left} files were excluded by Tech A: slide 2 scanned out of focus`);
  }, 60_000);
});
