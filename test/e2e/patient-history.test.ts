// A patient's marrows over time, in the built renderer in Debian's Chromium against the real service, database and
// bundled model over the loopback HTTP host. Set-up through the service (the UI would only be slower at it): one
// patient with three released marrows of 100 demo cells each, reviewed so that blasts are exactly 2, 5 and 20 per 100
// (the September one amended and signed again), and a later draft. On screen: the November case's "Previous marrows"
// with the blast comparison in words, the patient view with its chart and table, and the saved PDF report with the
// table and the trend chart (pdftotext, and pages rendered with pdftoppm for a person to look at).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../src/shared/cell-classes';
import { loginAs, releaseCase, REPO, SCREENSHOTS, screenshot, startHarness, type Harness } from './harness';

const DEMO = join(REPO, 'resources/demo/case-001');
const byTestId = (page: Page, id: string) => page.getByTestId(id);

interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
/** The non-blast labels given in turn to the other cells, so that every main lineage has cells. */
const OTHERS: readonly CellClassCode[] = ['NGS', 'EBO', 'LYT', 'NGS', 'MON', 'EBO'];

// Hand-computed from Newcombe 1998 method 10 for 20/100 against 5/100: Wilson 20/100 is 0.1333 to 0.2888 and 5/100
// is 0.0215 to 0.1118, so the difference 0.150 has L = 0.150 − √(0.0667² + 0.0618²) = 0.0592 and
// U = 0.150 + √(0.0888² + 0.0285²) = 0.2433.
const NOVEMBER_SENTENCE = 'Blasts 20.0% against 5.0%: higher than on 2026-09-14 (difference +15.0 points, 95% CI +5.9 to +24.3).';

