// A released case amended and released again: the new report's page 1 says CORRECTED REPORT, what it replaces, why,
// and each printed figure that changed; the first release's PDF and exports stay on disk untouched, under their
// own names; the case list shows the case as amended.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPercent } from '../../../src/shared/format';
import { formatTimestamp } from '../../../src/main/report/text';
import { flat, pdfPages } from '../report/pdf-tools';
import { analysedFixtureCase, ENGINES, PERSON_PASSWORD, type ServiceFixture, startService, usePostgres } from './helpers';

let fx: ServiceFixture;
const pgSetup = usePostgres();

describe.each(ENGINES)('a corrected report after an amendment on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  beforeAll(async () => {
    fx = await startService('amended', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });
  it('says CORRECTED REPORT with the replaced release, the reason and each figure before → after, and keeps the first release', async () => {
    const { detail, cells } = await analysedFixtureCase(fx, 'AMEND-1');
    const caseId = detail.id;
    const first = await (await fx.as('Dr A. First')).authoriseCase({ caseId, password: PERSON_PASSWORD, overrideReason: 'fixture' });
    const firstSignedAt = first.signOffs[0]!.signedAt;
    const before = (await fx.service.getDifferential(caseId)).differential;
    const firstPdf = await fx.service.saveReport({ caseId });
    const firstCsv = await fx.service.exportCase({ caseId, format: 'csv-classes' });
    const firstPdfBytes = readFileSync(firstPdf.path);
    const firstCsvText = readFileSync(firstCsv.path, 'utf8');
    expect(flat(pdfPages(firstPdf.path)[0]!)).not.toContain('CORRECTED');

    await (await fx.as('Dr B. Second')).amendCase({ caseId, reason: 'a lymphocyte was a blast' });
    expect((await fx.service.listCases({ search: 'AMEND-1' }))[0]!.amended).toBe(true);
    const lymphocyte = cells.find((c) => c.effectiveLabel !== 'BLA' && c.effectiveLabel !== 'ART' && c.effectiveLabel !== 'NIF')!;
    await (await fx.as('Dr B. Second')).reviewCell({ caseId, imageId: lymphocyte.imageId, label: 'BLA' });
    // While a draft, the report says the release was withdrawn.
    const draft = await fx.service.saveReport({ caseId });
    expect(draft.path).toMatch(/-draft\.pdf$/);
    expect(flat(pdfPages(draft.path)[0]!)).toContain(
      `AMENDMENT IN PROGRESS — the report released on ${formatTimestamp(firstSignedAt)} by Dr A. First was withdrawn`,
    );

    await (await fx.as('Dr B. Second')).authoriseCase({ caseId, password: PERSON_PASSWORD, overrideReason: 'fixture' });
    const after = (await fx.service.getDifferential(caseId)).differential;
    expect(after.blast.count).toBe(before.blast.count + 1);
    const second = await fx.service.saveReport({ caseId });
    expect(second.path).not.toBe(firstPdf.path);
    expect(second.path).toMatch(/-corrected-2\.pdf$/);
    const page1 = flat(pdfPages(second.path)[0]!);
    expect(page1).toContain(`CORRECTED REPORT — replaces the report released on ${formatTimestamp(firstSignedAt)} by Dr A. First`);
    expect(page1).toContain('Reason: a lymphocyte was a blast');
    expect(page1).toContain(`Blasts (% of NDC) ${formatPercent(before.blast.percentage)} → ${formatPercent(after.blast.percentage)}`);
    const row = (d: typeof before) => d.rows.find((r) => r.code === lymphocyte.effectiveLabel)!;
    expect(page1).toContain(
      `${lymphocyte.effectiveLabel} ${row(before).name} ${row(before).count} (${formatPercent(row(before).percentOfNdc)}) → ${row(after).count} (${formatPercent(row(after).percentOfNdc)})`,
    );

    // The first release's files are still there, byte for byte; saving again keeps them too.
    expect(readFileSync(firstPdf.path).equals(firstPdfBytes)).toBe(true);
    expect(readFileSync(firstCsv.path, 'utf8')).toBe(firstCsvText);
    const secondCsv = await fx.service.exportCase({ caseId, format: 'csv-classes' });
    expect(secondCsv.path).not.toBe(firstCsv.path);
    const again = await fx.service.saveReport({ caseId });
    expect(again.path).toBe(second.path);
    expect(readFileSync(firstPdf.path).equals(firstPdfBytes)).toBe(true);
  }, 60_000);
});
