// A case's story told truthfully (issue 21), in the built renderer in Debian's Chromium against the real service:
// - cancel an analysis part-way: the badge, the banner over the differential, the case list and the draft PDF say
//   it is partial; release is refused; Resume analysis completes it;
// - amend a released case and release it again: the new PDF's page 1 says CORRECTED REPORT with before → after,
//   and the first release's PDF is still on disk;
// - two browser contexts decide the same cell: the second is refused naming the first person, nothing is lost.
// Screenshots in test-results/screenshots/lifecycle-*.png; PDF pages rendered there too (pdftoppm) to look at.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs, PEOPLE, SCREENSHOTS, screenshot, startHarness, type Harness } from './harness';
import type { MarrowApi } from '../../src/shared/api';

const byTestId = (page: Page, id: string) => page.getByTestId(id);
const FILES = 1500;

function pdfText(path: string, page?: number): string {
  const range = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  return execFileSync('pdftotext', ['-layout', ...range, path, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

function renderPage1(path: string, name: string): void {
  execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', path, join(SCREENSHOTS, name)]);
}

describe('case lifecycle in the browser', () => {
  let h: Harness;
  /** The technician's API in-process, for set-up and checks. */
  let tech: MarrowApi;

  const waitForAnalysis = async (caseId: number) => {
    for (;;) {
      const p = await tech.getAnalysisProgress(caseId);
      if (p && p.phase !== 'importing' && p.phase !== 'classifying') return p;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** A folder of `n` distinct crops: the case folder's images with a few bytes after the image data. */
  const bigFolder = (name: string, n: number): string => {
    const folder = join(h.root, 'cases', name);
    mkdirSync(folder, { recursive: true });
    const sources = readdirSync(h.caseFolder).filter((f) => f.endsWith('.jpg'));
    for (let i = 0; i < n; i++) {
      const source = sources[i % sources.length]!;
      writeFileSync(
        join(folder, `${String(i).padStart(5, '0')}-${source}`),
        Buffer.concat([readFileSync(join(h.caseFolder, source)), Buffer.from(`#${i} ${name}`)]),
      );
    }
    return folder;
  };

  const analysedCase = async (name: string) => {
    const created = await tech.createCase({
      patient: { labId: `MRN-${name}`, name: `Patient ${name}` },
      accession: name,
      specimen: 'bone_marrow_aspirate',
      // Each case another patient's: its own copy of the crops (issue 21 refuses the same crops for two patients).
      folder: h.freshCaseFolder(name),
    });
    await tech.startAnalysis(created.id);
    expect((await waitForAnalysis(created.id)).phase).toBe('done');
    return created.id;
  };

  beforeAll(async () => {
    h = await startHarness('lifecycle');
    await (await h.api('admin')).saveSettings({ labName: 'E2E Lab' });
    tech = await h.api('tech');
  }, 120_000);

  afterAll(async () => h?.close());

  it('cancel → partial badge, banner, list and draft PDF → release refused → resume → complete', async () => {
    const created = await tech.createCase({
      patient: { labId: 'MRN-PART', name: 'Partial, Patient' },
      accession: 'E2E-PART',
      specimen: 'bone_marrow_aspirate',
      folder: bigFolder('E2E-PART', FILES),
    });
    const { page, pageErrors } = await h.newPage();
    await loginAs(page, h, 'tech');
    await page.goto(`${h.host.url}#/case/${created.id}/analysis`);
    await byTestId(page, 'analysis-resume').click();
    // Cancel once some files are done, as a technician would on seeing the wrong folder.
    await expect
      .poll(
        async () =>
          Number(
            (
              await byTestId(page, 'analysis-count')
                .innerText()
                .catch(() => '0 /')
            ).split(' /')[0],
          ),
        { timeout: 60_000 },
      )
      .toBeGreaterThan(0);
    await byTestId(page, 'analysis-cancel').click();
    await expect.poll(() => byTestId(page, 'analysis-phase').innerText(), { timeout: 60_000 }).toBe('Analysis cancelled');

    const detail = await tech.getCase(created.id);
    expect(detail.status).toBe('cancelled');
    const done = detail.partial!.filesAnalysed;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(FILES);
    const words = `Cancelled — ${done.toLocaleString('en-GB')} of ${FILES.toLocaleString('en-GB')} files analysed`;
    await expect.poll(() => byTestId(page, 'case-status-badge').innerText()).toBe(words);
    await screenshot(page, 'lifecycle-01-cancelled-analysis');

    await byTestId(page, 'case-tab-differential').click();
    await expect.poll(() => byTestId(page, 'differential-screen').isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => byTestId(page, 'partial-banner-text').innerText()).toContain(`${(FILES - done).toLocaleString('en-GB')} files were never analysed`);
    await screenshot(page, 'lifecycle-02-partial-differential');

    await byTestId(page, 'case-tab-signoff').click();
    expect(await byTestId(page, 'signoff-submit').count()).toBe(0);
    expect(await byTestId(page, 'signoff-signer').innerText()).toContain('resume the analysis, or exclude the remaining files with a reason');
    await byTestId(page, 'report-save-pdf').click();
    await expect.poll(() => byTestId(page, 'report-saved-path').innerText(), { timeout: 60_000 }).toContain('-draft.pdf');
    const draft = await byTestId(page, 'report-saved-path').innerText();
    expect(pdfText(draft, 1)).toContain(
      `Partial result: the analysis was cancelled (${done.toLocaleString('en-GB')} of ${FILES.toLocaleString('en-GB')} files analysed)`,
    );
    renderPage1(draft, 'lifecycle-03-partial-draft-pdf');

    await page.goto(`${h.host.url}#/cases`);
    await expect.poll(() => byTestId(page, `case-status-${created.id}`).innerText()).toContain(words);
    await screenshot(page, 'lifecycle-04-case-list-partial');

    // Resume from the banner: the run continues where it stopped and completes the case.
    await page.goto(`${h.host.url}#/case/${created.id}/differential`);
    await byTestId(page, 'partial-resume').click();
    await expect.poll(() => byTestId(page, 'analysis-count').innerText(), { timeout: 30_000 }).toMatch(/ \/ 1500 cells$/);
    await screenshot(page, 'lifecycle-05a-resumed-running');
    // The finished run moves on to the differential by itself, and the header follows without a reload.
    await expect.poll(() => byTestId(page, 'case-status-badge').innerText(), { timeout: 120_000 }).toBe('In review');
    await expect.poll(() => byTestId(page, 'differential-screen').isVisible(), { timeout: 30_000 }).toBe(true);
    const after = await tech.getCase(created.id);
    expect(after.partial).toBeNull();
    expect(after.cellCount).toBe(FILES);
    expect(await byTestId(page, 'partial-banner').count()).toBe(0);
    await screenshot(page, 'lifecycle-05-resumed-complete');
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('amend and release again → CORRECTED REPORT with before → after on page 1, and the first PDF still on disk', async () => {
    const caseId = await analysedCase('E2E-AMEND');
    await tech.submitCase({ caseId, password: PEOPLE.tech.password, overrideReason: 'e2e set-up' });
    await (await h.api('path')).authoriseCase({ caseId, password: PEOPLE.path.password, overrideReason: 'e2e set-up' });
    // The pathologist amends, reclassifies and authorises again (this lab lets her sign alone).
    await (await h.api('admin')).saveSecuritySettings({ ...(await (await h.api('admin')).getSecuritySettings()), pathologistMaySignAlone: true });
    const { page, pageErrors } = await h.newPage();
    await loginAs(page, h, 'path');
    await page.goto(`${h.host.url}#/case/${caseId}/signoff`);
    await byTestId(page, 'report-save-pdf').click();
    await expect.poll(() => byTestId(page, 'report-saved-path').innerText(), { timeout: 60_000 }).toContain('.pdf');
    const firstPath = await byTestId(page, 'report-saved-path').innerText();
    const firstBytes = readFileSync(firstPath);
    const before = (await tech.getDifferential(caseId)).differential;

    await byTestId(page, 'amend-open').click();
    await byTestId(page, 'amend-reason').fill('a cell was a blast');
    await byTestId(page, 'amend-submit').click();
    await expect.poll(() => byTestId(page, 'case-status-badge').innerText()).toBe('In review');
    await expect.poll(() => byTestId(page, 'case-amended-badge').isVisible()).toBe(true);

    // Reclassify one non-blast cell to a blast on the review screen, by keyboard.
    await page.goto(`${h.host.url}#/case/${caseId}/review?scope=all`);
    await expect.poll(() => byTestId(page, 'review-grid').isVisible(), { timeout: 30_000 }).toBe(true);
    const { cells } = await tech.listCells({ caseId, scope: 'all', limit: 40 });
    const firstNonBlast = cells.findIndex((c) => c.effectiveLabel !== 'BLA');
    await byTestId(page, 'review-grid').focus();
    for (let i = 0; i < firstNonBlast; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('b');
    await expect.poll(async () => (await tech.getDifferential(caseId)).differential.blast.count, { timeout: 10_000 }).toBe(before.blast.count + 1);

    await page.goto(`${h.host.url}#/case/${caseId}/signoff`);
    await byTestId(page, 'signoff-password').fill(PEOPLE.path.password);
    await byTestId(page, 'signoff-authorise').click();
    // The fixture case has flagged cells left unreviewed: signing needs an override reason.
    const override = byTestId(page, 'signoff-override-reason');
    await expect.poll(() => override.isVisible(), { timeout: 10_000 }).toBe(true);
    await override.fill('e2e: remaining flags reviewed at the microscope');
    await byTestId(page, 'signoff-override-submit').click();
    await expect.poll(() => byTestId(page, 'case-status-badge').innerText(), { timeout: 10_000 }).toBe('Released');
    await byTestId(page, 'report-save-pdf').click();
    await expect.poll(() => byTestId(page, 'report-saved-path').innerText(), { timeout: 60_000 }).toContain('-corrected-2.pdf');
    const secondPath = await byTestId(page, 'report-saved-path').innerText();
    const page1 = pdfText(secondPath, 1);
    expect(page1).toContain('CORRECTED REPORT — replaces the report released on');
    expect(page1).toContain(`by ${PEOPLE.path.displayName}`);
    expect(page1).toContain('Reason: a cell was a blast');
    expect(page1).toMatch(/Blasts \(% of NDC\) [\d.]+% → [\d.]+%/);
    renderPage1(secondPath, 'lifecycle-06-corrected-pdf');
    expect(existsSync(firstPath)).toBe(true);
    expect(readFileSync(firstPath).equals(firstBytes)).toBe(true);
    await screenshot(page, 'lifecycle-07-released-again');

    await page.goto(`${h.host.url}#/cases`);
    await expect.poll(() => byTestId(page, `case-amended-${caseId}`).isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('two browsers decide the same cell: the second is refused naming the first person, and nothing is lost', async () => {
    const caseId = await analysedCase('E2E-RACE');
    const review = `${h.host.url}#/case/${caseId}/review?scope=all`;
    const a = await h.newPage();
    await loginAs(a.page, h, 'tech');
    await a.page.goto(review);
    await expect.poll(() => byTestId(a.page, 'review-grid').isVisible(), { timeout: 30_000 }).toBe(true);
    const b = await h.newPage();
    await loginAs(b.page, h, 'path');
    await b.page.goto(review);
    await expect.poll(() => byTestId(b.page, 'review-grid').isVisible(), { timeout: 30_000 }).toBe(true);
    const [first] = (await tech.listCells({ caseId, scope: 'all', limit: 1 })).cells;
    const label = first!.predicted === 'BLA' ? 'LYT' : 'BLA';

    // One reclassifies the first cell; Two, still looking at the model's label, confirms it.
    await byTestId(a.page, 'review-grid').focus();
    await a.page.keyboard.press(label === 'BLA' ? 'b' : 'l');
    await expect.poll(async () => (await tech.listCells({ caseId, scope: 'all', limit: 1 })).cells[0]!.decision?.label, { timeout: 10_000 }).toBe(label);
    await byTestId(b.page, 'review-grid').focus();
    await b.page.keyboard.press('Enter');
    await expect
      .poll(() => byTestId(b.page, 'error-banner-message').first().innerText(), { timeout: 10_000 })
      .toContain(`changed by ${PEOPLE.tech.displayName}`);
    expect(await byTestId(b.page, 'error-banner-message').first().innerText()).toContain(`to ${label} — look again`);
    // The refused screen now shows what is there: One's decision.
    await expect.poll(() => byTestId(b.page, `cell-decision-${first!.imageId}`).innerText(), { timeout: 10_000 }).toContain(PEOPLE.tech.displayName);
    await screenshot(b.page, 'lifecycle-08-second-reviewer-refused');
    const stored = (await tech.listCells({ caseId, scope: 'all', limit: 1 })).cells[0]!;
    expect(stored.decision).toMatchObject({ label, reviewer: PEOPLE.tech.displayName });
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  }, 240_000);
});
