// Results to the LIS as a technician sees them, in Chromium against the real service: the LIS settings in the
// Settings dialog (a bad code-mapping line is refused naming the line), then a case signed in the browser goes to a
// loopback MLLP LIS that refuses it first; the case view shows the LIS's reason, and Resend sends it again until
// the LIS acknowledges it. Screenshots go to test-results/screenshots/.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIS_SETTINGS } from '../../src/shared/lis';
import { startMllpTestServer, type MllpTestServer } from '../helpers/mllp-test-server';
import { loginAs, PEOPLE, screenshot, startHarness, type Harness } from './harness';

const byTestId = (page: Page, id: string) => page.getByTestId(id);

describe('results to the LIS in Chromium', () => {
  let h: Harness;
  let page: Page;
  let pageErrors: Error[];
  let lis: MllpTestServer;

  beforeAll(async () => {
    h = await startHarness('lis');
    lis = await startMllpTestServer();
    ({ page, pageErrors } = await h.newPage());
  });
  afterAll(async () => {
    await lis?.close();
    await h?.close();
  });

  it('edits the LIS settings and refuses a code-mapping line it cannot read, naming the line', async () => {
    // LIS settings are the administrator's.
    await loginAs(page, h, 'admin');
    await byTestId(page, 'nav-settings').click();
    await byTestId(page, 'lis-settings').waitFor();
    await byTestId(page, 'lis-settings-codes').click();
    await expect.poll(() => byTestId(page, 'lis-settings-codes').innerText()).toContain('47286-0');
    await byTestId(page, 'lis-settings-codeMapping').fill('BLA = 12345-6 | LN\nLYT = LYM');
    await byTestId(page, 'settings-save').click();
    await expect.poll(() => byTestId(page, 'settings-error').innerText()).toContain('Line 2');
    // The refusal puts the focus on the field it names, and the dialog keeps every edit.
    await expect.poll(() => page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid') ?? null")).toBe('lis-settings-codeMapping');
    await screenshot(page, 'lis-01-settings-mapping-refused');

    await byTestId(page, 'lis-settings-codeMapping').fill('BLA = LAB-BLA | 99LAB | urn:oid:1.2.3.9');
    await byTestId(page, 'lis-settings-enabled').check();
    await byTestId(page, 'lis-settings-patientIdAuthority').fill('HOSP');
    await byTestId(page, 'lis-settings-patientIdSystem').fill('urn:oid:1.2.3.4');
    await byTestId(page, 'lis-settings-outboxFolder').fill(join(h.root, 'outbox'));
    await byTestId(page, 'lis-settings-mllpHost').fill('127.0.0.1');
    await byTestId(page, 'lis-settings-mllpPort').fill(String(lis.port));
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'settings-dialog').waitFor({ state: 'detached' });
    await expect.poll(async () => (await (await h.api('admin')).getLisSettings()).enabled).toBe(true);
    expect(await (await h.api('admin')).getLisSettings()).toMatchObject({
      ...DEFAULT_LIS_SETTINGS,
      enabled: true,
      patientIdAuthority: 'HOSP',
      patientIdSystem: 'urn:oid:1.2.3.4',
      outboxFolder: join(h.root, 'outbox'),
      mllpHost: '127.0.0.1',
      mllpPort: lis.port,
      codeMapping: [{ component: 'BLA', code: 'LAB-BLA', hl7System: '99LAB', fhirSystem: 'urn:oid:1.2.3.9' }],
    });
  });

  it('shows the LIS’s refusal with its reason and sends the result again on Resend until it is acknowledged', async () => {
    lis.behave((_id, receipt) => (receipt === 1 ? { kind: 'nak', code: 'AE', reason: 'Unknown patient MRN-LIS-1' } : { kind: 'ack' }));
    const created = await (
      await h.api('tech')
    ).createCase({ patient: { labId: 'MRN-LIS-1' }, accession: 'BM-LIS-1', specimen: 'bone_marrow_aspirate', folder: h.caseFolder });
    await (await h.api('tech')).startAnalysis(created.id);
    await expect.poll(async () => (await (await h.api('tech')).getAnalysisProgress(created.id))?.phase, { timeout: 120_000 }).toBe('done');
    const flagged = (await (await h.api('tech')).listCells({ caseId: created.id, scope: 'flagged', limit: 1000 })).cells.map((c) => c.imageId);
    if (flagged.length > 0) await (await h.api('tech')).confirmCells({ caseId: created.id, imageIds: flagged });

    // The technician has submitted it; the pathologist authorises (releases) it, and may resend it.
    await (await h.api('tech')).submitCase({ caseId: created.id, password: PEOPLE.tech.password });
    await loginAs(page, h, 'path', `/#/case/${created.id}/signoff`);
    await byTestId(page, 'lis-panel').waitFor();
    await expect.poll(() => byTestId(page, 'lis-none').innerText()).toContain('Nothing sent');
    await byTestId(page, 'signoff-password').fill(PEOPLE.path.password);
    await byTestId(page, 'signoff-authorise').click();
    // Releasing builds the LIS messages (with the PDF) in the same process: give it the time the MLLP waits get.
    await expect.poll(() => byTestId(page, 'signature-medical_authorisation').innerText(), { timeout: 30_000 }).toContain('Dr Sam Haematologist');

    const mllpRows = page.locator('[data-testid^="lis-delivery-"][data-testid$="-mllp"]');
    await expect.poll(() => mllpRows.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => mllpRows.first().getByTestId('lis-delivery-status').innerText(), { timeout: 30_000 }).toBe('Error');
    expect(await mllpRows.first().getByTestId('lis-delivery-detail').innerText()).toContain('Unknown patient MRN-LIS-1');
    await screenshot(page, 'lis-02-refused-by-lis');

    await byTestId(page, 'lis-resend').click();
    await expect.poll(() => mllpRows.count(), { timeout: 30_000 }).toBe(2);
    // Newest first: the resent message, acknowledged; the refused one stays on record below it.
    await expect.poll(() => mllpRows.first().getByTestId('lis-delivery-status').innerText(), { timeout: 30_000 }).toBe('Acknowledged');
    expect(await mllpRows.nth(1).getByTestId('lis-delivery-status').innerText()).toBe('Error');
    expect(lis.distinct()).toHaveLength(2);
    // The message names the authoriser (OBR-32) and both signers (OBX-16).
    const message = [...lis.messages.values()][0]!;
    const segments = message.split('\r').map((line) => line.split('|'));
    expect(segments.find((f) => f[0] === 'OBR')![32]).toBe(`&${PEOPLE.path.displayName}`);
    expect(segments.find((f) => f[0] === 'OBX')![16]).toBe(`^${PEOPLE.tech.displayName}~^${PEOPLE.path.displayName}`);
    await screenshot(page, 'lis-03-acknowledged-after-resend');
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });
});
