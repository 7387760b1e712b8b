// What a technician trips over in the first week (issue 24), driven in the built renderer in Chromium against the
// real service, database and model: one Save for the whole Settings dialog, the review's focus, undo and live bar,
// the enlarged cell, finding a cell, the lab's own key map, and the words on the screens. Screenshots go to
// test-results/screenshots/daily-*.png.
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIS_SETTINGS } from '../../src/shared/lis';
import { flagReasonText } from '../../src/shared/flag-reasons';
import { DEFAULT_REVIEW_LAYOUT } from '../../src/shared/review-layout';
import { loginAs, PEOPLE, releaseCase, screenshot, startHarness, type Harness } from './harness';

const byTestId = (page: Page, id: string) => page.getByTestId(id);
const focusedTestId = (page: Page) => page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid') ?? null");

describe('daily use in Chromium', () => {
  let h: Harness;
  let page: Page;
  let pageErrors: Error[];

  beforeAll(async () => {
    h = await startHarness('daily');
    ({ page, pageErrors } = await h.newPage());
  });
  afterEach(() => {
    h?.clearHoldsAndFailures();
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A new case on the demo folder, analysed to the end, with the technician as reviewer. */
  async function analysedCase(accession: string): Promise<{ id: number; accession: string }> {
    const created = await (
      await h.api('tech')
    ).createCase({ patient: { labId: 'MRN-DAILY-1', name: 'Jane Doe' }, accession, specimen: 'bone_marrow_aspirate', folder: h.caseFolder });
    await (await h.api('tech')).startAnalysis(created.id);
    await expect.poll(async () => (await (await h.api('tech')).getAnalysisProgress(created.id))?.phase, { timeout: 120_000 }).toBe('done');
    return created;
  }

  it('saves the general and the LIS sections of Settings with one Save, and names and focuses a missing required field', async () => {
    await loginAs(page, h, 'admin');
    await page.goto(`${h.host.url}/#/cases`);
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'lis-settings').waitFor();
    expect(await page.getByRole('button', { name: /save/i }).count()).toBe(1);
    await byTestId(page, 'settings-lab-name').fill('Haematology, City Hospital');
    await byTestId(page, 'lis-settings-sendingFacility').fill('HAEM LAB');
    await byTestId(page, 'lis-settings-enabled').check();
    await byTestId(page, 'settings-save').click();
    // Delivery on without the patient identifier namespace: refused before anything is written, focus on the field.
    await expect.poll(() => byTestId(page, 'settings-error').innerText()).toContain('patient identifier namespace');
    await expect.poll(() => focusedTestId(page)).toBe('lis-settings-patientIdAuthority');
    expect((await (await h.api('admin')).getSettings()).labName).toBe('');
    await screenshot(page, 'daily-01-settings-required-field');
    await page.keyboard.type('HOSP');
    await byTestId(page, 'lis-settings-patientIdSystem').fill('urn:oid:1.2.3.4');
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'settings-dialog').waitFor({ state: 'detached' });
    expect(await (await h.api('admin')).getSettings()).toEqual({ labName: 'Haematology, City Hospital' });
    expect(await (await h.api('admin')).getLisSettings()).toMatchObject({
      ...DEFAULT_LIS_SETTINGS,
      enabled: true,
      sendingFacility: 'HAEM LAB',
      patientIdAuthority: 'HOSP',
      patientIdSystem: 'urn:oid:1.2.3.4',
    });
    await (await h.api('admin')).saveLisSettings({ ...DEFAULT_LIS_SETTINGS, codeMapping: [] });
  });

  it('puts the focus on the grid when Review is entered by its tab, so the first Enter confirms a cell', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-FOCUS');
    await page.goto(`${h.host.url}/#/case/${created.id}/differential`);
    await byTestId(page, 'differential-screen').waitFor();
    await byTestId(page, 'case-tab-review').click();
    await byTestId(page, 'review-grid').waitFor();
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    const sent = page.waitForRequest((request) => request.url().endsWith('/api/reviewCell'));
    await page.keyboard.press('Enter');
    await sent;
    await expect.poll(async () => (await (await h.api('tech')).getDifferential(created.id)).review.reviewed).toBe(1);
  });

  it('undoes the person’s last decision after a reload, and a notice does not follow them to another screen', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-UNDO');
    const cells = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 5 })).cells;
    const [first, second] = [cells[0]!, cells[1]!];
    await (await h.api('tech')).reviewCell({ caseId: created.id, imageId: first.imageId, label: 'ART' });
    // Someone else's later decision is not this person's to undo.
    await (await h.api('path')).reviewCell({ caseId: created.id, imageId: second.imageId, label: 'ART' });
    await page.goto(`${h.host.url}/#/case/${created.id}/review?scope=all`);
    await byTestId(page, 'review-grid').waitFor();
    await page.reload();
    await byTestId(page, 'review-grid').waitFor();
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    await page.keyboard.press('Backspace');
    await expect
      .poll(
        async () =>
          (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 5 })).cells.find((c) => c.imageId === first.imageId)?.decision,
      )
      .toBeNull();
    expect(
      (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 5 })).cells.find((c) => c.imageId === second.imageId)?.decision
        ?.reviewer,
    ).toBe(PEOPLE.path.displayName);
    await page.keyboard.press('Backspace');
    await expect.poll(() => byTestId(page, 'notice').innerText()).toContain('Nothing to undo');
    await byTestId(page, 'nav-cases').click();
    await byTestId(page, 'cases-screen').waitFor();
    expect(await byTestId(page, 'notice').count()).toBe(0);
  });

  it('keeps the case header and the live bar in view while the selection moves down the grid', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-STICKY');
    await page.goto(`${h.host.url}/#/case/${created.id}/review?scope=all`);
    await byTestId(page, 'review-grid').waitFor();
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate<number>('window.scrollY')).toBeGreaterThan(300);
    for (const id of ['case-header', 'review-live-bar']) {
      const box = await byTestId(page, id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.y, `${id} is in view`).toBeGreaterThanOrEqual(0);
      expect(box!.y, `${id} is in view`).toBeLessThan(250);
    }
    const selected = await page.locator('[data-selected="true"]').boundingBox();
    const bar = await byTestId(page, 'review-live-bar').boundingBox();
    expect(selected!.y, 'the selected tile is not hidden under the live bar').toBeGreaterThanOrEqual(bar!.y + bar!.height);
    await page.screenshot({ path: `${process.cwd()}/test-results/screenshots/daily-02-review-scrolled.png` });
  });

  it('enlarges the selected cell with V and a double click, at its own 250 px and at 2×, with file, reasons and top 2', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-ZOOM');
    await page.goto(`${h.host.url}/#/case/${created.id}/review`);
    await byTestId(page, 'review-grid').waitFor();
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    const first = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'unreviewed', limit: 1 })).cells[0]!;
    await page.keyboard.press('v');
    await byTestId(page, 'cell-zoom').waitFor();
    await expect.poll(() => byTestId(page, 'cell-zoom-size').innerText()).toBe('250 × 250 px shown at 250 × 250 px');
    expect((await byTestId(page, 'cell-zoom-image').boundingBox())!.width).toBeCloseTo(250, 0);
    expect(await byTestId(page, 'cell-zoom-file').innerText()).toBe(first.file);
    expect(await byTestId(page, 'cell-zoom-top').innerText()).toContain(first.top[1]!.code);
    expect(await byTestId(page, 'cell-zoom-reasons').innerText()).toContain(flagReasonText(first.flagReasons[0]!));
    await screenshot(page, 'daily-03-cell-enlarged');
    await byTestId(page, 'cell-zoom-2x').click();
    expect((await byTestId(page, 'cell-zoom-image').boundingBox())!.width).toBeCloseTo(500, 0);
    await page.keyboard.press('Escape');
    await byTestId(page, 'cell-zoom').waitFor({ state: 'detached' });
    // Keys work on the grid again at once, and a double click opens the cell clicked.
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    const second = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'unreviewed', limit: 2 })).cells[1]!;
    await byTestId(page, `cell-tile-${second.imageId}`).dblclick();
    await expect.poll(() => byTestId(page, 'cell-zoom-file').innerText()).toBe(second.file);
    await page.keyboard.press('Escape');
  });

  it('finds a cell by its file name and goes to the next unreviewed cell of the selected class with U', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-FIND');
    const all = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells;
    const wanted = all[all.length - 1]!;
    await page.goto(`${h.host.url}/#/case/${created.id}/review?scope=all`);
    await byTestId(page, 'review-grid').waitFor();
    await page.keyboard.press('/');
    await expect.poll(() => focusedTestId(page)).toBe('review-find-file');
    await page.keyboard.type(wanted.file.toUpperCase());
    await page.keyboard.press('Enter');
    await expect.poll(() => byTestId(page, 'review-total').innerText()).toBe('1 cell');
    await byTestId(page, `cell-tile-${wanted.imageId}`).waitFor();
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    await byTestId(page, 'review-find-file').fill('no-such-file');
    await page.keyboard.press('Enter');
    await expect.poll(() => byTestId(page, 'review-empty').innerText()).toContain('no-such-file');
    await byTestId(page, 'review-find-file').fill('');

    // U from a cell: the next undecided cell predicted as its class.
    const flagged = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'unreviewed', limit: 40 })).cells;
    const code = flagged[0]!.predicted;
    const nextSame = flagged.slice(1).find((cell) => cell.predicted === code);
    await page.goto(`${h.host.url}/#/case/${created.id}/review`);
    await byTestId(page, 'review-grid').waitFor();
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    await page.keyboard.press('u');
    if (nextSame !== undefined) {
      await expect.poll(() => page.locator('[data-selected="true"]').getAttribute('data-testid')).toBe(`cell-tile-${nextSame.imageId}`);
    } else {
      await expect.poll(() => page.evaluate<string>('location.hash')).toContain(`class=${code}`);
    }
  });

  it('offers the sign-off once the last flagged cell is reviewed', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-DONE');
    const flagged = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'unreviewed', limit: 1000 })).cells;
    await (await h.api('tech')).confirmCells({ caseId: created.id, imageIds: flagged.slice(1).map((cell) => cell.imageId) });
    await page.goto(`${h.host.url}/#/case/${created.id}/review`);
    await byTestId(page, 'review-grid').waitFor();
    expect(await byTestId(page, 'review-all-flagged-done').count()).toBe(0);
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    await page.keyboard.press('Enter');
    await byTestId(page, 'review-all-flagged-done').waitFor();
    await screenshot(page, 'daily-04-review-done');
    await byTestId(page, 'review-go-signoff').click();
    await byTestId(page, 'signoff-screen').waitFor();
  });

  it('uses the lab’s own key map, class order and hidden classes in the legend, on tiles and on the keyboard, refusing a conflict', async () => {
    await loginAs(page, h, 'admin');
    const created = await analysedCase('BM-DAILY-KEYS');
    await page.goto(`${h.host.url}/#/cases`);
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'review-layout-settings').waitFor();
    await byTestId(page, 'review-layout-key-BLA').fill('1');
    await byTestId(page, 'review-layout-key-LYT').fill('1');
    await expect.poll(() => byTestId(page, 'review-layout-conflict').innerText()).toContain('The key 1 is given to both BLA and LYT');
    await byTestId(page, 'settings-save').click();
    await expect.poll(() => focusedTestId(page)).toBe('review-layout-key-LYT');
    await screenshot(page, 'daily-05-settings-key-conflict');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('l');
    await byTestId(page, 'review-layout-hidden-FGC').check();
    await byTestId(page, 'review-layout-up-LYT').click();
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'settings-dialog').waitFor({ state: 'detached' });
    const stored = await (await h.api('tech')).getReviewLayout();
    // The lab's key map is the administrator's to set; the technician reviews with it.
    await loginAs(page, h, 'tech');
    expect(stored.keys.BLA).toBe('1');
    expect(stored.hidden).toEqual(['FGC']);
    expect(stored.order.indexOf('LYT')).toBe(stored.order.indexOf('MON') - 1);

    await page.goto(`${h.host.url}/#/case/${created.id}/review`);
    await byTestId(page, 'review-grid').waitFor();
    expect(await byTestId(page, 'review-key-BLA').innerText()).toBe('1');
    expect(await byTestId(page, 'review-reclassify-FGC').count()).toBe(0);
    const legend = await byTestId(page, 'review-legend').innerText();
    expect(legend.indexOf('LYT')).toBeLessThan(legend.indexOf('MON'));
    await screenshot(page, 'daily-06-review-lab-keys');
    const first = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'unreviewed', limit: 1 })).cells[0]!;
    await expect.poll(() => focusedTestId(page)).toBe('review-grid');
    await page.keyboard.press('1');
    await expect
      .poll(
        async () =>
          (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'flagged', limit: 1000 })).cells.find((c) => c.imageId === first.imageId)
            ?.decision?.label,
      )
      .toBe('BLA');
    // The old key of BLA and the hidden class's key do nothing now.
    await page.keyboard.press('f');
    await page.keyboard.press('b');
    expect((await (await h.api('tech')).getDifferential(created.id)).review.reviewed).toBe(1);

    await loginAs(page, h, 'admin');
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'review-layout-reset').click();
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'settings-dialog').waitFor({ state: 'detached' });
    expect(await (await h.api('tech')).getReviewLayout()).toEqual(DEFAULT_REVIEW_LAYOUT);
  });

  it('gives the LIS table the whole width and does not call the first sending of a result "again"', async () => {
    await loginAs(page, h, 'path');
    const created = await analysedCase('BM-DAILY-LIS');
    await (
      await h.api('admin')
    ).saveLisSettings({
      ...DEFAULT_LIS_SETTINGS,
      patientIdAuthority: 'HOSP',
      patientIdSystem: 'urn:oid:1.2.3.4',
      outboxFolder: `${h.root}/outbox`,
      codeMapping: [],
    });
    await releaseCase(h, created.id, 'Flagged cells seen at the microscope');
    await page.goto(`${h.host.url}/#/case/${created.id}/signoff`);
    await byTestId(page, 'lis-none').waitFor();
    await byTestId(page, 'lis-resend').click();
    await expect.poll(() => byTestId(page, 'notice').innerText()).toBe(`Case ${created.accession}: the result is queued for the LIS.`);
    await byTestId(page, 'lis-deliveries').waitFor();
    const panel = (await byTestId(page, 'lis-panel').boundingBox())!;
    const header = (await byTestId(page, 'case-header').boundingBox())!;
    expect(panel.width / header.width).toBeGreaterThan(0.95);
    await screenshot(page, 'daily-07-signoff-lis');
    await byTestId(page, 'lis-resend').click();
    await expect.poll(() => byTestId(page, 'notice').innerText()).toContain('queued for the LIS again');
  });

  it('keeps a long case number and the date on one line each in the case list', async () => {
    await loginAs(page, h, 'tech');
    await (
      await h.api('tech')
    ).createCase({
      patient: { labId: 'MRN-DAILY-LONG', name: 'A Patient With A Rather Long Name' },
      accession: 'BM-2026-000123456-REPEAT',
      specimen: 'bone_marrow_aspirate',
      // Another patient than the other cases on the demo folder: a copy of its own (issue 21).
      folder: h.freshCaseFolder('long'),
    });
    await page.setViewportSize({ width: 1000, height: 800 });
    try {
      await page.goto(`${h.host.url}/#/cases`);
      await byTestId(page, 'cases-table').waitFor();
      // Lines of text in each cell, counted from the rendered text's boxes (the row's height follows its tallest cell).
      const lines = await page.evaluate<Record<string, number>>(`(() => {
        const out = {};
        for (const cell of document.querySelectorAll('[data-testid^="case-accession-"], [data-testid^="case-date-"]')) {
          const range = document.createRange();
          range.selectNodeContents(cell);
          out[cell.dataset.testid] = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
        }
        return out;
      })()`);
      expect(Object.keys(lines).length).toBeGreaterThanOrEqual(2);
      for (const [testId, count] of Object.entries(lines)) expect(count, `${testId} is on one line`).toBe(1);
      await screenshot(page, 'daily-08-case-list-narrow');
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('links the duplicate-accession refusal to the case that has the number, and corrects a stored patient name with a reason', async () => {
    await loginAs(page, h, 'tech');
    const first = await (
      await h.api('tech')
    ).createCase({
      patient: { labId: 'MRN-DAILY-DUP', name: 'Jnae Doe' },
      accession: 'BM-DAILY-DUP',
      specimen: 'bone_marrow_aspirate',
      folder: h.freshCaseFolder('dup'),
    });
    await page.goto(`${h.host.url}/#/cases/new`);
    await byTestId(page, 'new-case-patient-id').fill('MRN-DAILY-OTHER');
    await byTestId(page, 'new-case-accession').fill('bm-daily-dup');
    await byTestId(page, 'new-case-folder').fill(h.caseFolder);
    await byTestId(page, 'new-case-submit').click();
    await expect.poll(() => byTestId(page, 'new-case-error-accession').innerText()).toContain('already used');
    await byTestId(page, 'new-case-open-existing').waitFor();
    await screenshot(page, 'daily-09-duplicate-accession-link');
    await byTestId(page, 'new-case-open-existing').click();
    await expect.poll(() => byTestId(page, 'case-header-accession').innerText()).toBe('Case BM-DAILY-DUP');

    await byTestId(page, 'case-correct-name').click();
    await byTestId(page, 'patient-name-input').fill('Jane Doe');
    await byTestId(page, 'patient-name-save').click();
    await expect.poll(() => byTestId(page, 'patient-name-error').innerText()).toContain('reason');
    await byTestId(page, 'patient-name-reason').fill('typing error at registration');
    await screenshot(page, 'daily-10-correct-patient-name');
    await byTestId(page, 'patient-name-save').click();
    await byTestId(page, 'patient-name-dialog').waitFor({ state: 'detached' });
    await expect.poll(() => byTestId(page, 'case-header-patient').innerText()).toContain('Jane Doe');
    expect((await (await h.api('tech')).getCase(first.id)).patientName).toBe('Jane Doe');
  });

  it('shows on the lab model screen, before training, that no signed case has reviewed cells yet', async () => {
    await loginAs(page, h, 'tech');
    await page.goto(`${h.host.url}/#/lab-model`);
    await expect
      .poll(() => byTestId(page, 'lab-material-missing').innerText())
      .toMatch(/No signed case has reviewed cells analysed with marrowcount-ref|at least 3 signed cases/);
    await screenshot(page, 'daily-11-lab-model-material');
  });

  it('says the blast figure once on the card, with only the advisories that say something, and marks KSC reviewer-only', async () => {
    await loginAs(page, h, 'tech');
    const created = await analysedCase('BM-DAILY-BLAST');
    await page.goto(`${h.host.url}/#/case/${created.id}/differential`);
    await byTestId(page, 'blast-advisories').waitFor();
    const card = await page.locator('.blast-card').innerText();
    // The demo case: 8.0% (95% CI 5.2–12.0%): at or above 5%, interval crosses 10%; "below 20%" says nothing more.
    expect(card.match(/8\.0%/g)).toHaveLength(1);
    expect(card).not.toMatch(/below 20%/);
    expect(await page.locator('[data-testid^="blast-advisory-"]').count()).toBe(2);
    expect(await byTestId(page, 'excluded-reviewer-only-KSC').innerText()).toContain('reviewer only');
    await screenshot(page, 'daily-12-differential');
  });
});
