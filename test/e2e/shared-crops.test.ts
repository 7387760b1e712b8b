// Issue 21 in the browser: a technician types a folder whose crops are already another patient's case. The form
// warns, naming that case and patient and how many files; the reason field has the focus; "Create anyway" without
// a reason is refused beside the field; with one the case is made, and every tab of the case shows the recorded
// confirmation (who, when, why). Keyboard only, from the warning on.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarrowApi } from '../../src/shared/api';
import { loginAs, PEOPLE, screenshot, startHarness, type Harness } from './harness';

const byTestId = (page: Page, id: string) => page.getByTestId(id);
const FILES = 20;
/** The data-testid of the focused element (a string expression: the test files have no DOM types). */
const FOCUSED = "document.activeElement?.getAttribute('data-testid')";

describe('the same crops for another patient, on the new-case form', () => {
  let h: Harness;
  let tech: MarrowApi;
  let folderA: string;

  /** FILES of the demo crops, byte for byte, in a folder of their own. */
  const cropsFolder = (name: string): string => {
    const folder = join(h.root, 'cases', name);
    mkdirSync(folder, { recursive: true });
    for (const file of readdirSync(h.caseFolder)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort()
      .slice(0, FILES)) {
      cpSync(join(h.caseFolder, file), join(folder, file));
    }
    return folder;
  };

  beforeAll(async () => {
    h = await startHarness('shared-crops');
    tech = await h.api('tech');
    folderA = cropsFolder('BM-SC-A');
    const created = await tech.createCase({
      patient: { labId: 'MRN-SC-A', name: 'Alpha, Ann' },
      accession: 'BM-SC-A',
      specimen: 'bone_marrow_aspirate',
      folder: folderA,
    });
    await tech.startAnalysis(created.id);
    for (;;) {
      const progress = await tech.getAnalysisProgress(created.id);
      if (progress !== null && progress.phase !== 'importing' && progress.phase !== 'classifying') {
        if (progress.phase !== 'done') throw new Error(`the analysis of BM-SC-A ended ${progress.phase}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 180_000);
  afterAll(async () => h?.close());

  it('warns naming the case and patient, asks for a reason, and records who confirmed it and why', async () => {
    const { page, pageErrors } = await h.newPage();
    await loginAs(page, h, 'tech', '/#/cases/new');
    await page.goto(`${h.host.url}/#/cases/new`);
    await byTestId(page, 'new-case-screen').waitFor();
    const folderB = cropsFolder('BM-SC-B');
    await byTestId(page, 'new-case-patient-id').fill('MRN-SC-B');
    await byTestId(page, 'new-case-patient-name').fill('Beta, Bob');
    await byTestId(page, 'new-case-accession').fill('BM-SC-B');
    await byTestId(page, 'new-case-folder').fill(folderB);
    await byTestId(page, 'new-case-submit').click();

    await byTestId(page, 'shared-crops-warning').waitFor();
    expect(await byTestId(page, 'shared-crops-message').innerText()).toContain(
      `The crops in ${folderB} are already filed under another patient: case BM-SC-A of patient MRN-SC-A (Alpha, Ann) holds ${FILES} of the folder's ${FILES} files.`,
    );
    // Nothing was made while the warning stands, and the plain submit waits for the answer.
    expect(await tech.listCases({ search: 'BM-SC-B' })).toEqual([]);
    expect(await byTestId(page, 'new-case-submit').isDisabled()).toBe(true);
    // Keyboard: the reason has the focus; Tab reaches "Create anyway"; Enter without a reason is refused beside it.
    await expect.poll(() => page.evaluate(FOCUSED)).toBe('shared-crops-reason');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(FOCUSED)).toBe('shared-crops-confirm');
    await page.keyboard.press('Enter');
    await byTestId(page, 'shared-crops-reason-error').waitFor();
    await screenshot(page, 'shared-crops-01-warning');
    await byTestId(page, 'shared-crops-reason').focus();
    await page.keyboard.type('Same slide scanned for the paired twin study');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');

    // The case is made (and analysed); every tab shows the recorded confirmation.
    await expect.poll(() => byTestId(page, 'case-header-accession').innerText(), { timeout: 60_000 }).toBe('Case BM-SC-B');
    const notice = await byTestId(page, 'shared-crops-record').innerText();
    expect(notice).toContain(`${FILES} files shared with case BM-SC-A of patient MRN-SC-A (Alpha, Ann).`);
    expect(notice).toContain(`Confirmed by ${PEOPLE.tech.displayName} on `);
    expect(notice).toContain('“Same slide scanned for the paired twin study”');
    await screenshot(page, 'shared-crops-02-case-notice');
    const [created] = await tech.listCases({ search: 'BM-SC-B' });
    expect((await tech.getCase(created!.id)).sharedCrops).toMatchObject([
      {
        otherAccession: 'BM-SC-A',
        otherPatientLabId: 'MRN-SC-A',
        sharedFiles: FILES,
        reason: 'Same slide scanned for the paired twin study',
        confirmedBy: PEOPLE.tech.displayName,
      },
    ]);
    expect(pageErrors.map((e) => e.message)).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('goes back to the folder when the technician chooses to check it, and a new folder asks again', async () => {
    const { page, pageErrors } = await h.newPage();
    await loginAs(page, h, 'tech');
    await page.goto(`${h.host.url}/#/cases/new`);
    await byTestId(page, 'new-case-patient-id').fill('MRN-SC-C');
    await byTestId(page, 'new-case-accession').fill('BM-SC-C');
    await byTestId(page, 'new-case-folder').fill(cropsFolder('BM-SC-C'));
    await byTestId(page, 'new-case-submit').click();
    await byTestId(page, 'shared-crops-warning').waitFor();
    await byTestId(page, 'shared-crops-cancel').click();
    expect(await byTestId(page, 'shared-crops-warning').count()).toBe(0);
    expect(await byTestId(page, 'new-case-error-folder').innerText()).toContain('Check the folder');
    // The right folder (the same images as another slide would give: other bytes) is accepted without a warning.
    await byTestId(page, 'new-case-folder').fill(h.freshCaseFolder('BM-SC-C-right'));
    await byTestId(page, 'new-case-submit').click();
    await expect.poll(() => byTestId(page, 'case-header-accession').innerText(), { timeout: 60_000 }).toBe('Case BM-SC-C');
    expect(await byTestId(page, 'shared-crops-notice').count()).toBe(0);
    expect(pageErrors.map((e) => e.message)).toEqual([]);
    await page.context().close();
  }, 180_000);
});
