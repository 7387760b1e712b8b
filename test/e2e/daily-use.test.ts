// What a technician trips over in the first week (issue 24), driven in the built renderer in Chromium against the
// real service, database and model: one Save for the whole Settings dialog, the review's focus, undo and live bar,
// the enlarged cell, finding a cell, the lab's own key map, and the words on the screens. Screenshots go to
// test-results/screenshots/daily-*.png.
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIS_SETTINGS } from '../../src/shared/lis';
import { screenshot, startHarness, type Harness } from './harness';

const TECHNICIAN = 'Alex Technician';
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

  it('saves the general and the LIS sections of Settings with one Save, and names and focuses a missing required field', async () => {
    await page.goto(`${h.host.url}/#/cases`);
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'lis-settings').waitFor();
    expect(await page.getByRole('button', { name: /save/i }).count()).toBe(1);
    await byTestId(page, 'settings-lab-name').fill('Haematology, City Hospital');
    await byTestId(page, 'settings-reviewer-name').fill(TECHNICIAN);
    await byTestId(page, 'lis-settings-sendingFacility').fill('HAEM LAB');
    await byTestId(page, 'lis-settings-enabled').check();
    await byTestId(page, 'settings-save').click();
    // Delivery on without the patient identifier namespace: refused before anything is written, focus on the field.
    await expect.poll(() => byTestId(page, 'settings-error').innerText()).toContain('patient identifier namespace');
    await expect.poll(() => focusedTestId(page)).toBe('lis-settings-patientIdAuthority');
    expect((await h.service.getSettings()).labName).toBe('');
    await screenshot(page, 'daily-01-settings-required-field');
    await page.keyboard.type('HOSP');
    await byTestId(page, 'lis-settings-patientIdSystem').fill('urn:oid:1.2.3.4');
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'settings-dialog').waitFor({ state: 'detached' });
    expect(await h.service.getSettings()).toEqual({ labName: 'Haematology, City Hospital', reviewerName: TECHNICIAN, reviewerRole: '' });
    expect(await h.service.getLisSettings()).toMatchObject({
      ...DEFAULT_LIS_SETTINGS,
      enabled: true,
      sendingFacility: 'HAEM LAB',
      patientIdAuthority: 'HOSP',
      patientIdSystem: 'urn:oid:1.2.3.4',
    });
    await h.service.saveLisSettings({ ...DEFAULT_LIS_SETTINGS, codeMapping: [] });
  });
});