describe('patient history in the browser', () => {
  let h: Harness;
  const ids: Record<string, number> = {};

  const waitForAnalysis = async (caseId: number) => {
    for (;;) {
      const p = await (await h.api('tech')).getAnalysisProgress(caseId);
      if (p && p.phase !== 'importing' && p.phase !== 'classifying') return p;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** Labels the case's cells (in file order): the first `blasts` BLA, the others in turn from OTHERS. */
  const label = async (caseId: number, blasts: number) => {
    const { cells } = await (await h.api('tech')).listCells({ caseId, scope: 'all', limit: 1000 });
    const sorted = [...cells].sort((a, b) => a.file.localeCompare(b.file));
    for (const [i, cell] of sorted.entries()) {
      const code = i < blasts ? 'BLA' : OTHERS[i % OTHERS.length]!;
      await (await h.api('tech')).reviewCell({ caseId, imageId: cell.imageId, label: code });
    }
  };

  const marrow = async (accession: string, specimenDate: string, files: string[], blasts: number, sign: boolean) => {
    const folder = join(h.root, 'cases', accession);
    mkdirSync(folder, { recursive: true });
    for (const f of files) copyFileSync(join(DEMO, f), join(folder, f));
    const created = await (
      await h.api('tech')
    ).createCase({
      patient: { labId: 'MRN-TREND', name: 'Trend, Patient', birthDate: '1958-04-30' },
      accession,
      specimen: 'bone_marrow_aspirate',
      folder,
      specimenDate,
    });
    await (await h.api('tech')).startAnalysis(created.id);
    expect((await waitForAnalysis(created.id)).phase).toBe('done');
    await label(created.id, blasts);
    if (sign) await releaseCase(h, created.id);
    ids[accession] = created.id;
    return created.id;
  };

  beforeAll(async () => {
    h = await startHarness('history');
    const files = readdirSync(DEMO)
      .filter((f) => f.endsWith('.jpg'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(300);
    await marrow('HX-JUN', '2026-06-01', files.slice(0, 100), 2, true);
    const sept = await marrow('HX-SEP', '2026-09-14', files.slice(100, 200), 4, true);
    // Amended: one more blast found, signed again (version 2).
    await (await h.api('path')).amendCase({ caseId: sept, reason: 'One blast was counted as a lymphocyte' });
    const { cells } = await (await h.api('tech')).listCells({ caseId: sept, scope: 'all', limit: 1000 });
    const fifth = [...cells].sort((a, b) => a.file.localeCompare(b.file))[4]!;
    await (await h.api('tech')).reviewCell({ caseId: sept, imageId: fifth.imageId, label: 'BLA' });
    await releaseCase(h, sept);
    await marrow('HX-NOV', '2026-11-20', files.slice(200, 300), 20, true);
    await marrow('HX-DEC', '2026-12-01', files.slice(0, 40), 6, false);
    await (await h.api('admin')).saveSettings({ labName: 'E2E Lab' });
  }, 300_000);

  afterAll(async () => h?.close());

  it("shows the case's previous marrows, the patient's chart and table, and the report's table and chart", async () => {
    const { page, pageErrors } = await h.newPage();
    await loginAs(page, h, 'tech', `/#/case/${ids['HX-NOV']}/differential`);

    // The November case beside the earlier released marrows, newest first, the draft nowhere.
    await expect.poll(() => byTestId(page, 'previous-blast-sentence').innerText(), { timeout: 15_000 }).toBe(NOVEMBER_SENTENCE);
    const rows = page.locator('[data-testid^="previous-table-row-"]');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.nth(0).innerText()).toContain('HX-NOV');
    expect(await rows.nth(1).innerText()).toContain('HX-SEP');
    expect(await rows.nth(2).innerText()).toContain('HX-JUN');
    expect(await byTestId(page, `previous-table-state-${ids['HX-SEP']}`).innerText()).toBe('Released (amended, version 2)');
    expect(await page.getByText('HX-DEC').count()).toBe(0);
    expect(await byTestId(page, 'previous-lineage-erythroid').innerText()).toMatch(/^Erythroid: (higher|lower|not distinguishable)/);
    await byTestId(page, 'previous-marrows').scrollIntoViewIfNeeded();
    await screenshot(page, 'history-01-previous-marrows');

    // The patient view: every case by specimen date, the draft drawn apart, and the chart drawn.
    await byTestId(page, 'previous-open-patient').click();
    await expect.poll(() => byTestId(page, 'patient-heading').innerText()).toContain('Patient MRN-TREND');
    const patientRows = page.locator('[data-testid^="patient-history-row-"]');
    await expect.poll(() => patientRows.count()).toBe(4);
    const order = await patientRows.evaluateAll((trs) => trs.map((tr) => `${tr.cells[1]?.innerText.split('\n')[0]}:${tr.getAttribute('data-state')}`));
    expect(order).toEqual(['HX-JUN:released', 'HX-SEP:released', 'HX-NOV:released', 'HX-DEC:draft']);
    expect(await byTestId(page, `patient-history-blast-${ids['HX-NOV']}`).innerText()).toBe('20.0%');
    expect(await byTestId(page, `patient-history-state-${ids['HX-DEC']}`).innerText()).toBe('Not released (in review)');
    const chart = byTestId(page, 'patient-blast-chart');
    await expect.poll(() => chart.isVisible()).toBe(true);
    // chart.js drew on the canvas: pixels of the released line's colour (#3a5f8a) and of the red threshold lines.
    const drawn = await chart.evaluate((element) => {
      // The test's TypeScript has no DOM types: the canvas as far as this check uses it.
      const canvas = element as unknown as CanvasLike;
      const ctx = canvas.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let released = 0;
      let threshold = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (Math.abs(r - 0x3a) < 12 && Math.abs(g - 0x5f) < 12 && Math.abs(b - 0x8a) < 12) released++;
        if (Math.abs(r - 0xb3) < 20 && g < 70 && b < 70) threshold++;
      }
      return { released, threshold };
    });
    expect(drawn.released).toBeGreaterThan(50);
    expect(drawn.threshold).toBeGreaterThan(50);
    await screenshot(page, 'history-02-patient-view');

    // The report of the November case: the table, the sentence and the trend chart, released results only.
    await byTestId(page, `patient-history-open-${ids['HX-NOV']}`).click();
    await byTestId(page, 'case-tab-signoff').click();
    await byTestId(page, 'report-save-pdf').click();
    await expect.poll(() => byTestId(page, 'report-saved-path').innerText(), { timeout: 30_000 }).toContain('.pdf');
    const savedPath = (await byTestId(page, 'report-saved-path').innerText()).trim();
    const text = execFileSync('pdftotext', ['-layout', savedPath, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(text).toContain('Specimen taken 2026-11-20');
    expect(text).toContain('Previous marrows');
    expect(text).toContain(NOVEMBER_SENTENCE);
    expect(text).toMatch(/2026-09-14 HX-SEP released v2, amended 5\.0% [\d.–]+% 100 [\d.]+ : 1 \+15\.0 \(\+5\.9 to \+24\.3\)/);
    expect(text).toMatch(/2026-06-01 HX-JUN released 2\.0%/);
    expect(text).not.toContain('HX-DEC');
    // The trend chart's caption and its date axis.
    expect(text).toContain('Blasts, % of nucleated cells, by specimen date');
    const pageWithHistory = execFileSync('pdftotext', ['-layout', savedPath, '-'], { encoding: 'utf8' })
      .split('\f')
      .findIndex((p) => p.includes('Previous marrows'));
    expect(pageWithHistory).toBeGreaterThanOrEqual(0);
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-f',
      String(pageWithHistory + 1),
      '-l',
      String(pageWithHistory + 1),
      savedPath,
      join(SCREENSHOTS, 'history-03-report-page'),
    ]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
