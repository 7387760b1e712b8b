// A technician's whole job in the built renderer, in Debian's Chromium, against the real service, database and
// model over the loopback HTTP host: create a case by typing the folder path, watch the analysis finish, read the
// differential, reclassify three cells and confirm two from the keyboard, see the counts change, sign off, save the
// PDF and read it back with pdftotext. Screenshots of each screen go to test-results/screenshots/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CELL_CLASSES, type CellClassCode } from '../../src/shared/cell-classes';
// The review grid's keys, as its on-screen legend shows them.
import { CLASS_KEYS } from '../../src/renderer/src/review/keymap';
import { OPEN_SET_REASON } from '../../src/shared/flag-reasons';
import { CASE_STATUS_LABELS } from '../../src/shared/case-lifecycle';
import type { MarrowApiMethod } from '../../src/shared/api';
import { loginAs, PEOPLE, screenshot, SCREENSHOTS, startHarness, type Harness } from './harness';

const PATIENT_ID = 'MRN-E2E-0042';
const ACCESSION = 'BM-E2E-0042';
// The harness's people: the technician counts, the pathologist signs.
const TECHNICIAN = PEOPLE.tech.displayName;
const SIGNER = PEOPLE.path.displayName;

const byTestId = (page: Page, id: string) => page.getByTestId(id);

/** A class's count as the differential screen shows it: NDC classes in the main table, ART/NIF/KSC in the excluded one. */
async function shownCount(page: Page, code: CellClassCode): Promise<number> {
  const inTable = byTestId(page, CELL_CLASSES[code].inNucleatedDifferential ? `class-count-${code}` : `excluded-count-${code}`);
  return Number((await inTable.innerText()).trim());
}

async function shownCounts(page: Page): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const code of Object.keys(CELL_CLASSES) as CellClassCode[]) counts[code] = await shownCount(page, code);
  return counts;
}

/**
 * Holds the host's answers to `method` back until settle(), as a slow disk or a busy database would; settle() lets
 * them through and waits until the page has the answer.
 */
function holdBack(h: Harness, page: Page, method: MarrowApiMethod): { settle: () => Promise<void>; holding: () => boolean } {
  const held = h.hold(method);
  let answeredYet = false;
  const answered = page.waitForResponse((response) => response.url().endsWith(`/api/${method}`));
  void answered.then(
    () => (answeredYet = true),
    () => undefined,
  );
  return {
    /** True while a call has reached the hold and none has been answered: the hold is doing its job. */
    holding: () => held.reached() > 0 && !answeredYet,
    async settle() {
      held.release();
      await answered;
    },
  };
}

/**
 * Starts recording, in the page, the keys its window receives (whether a handler took them) and every text its
 * notice line shows; the returned function describes them and the page's state, for a failure message. Needed because
 * a notice is gone after 4 s, before a timeout can look at it. Strings, because the tests are compiled without the DOM.
 */
async function watchKeysAndNotices(page: Page): Promise<() => Promise<string>> {
  await page.evaluate(`(() => {
    const seen = (window.__seen = []);
    let lastNotice = '';
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="notice"]')?.textContent ?? '';
      if (text !== lastNotice && text !== '') seen.push('notice "' + text + '"');
      lastNotice = text;
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
    // Added after the review screen's own listener, so it sees whether that listener took the key.
    window.addEventListener('keydown', (event) => {
      const target = event.target instanceof HTMLElement ? event.target.tagName + '#' + (event.target.dataset.testid ?? '') : String(event.target);
      seen.push('key ' + event.key + ' at ' + target + (event.defaultPrevented ? ' taken' : ' NOT taken'));
    });
  })()`);
  return () =>
    page.evaluate<string>(`(() => {
      const active = document.activeElement;
      const selected = document.querySelector('[data-selected="true"]');
      return [
        ...window.__seen,
        'focus on ' + (active?.tagName ?? 'nothing') + '#' + (active?.dataset?.testid ?? ''),
        'modal ' + (document.querySelector('[aria-modal="true"]') !== null ? 'open' : 'none'),
        'selected ' + (selected?.getAttribute('data-testid') ?? 'none') + ' (' + (selected?.textContent ?? '') + ')',
        'tiles ' + document.querySelectorAll('[role="option"]').length,
        'banners ' + JSON.stringify(Array.from(document.querySelectorAll('.banner-stack'), (b) => b.textContent)),
      ].join('; ');
    })()`);
}

/** Counts the page's requests to `endpoint` until stop(). */
function countRequests(page: Page, endpoint: string): { count: () => number; stop: () => void } {
  let count = 0;
  const listener = (request: { url(): string }) => {
    if (request.url().endsWith(endpoint)) count++;
  };
  page.on('request', listener);
  return { count: () => count, stop: () => page.off('request', listener) };
}

describe('technician workflow in Chromium', () => {
  let h: Harness;
  let page: Page;
  let pageErrors: Error[];

  beforeAll(async () => {
    h = await startHarness('workflow');
    console.log(`e2e: model ${h.model.dir}${h.model.bundled ? '' : ' (tiny fixture: the bundled model is not installed yet)'}; case folder ${h.caseFolder}`);
    ({ page, pageErrors } = await h.newPage());
    await loginAs(page, h, 'tech');
  });

  async function runnerUp(caseId: number, imageId: number): Promise<CellClassCode> {
    const cells = (await (await h.api('tech')).listCells({ caseId, scope: 'all', limit: 1000 })).cells;
    const second = cells.find((c) => c.imageId === imageId)?.top[1]?.code;
    if (!second) throw new Error(`cell ${imageId} has no runner-up class`);
    return second;
  }
  afterEach(() => {
    h?.clearHoldsAndFailures();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A new case on `folder` (the demo case by default), analysed to the end, with the technician as reviewer. */
  async function analysedCase(suffix: string, folder = h.caseFolder): Promise<{ id: number; accession: string }> {
    const created = await (
      await h.api('tech')
    ).createCase({ patient: { labId: PATIENT_ID }, accession: `${ACCESSION}-${suffix}`, specimen: 'bone_marrow_aspirate', folder });
    await (await h.api('tech')).startAnalysis(created.id);
    await expect.poll(async () => (await (await h.api('tech')).getAnalysisProgress(created.id))?.phase, { timeout: 120_000 }).toBe('done');
    return created;
  }

  /**
   * Opens the review of every cell of `created`. Going there changes only the URL hash, so the case shown before
   * stays on screen for a moment: wait for this case's header before looking at the grid.
   */
  async function openReviewOfAll(created: { id: number; accession: string }, ready = 'review-grid'): Promise<void> {
    await page.goto(`${h.host.url}/#/case/${created.id}/review?scope=all`);
    await expect.poll(() => byTestId(page, 'case-header-accession').innerText()).toBe(`Case ${created.accession}`);
    await byTestId(page, ready).waitFor();
  }

  /**
   * Holds `endpoint` back, presses `first` (which needs that request) and at once a class key: the class key must be
   * refused with `notice` and send no decision. The hold is released before returning.
   */
  async function expectClassKeyRefusedWhileHeld(method: MarrowApiMethod, first: string, notice: string): Promise<void> {
    const held = holdBack(h, page, method);
    const reviews = countRequests(page, '/api/reviewCell');
    try {
      await page.keyboard.press(first);
      await page.keyboard.press(CLASS_KEYS.BLA);
      await expect.poll(() => byTestId(page, 'notice').innerText()).toContain(notice);
      expect(reviews.count()).toBe(0);
    } finally {
      await held.settle();
      reviews.stop();
    }
  }

  /** What the sign-off panel shows, for a failure message: the fields, the button and any error or refusal. */
  async function signOffScreenState(): Promise<string> {
    const text = async (testId: string) => {
      const at = byTestId(page, testId);
      return (await at.count()) > 0 ? JSON.stringify(await at.first().innerText()) : 'none';
    };
    const submit = byTestId(page, 'signoff-submit');
    const value = async (testId: string) => {
      const at = byTestId(page, testId);
      return (await at.count()) > 0 ? JSON.stringify(await at.inputValue()) : 'none';
    };
    void value;
    return (
      `signer ${await text('signoff-signer')}, ` +
      `Sign off button ${(await submit.count()) > 0 ? ((await submit.isEnabled()) ? 'enabled' : 'disabled') : 'absent'}, ` +
      `error ${await text('signoff-error')}, refusal ${await text('signoff-refusal')}, notice ${await text('notice')}`
    );
  }

  /** Presses a decision key and waits until its save has been sent, saying what the screen did if it was not. */
  async function pressDecisionKey(key: string): Promise<void> {
    const sent = page.waitForRequest((request) => request.url().endsWith('/api/reviewCell'), { timeout: 10_000 });
    const seen = await watchKeysAndNotices(page);
    await page.keyboard.press(key);
    await sent.catch(async (error: unknown) => {
      throw new Error(`Key ${key} sent no decision: ${await seen()}`, { cause: error });
    });
  }

  it('does the whole job from an empty case list to a signed PDF report', async () => {
    await page.goto(`${h.host.url}/`);
    await byTestId(page, 'cases-screen').waitFor();
    await byTestId(page, 'cases-empty').waitFor();
    await screenshot(page, '01-cases-empty');

    // New case: a blank submit names the required fields; then fill the form as a technician would.
    await byTestId(page, 'nav-new-case').click();
    await byTestId(page, 'new-case-screen').waitFor();
    await byTestId(page, 'new-case-submit').click();
    await byTestId(page, 'new-case-error-labId').waitFor();
    await screenshot(page, '02-new-case-required-fields');
    await byTestId(page, 'new-case-patient-id').fill(PATIENT_ID);
    await byTestId(page, 'new-case-patient-name').fill('Doe, Jane');
    await byTestId(page, 'new-case-birth-date').fill('1958-03-14');
    await byTestId(page, 'new-case-accession').fill(ACCESSION);
    await byTestId(page, 'new-case-specimen').selectOption('bone_marrow_aspirate');
    // A mistyped folder is refused by the service with the field named.
    await byTestId(page, 'new-case-folder').fill(`${h.caseFolder}-typo`);
    await byTestId(page, 'new-case-submit').click();
    await expect.poll(() => byTestId(page, 'new-case-error-folder').innerText()).toContain('does not exist');
    await screenshot(page, '03-new-case-folder-error');
    await byTestId(page, 'new-case-folder').fill(h.caseFolder);
    await byTestId(page, 'new-case-submit').click();

    // Analysis: progress until done, then the differential.
    await byTestId(page, 'analysis-screen').waitFor();
    await screenshot(page, '04-analysis');
    const differentialOrButton = page.locator('[data-testid="differential-screen"], [data-testid="analysis-open-differential"]');
    await differentialOrButton.first().waitFor({ timeout: 120_000 });
    if (await byTestId(page, 'analysis-open-differential').isVisible()) {
      await expect.poll(() => byTestId(page, 'analysis-phase').innerText()).toMatch(/complete/i);
      await byTestId(page, 'analysis-open-differential').click();
    }
    await byTestId(page, 'differential-screen').waitFor();
    await byTestId(page, 'class-count-BLA').waitFor();

    const caseId = (await (await h.api('tech')).listCases({ search: ACCESSION }))[0]!.id;
    // The screen moved on by itself because the run reached 'done' with every cell classified.
    const progress = await (await h.api('tech')).getAnalysisProgress(caseId);
    expect(progress).toMatchObject({ phase: 'done', failures: [] });
    expect(progress!.done).toBe(progress!.total);
    const truth = await (await h.api('tech')).getDifferential(caseId);
    const ndcShown = Number((await byTestId(page, 'ndc-total').innerText()).trim());
    expect(ndcShown).toBe(truth.differential.nucleatedDifferentialCount);
    const before = await shownCounts(page);
    const totalBefore = Object.values(before).reduce((a, b) => a + b, 0);
    expect(totalBefore).toBe((await (await h.api('tech')).getCase(caseId)).cellCount);
    await screenshot(page, '06-differential');

    // Review flagged cells from the keyboard, as the logged-in technician (no name to type: it is the session's).
    await byTestId(page, 'review-start').click();
    await byTestId(page, 'review-screen').waitFor();
    expect(await byTestId(page, 'review-reviewer').innerText()).toBe(TECHNICIAN);
    await byTestId(page, 'review-grid').waitFor();
    await byTestId(page, 'review-grid').focus();
    if (h.model.bundled) {
      // The tiles show why each cell is there, the open-set reason included; the first page is the API's first page.
      const firstPage = (await (await h.api('tech')).listCells({ caseId, scope: 'flagged', limit: 40 })).cells;
      const unlike = firstPage.filter((c) => c.flagReasons.some((r) => r.kind === 'open_set'));
      expect(unlike.length).toBeGreaterThan(0);
      for (const c of unlike) expect(await byTestId(page, `cell-flags-${c.imageId}`).innerText()).toContain(OPEN_SET_REASON);
    }

    const selectedTile = page.locator('[data-testid^="cell-tile-"][data-selected="true"]');
    const reclassified: { imageId: number; from: CellClassCode; to: CellClassCode }[] = [];
    for (let i = 0; i < 3; i++) {
      const imageId = Number((await selectedTile.getAttribute('data-testid'))!.replace('cell-tile-', ''));
      const from = (await byTestId(page, `cell-predicted-${imageId}`).innerText()).trim().slice(0, 3) as CellClassCode;
      // As a technician often does: the runner-up class shown on the tile is the right one.
      const to = await runnerUp(caseId, imageId);
      expect(to).not.toBe(from);
      await page.keyboard.press(CLASS_KEYS[to]);
      await expect.poll(() => byTestId(page, `cell-decision-${imageId}`).innerText()).toContain(to);
      reclassified.push({ imageId, from, to });
    }
    const confirmed: number[] = [];
    for (let i = 0; i < 2; i++) {
      const imageId = Number((await selectedTile.getAttribute('data-testid'))!.replace('cell-tile-', ''));
      await page.keyboard.press('Enter');
      await expect.poll(() => byTestId(page, `cell-decision-${imageId}`).innerText()).toContain('Confirmed');
      confirmed.push(imageId);
    }
    await screenshot(page, '08-review');

    // The stored decisions are the ones made on screen, by the named reviewer.
    const stored = (await (await h.api('tech')).listCells({ caseId, scope: 'all', limit: 1000 })).cells;
    for (const r of reclassified) expect(stored.find((c) => c.imageId === r.imageId)?.decision).toMatchObject({ label: r.to, reviewer: TECHNICIAN });
    for (const id of confirmed) {
      const cell = stored.find((c) => c.imageId === id)!;
      expect(cell.decision).toMatchObject({ label: cell.predicted, reviewer: TECHNICIAN });
    }

    // Back on the differential the counts moved by exactly the three reclassifications; confirmations change nothing.
    await byTestId(page, 'review-back-differential').click();
    await byTestId(page, 'differential-screen').waitFor();
    const expected = { ...before };
    for (const r of reclassified) {
      expected[r.from] = (expected[r.from] ?? 0) - 1;
      expected[r.to] = (expected[r.to] ?? 0) + 1;
    }
    await expect.poll(() => shownCounts(page)).toEqual(expected);
    const ndcAfter = (Object.keys(expected) as CellClassCode[])
      .filter((c) => CELL_CLASSES[c].inNucleatedDifferential)
      .reduce((sum, c) => sum + (expected[c] ?? 0), 0);
    const blastsAfter = (expected['BLA'] ?? 0) + (expected['FGC'] ?? 0);
    expect(Number((await byTestId(page, 'ndc-total').innerText()).trim())).toBe(ndcAfter);
    expect((await byTestId(page, 'blast-percentage').innerText()).trim()).toBe(`${((blastsAfter / ndcAfter) * 100).toFixed(1)}%`);
    await screenshot(page, '09-differential-after-review');

    // Technical validation: the technician submits with her password (refused first while flagged cells are
    // unreviewed, then with an override reason). Submitting does not release the result.
    await byTestId(page, 'case-tab-signoff').click();
    await byTestId(page, 'signoff-screen').waitFor();
    expect(await byTestId(page, 'signoff-signer').innerText()).toContain(`Submitting for authorisation as ${TECHNICIAN} (Technician)`);
    await byTestId(page, 'signoff-password').fill(PEOPLE.tech.password);
    const unreviewed = (await (await h.api('tech')).getCase(caseId)).flaggedUnreviewed;
    const signWithOverride = async (button: string, reason: string) => {
      await byTestId(page, button).click();
      if (unreviewed > 0) {
        await expect.poll(() => byTestId(page, 'signoff-refusal').innerText()).toContain(`${unreviewed} flagged cell`);
        await byTestId(page, 'signoff-override-reason').fill(reason);
        await byTestId(page, 'signoff-override-submit').click();
      }
    };
    await signWithOverride('signoff-submit', 'Remaining flagged cells reviewed at the microscope');
    await expect
      .poll(() => byTestId(page, 'signature-technical_validation').innerText())
      .toMatch(new RegExp(`^Technically validated by ${TECHNICIAN} \\(Technician\\), `));
    await expect.poll(() => byTestId(page, 'case-status-badge').innerText()).toMatch(/submitted/i);
    expect(await byTestId(page, 'signoff-signer').innerText()).toContain('Only a pathologist authorises');
    await screenshot(page, '10-submitted');

    // Medical authorisation: the pathologist logs in at the same screen, writes her comment, signs with her password.
    await loginAs(page, h, 'path', `/#/case/${caseId}/signoff`);
    await byTestId(page, 'signoff-screen').waitFor();
    await expect.poll(() => byTestId(page, 'signoff-signer').innerText()).toContain(`Authorising as ${SIGNER} (Pathologist)`);
    await byTestId(page, 'signoff-comment').fill('Reactive marrow; no excess of blasts.');
    await byTestId(page, 'signoff-password').fill('not-her-password');
    await byTestId(page, 'signoff-authorise').click();
    if (unreviewed > 0) {
      await expect.poll(() => byTestId(page, 'signoff-refusal').innerText()).toContain(`${unreviewed} flagged cell`);
      await byTestId(page, 'signoff-override-reason').fill('Flagged cells seen at the microscope');
      await byTestId(page, 'signoff-override-submit').click();
    }
    // A wrong password is refused (and recorded); the right one signs.
    await expect.poll(() => byTestId(page, 'signoff-error').innerText()).toContain('Wrong password: the medical authorisation');
    await screenshot(page, '11-authorise-wrong-password');
    await byTestId(page, 'signoff-password').fill(PEOPLE.path.password);
    await byTestId(page, unreviewed > 0 ? 'signoff-override-submit' : 'signoff-authorise').click();
    await expect
      .poll(() => byTestId(page, 'signature-medical_authorisation').innerText())
      .toMatch(new RegExp(`^Medically authorised by ${SIGNER} \\(Pathologist\\), `));
    await expect.poll(() => byTestId(page, 'case-status-badge').innerText()).toBe(CASE_STATUS_LABELS.signed); // 'Released' since migration 0007
    expect(await byTestId(page, 'signoff-comment-shown').innerText()).toContain('Reactive marrow; no excess of blasts.');
    await screenshot(page, '11-signed');

    // The PDF: saved by the service, read back as text.
    await byTestId(page, 'report-save-pdf').click();
    const savedPath = (await byTestId(page, 'report-saved-path').innerText()).trim();
    expect(existsSync(savedPath)).toBe(true);
    await screenshot(page, '12-report-saved');
    const text = execFileSync('pdftotext', ['-layout', savedPath, '-'], { encoding: 'utf8' });
    // Page 1 carries both signatures with their meanings, and the interpretive comment.
    const page1 = execFileSync('pdftotext', ['-f', '1', '-l', '1', savedPath, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(page1).toContain(`Technically validated by ${TECHNICIAN}, Technician`);
    expect(page1).toContain(`Medically authorised by ${SIGNER}, Pathologist`);
    expect(page1).toContain('Reactive marrow; no excess of blasts.');
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', savedPath, join(SCREENSHOTS, '12-report-page1')]);
    expect(text).toContain(ACCESSION);
    expect(text).toContain(PATIENT_ID);
    expect(text).toContain(SIGNER);
    expect(text).not.toMatch(/DRAFT/);
    // The bundled model learnt from a public subset: its reports must say they are not for diagnosis.
    if (h.model.bundled) expect(text).toMatch(/not for diagnostic use/i);
    expect(text).toContain(`${((blastsAfter / ndcAfter) * 100).toFixed(1)}%`);

    // The case list shows the signed case; About shows the model and the data attributions.
    await byTestId(page, 'nav-cases').click();
    await byTestId(page, `case-row-${caseId}`).waitFor();
    await expect.poll(() => byTestId(page, `case-status-${caseId}`).innerText()).toBe(CASE_STATUS_LABELS.signed);
    await expect.poll(() => byTestId(page, `case-reviewer-${caseId}`).innerText()).toBe(SIGNER);
    await screenshot(page, '13-cases-signed');
    await byTestId(page, 'nav-about').click();
    await byTestId(page, 'about-dialog').waitFor();
    await expect.poll(() => byTestId(page, 'about-attributions').innerText()).toContain('Matek');
    await screenshot(page, '14-about');
    await byTestId(page, 'about-close').click();
    await byTestId(page, 'about-dialog').waitFor({ state: 'detached' });

    // Amended, the case is back in review: the list no longer names a signer for what it now shows.
    await (await h.api('path')).amendCase({ caseId, reason: 'Late cytogenetics: recount blasts' });
    await page.reload();
    await byTestId(page, `case-row-${caseId}`).waitFor();
    await expect.poll(() => byTestId(page, `case-status-${caseId}`).innerText()).toMatch(/review/i);
    expect((await byTestId(page, `case-reviewer-${caseId}`).innerText()).trim()).toBe('');

    expect(pageErrors.map((e) => e.message)).toEqual([]);
    // The tests below review as the technician.
    await loginAs(page, h, 'tech');
  });

  it('keeps a reclassification when the reviewer goes back to the cell and presses Enter', async () => {
    const created = await analysedCase('B');

    await openReviewOfAll(created);
    await byTestId(page, 'review-grid').focus();
    const selectedTile = page.locator('[data-testid^="cell-tile-"][data-selected="true"]');
    const imageId = Number((await selectedTile.getAttribute('data-testid'))!.replace('cell-tile-', ''));
    const to = await runnerUp(created.id, imageId);
    const saved = () => page.waitForResponse((response) => response.url().endsWith('/api/reviewCell'));

    let response = saved();
    await page.keyboard.press(CLASS_KEYS[to]);
    await response;
    await expect.poll(() => byTestId(page, `cell-decision-${imageId}`).innerText()).toContain(to);

    // Back on the reclassified cell, Enter confirms what the tile shows: the reviewer's class, not the model's.
    await page.keyboard.press('Home');
    await expect.poll(() => selectedTile.getAttribute('data-testid')).toBe(`cell-tile-${imageId}`);
    response = saved();
    await page.keyboard.press('Enter');
    await response;
    const stored = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells.find((c) => c.imageId === imageId);
    expect(stored?.decision).toMatchObject({ label: to, reviewer: TECHNICIAN });
    await expect.poll(() => byTestId(page, `cell-decision-${imageId}`).innerText()).toContain(to);
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('saves a second decision made on a cell while its first is still being saved', async () => {
    const created = await analysedCase('C');

    // The first save is held back until the second decision has been made, as on a slow or busy database.
    const firstSave = h.hold('reviewCell', 1);
    const saves = countRequests(page, '/api/reviewCell');
    try {
      await openReviewOfAll(created);
      await byTestId(page, 'review-grid').focus();
      const selectedTile = page.locator('[data-testid^="cell-tile-"][data-selected="true"]');
      const imageId = Number((await selectedTile.getAttribute('data-testid'))!.replace('cell-tile-', ''));
      const predicted = (await byTestId(page, `cell-predicted-${imageId}`).innerText()).trim().slice(0, 3) as CellClassCode;
      const first = await runnerUp(created.id, imageId);
      const second = (['LYT', 'MON', 'EOS'] as const).find((code) => code !== predicted && code !== first)!;

      await page.keyboard.press(CLASS_KEYS[first]);
      await expect.poll(() => byTestId(page, `cell-tile-${imageId}`).getAttribute('class')).toContain('tile-saving');
      await page.keyboard.press('Home');
      await expect.poll(() => selectedTile.getAttribute('data-testid')).toBe(`cell-tile-${imageId}`);
      await page.keyboard.press(CLASS_KEYS[second]);
      firstSave.release();

      await expect
        .poll(
          async () =>
            (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells.find((c) => c.imageId === imageId)?.decision
              ?.label,
          {
            timeout: 10_000,
          },
        )
        .toBe(second);
      await expect.poll(() => byTestId(page, `cell-decision-${imageId}`).innerText()).toContain(second);
      await expect.poll(() => byTestId(page, `cell-tile-${imageId}`).getAttribute('class')).not.toContain('tile-saving');
      expect(saves.count()).toBe(2);
      expect(firstSave.reached()).toBe(1);
    } finally {
      firstSave.release();
      saves.stop();
    }
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('refuses a decision key pressed while the next page is loading, instead of applying it to the page still on screen', async () => {
    const created = await analysedCase('E');
    const decided = async (): Promise<number[]> =>
      (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells.filter((c) => c.decision !== null).map((c) => c.imageId);

    await openReviewOfAll(created);
    await byTestId(page, 'review-grid').focus();
    await expect.poll(() => byTestId(page, 'review-page-info').innerText()).toMatch(/^Cells 1–/);
    const firstPage = await page.locator('[data-testid^="cell-tile-"]').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-testid')));

    // The next page is held back, as on a slow disk: PageDown, then a class key at once.
    await expectClassKeyRefusedWhileHeld('listCells', 'PageDown', 'still loading');
    await expect.poll(() => byTestId(page, 'review-page-info').innerText()).not.toMatch(/^Cells 1–/);
    expect(await decided()).toEqual([]);

    // On the new page the same key applies to its selected cell.
    const selectedTile = page.locator('[data-testid^="cell-tile-"][data-selected="true"]');
    const selected = (await selectedTile.getAttribute('data-testid'))!;
    expect(firstPage).not.toContain(selected);
    const saved = page.waitForResponse((response) => response.url().endsWith('/api/reviewCell'));
    await page.keyboard.press(CLASS_KEYS.BLA);
    await saved;
    expect(await decided()).toEqual([Number(selected.replace('cell-tile-', ''))]);
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('refuses a class key pressed while an undo is being saved, so it cannot land on the cell after the one undone', async () => {
    const created = await analysedCase('F');
    const decisions = async (): Promise<Record<string, string>> =>
      Object.fromEntries(
        (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells
          .filter((c) => c.decision !== null)
          .map((c) => [String(c.imageId), c.decision!.label]),
      );

    await openReviewOfAll(created);
    await byTestId(page, 'review-grid').focus();
    const selectedTile = page.locator('[data-testid^="cell-tile-"][data-selected="true"]');
    const first = (await selectedTile.getAttribute('data-testid'))!.replace('cell-tile-', '');
    let saved = page.waitForResponse((response) => response.url().endsWith('/api/reviewCell'));
    await page.keyboard.press(CLASS_KEYS.LYT);
    await saved;
    await expect.poll(() => selectedTile.getAttribute('data-testid')).not.toBe(`cell-tile-${first}`);

    // The undo's save is held back; B pressed meanwhile must not reach the cell now selected (the one after).
    await expectClassKeyRefusedWhileHeld('undoReview', 'Control+z', 'undo is still being saved');
    await expect.poll(() => selectedTile.getAttribute('data-testid')).toBe(`cell-tile-${first}`);
    expect(await decisions()).toEqual({});
    saved = page.waitForResponse((response) => response.url().endsWith('/api/reviewCell'));
    await page.keyboard.press(CLASS_KEYS.BLA);
    await saved;
    expect(await decisions()).toEqual({ [first]: 'BLA' });
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('signs a case only after the decisions still being saved from the review screen are in it', async () => {
    // The technician reviews a cell and at once signs the technical validation (submits).
    const created = await analysedCase('H');
    // Every flagged cell confirmed beforehand, so the sign-off needs no override reason.
    const flagged = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'flagged', limit: 1000 })).cells.map((c) => c.imageId);
    if (flagged.length > 0) await (await h.api('tech')).confirmCells({ caseId: created.id, imageIds: flagged });

    await openReviewOfAll(created);
    await byTestId(page, 'review-grid').focus();
    const selected = (await page.locator('[data-testid^="cell-tile-"][data-selected="true"]').getAttribute('data-testid'))!;
    const imageId = Number(selected.replace('cell-tile-', ''));
    const before = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells.find((c) => c.imageId === imageId)!;
    const to: CellClassCode = before.effectiveLabel === 'BLA' ? 'LYT' : 'BLA';

    // The reclassification is still on its way (held back) when the reviewer goes to sign the case.
    const review = holdBack(h, page, 'reviewCell');
    await pressDecisionKey(CLASS_KEYS[to]);
    await byTestId(page, 'case-tab-signoff').click();
    await byTestId(page, 'signoff-screen').waitFor();
    await byTestId(page, 'signoff-password').fill(PEOPLE.tech.password);
    const signing = page.waitForResponse((response) => response.url().endsWith('/api/submitCase'));
    const signRequests = countRequests(page, '/api/submitCase');
    await byTestId(page, 'signoff-submit').click();
    await page.waitForTimeout(500);
    expect(review.holding(), 'the decision was not held back').toBe(true);
    expect((await (await h.api('tech')).getCase(created.id)).status, 'signed before the decision was saved').toBe('in_review');
    await review.settle();
    await signing.catch(async (error: unknown) => {
      throw new Error(`No sign-off answered: ${signRequests.count()} sign-off requests sent; ${await signOffScreenState()}`, { cause: error });
    });
    signRequests.stop();

    await expect.poll(() => byTestId(page, 'signature-technical_validation').innerText()).toContain(TECHNICIAN);
    const after = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells.find((c) => c.imageId === imageId)!;
    expect(after.decision?.label).toBe(to);
    const signed = await (await h.api('tech')).getCase(created.id);
    expect(signed.status).toBe('submitted');
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('writes a draft report only after the decisions still being saved are in the case', async () => {
    const created = await analysedCase('I');
    await openReviewOfAll(created);
    await byTestId(page, 'review-grid').focus();
    const review = holdBack(h, page, 'reviewCell');
    const reports = countRequests(page, '/api/saveReport');
    try {
      await pressDecisionKey(CLASS_KEYS.BLA);
      await byTestId(page, 'case-tab-signoff').click();
      await byTestId(page, 'report-save-pdf').click();
      await page.waitForTimeout(500);
      expect(review.holding(), 'the decision was not held back').toBe(true);
      expect(reports.count(), 'report requested while a decision was still on its way').toBe(0);
      const written = page.waitForResponse((response) => response.url().endsWith('/api/saveReport'));
      await review.settle();
      await written;
      expect(reports.count()).toBe(1);
    } finally {
      reports.stop();
    }
    await expect.poll(() => byTestId(page, 'report-saved-path').innerText()).toContain('.pdf');
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('shows a cell whose image file has gone or changed as not available and takes no decision on it', async () => {
    const folder = join(h.root, 'moved-files-case');
    cpSync(h.caseFolder, folder, { recursive: true });
    const created = await analysedCase('G', folder);
    const cells = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells;
    // The first cell shown loses its file after the analysis, as when part of a case folder is archived.
    const gone = cells[0]!;
    rmSync(join(folder, gone.file));
    // Another cell's file is overwritten with a third cell's image: showing it would put the wrong cell under review.
    const changed = cells[1]!;
    copyFileSync(join(folder, cells[2]!.file), join(folder, changed.file));

    await openReviewOfAll(created, `cell-image-missing-${gone.imageId}`);
    await byTestId(page, `cell-image-missing-${changed.imageId}`).waitFor();
    await expect.poll(() => byTestId(page, `cell-image-${cells[2]!.imageId}`).count()).toBe(1);
    await byTestId(page, 'review-grid').focus();
    await expect.poll(() => page.locator('[data-testid^="cell-tile-"][data-selected="true"]').getAttribute('data-testid')).toBe(`cell-tile-${gone.imageId}`);
    await screenshot(page, '17-review-image-missing');
    await page.keyboard.press(CLASS_KEYS.BLA);
    await expect.poll(() => byTestId(page, 'notice').innerText()).toContain(`${gone.file} cannot be shown`);
    await page.keyboard.press('Enter');
    // Confirm all shown leaves it undecided too, and says so.
    const confirmed = page.waitForResponse((response) => response.url().endsWith('/api/confirmCells'));
    await byTestId(page, 'review-confirm-all').click();
    await confirmed;
    await expect.poll(() => byTestId(page, 'notice').innerText()).toContain('2 without an image were left undecided');
    const after = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells;
    expect(after.find((c) => c.imageId === gone.imageId)!.decision).toBeNull();
    expect(after.find((c) => c.imageId === changed.imageId)!.decision).toBeNull();
    expect(after.filter((c) => c.decision !== null).length).toBeGreaterThan(0);
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('retries, on the next Undo, the decisions an undo could not withdraw', async () => {
    const created = await analysedCase('D');
    const decided = async (): Promise<number> =>
      (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'all', limit: 1000 })).cells.filter((c) => c.decision !== null).length;

    await openReviewOfAll(created);
    const confirmed = page.waitForResponse((response) => response.url().endsWith('/api/confirmCells'));
    await byTestId(page, 'review-confirm-all').click();
    await confirmed;
    const shown = await decided();
    expect(shown).toBeGreaterThan(3);

    // The third withdrawal fails, as when the disk fails mid-undo.
    h.failCall('undoReview', 3);
    await byTestId(page, 'review-undo').click();
    await expect.poll(() => byTestId(page, 'error-banner-message').innerText()).toContain(`${shown - 2} of ${shown} decisions were NOT withdrawn`);
    expect(await decided()).toBe(shown - 2);
    await byTestId(page, 'error-banner-dismiss').click();
    await byTestId(page, 'review-undo').click();
    await expect.poll(decided, { timeout: 10_000 }).toBe(0);
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('keeps settings and shows a readable message, not a blank screen, for a case that does not exist', async () => {
    // Lab settings are the administrator's.
    await loginAs(page, h, 'admin', '/#/cases');
    await page.goto(`${h.host.url}/#/cases`);
    await byTestId(page, 'cases-screen').waitFor();
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'settings-dialog').waitFor();
    await byTestId(page, 'settings-lab-name').fill('Haematology, City Hospital');
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'settings-dialog').waitFor({ state: 'detached' });
    expect((await (await h.api('admin')).getSettings()).labName).toBe('Haematology, City Hospital');
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'settings-dialog').waitFor();
    await screenshot(page, '15-settings');
    await byTestId(page, 'settings-cancel').click();

    await page.goto(`${h.host.url}/#/case/987654/differential`);
    const banner = byTestId(page, 'error-banner');
    await banner.waitFor();
    expect(await banner.innerText()).toMatch(/987654/);
    expect((await page.locator('#root').innerText()).trim().length).toBeGreaterThan(0);
    await screenshot(page, '16-missing-case-error');
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });
});
