// Two stations on one lab server, in Chromium over HTTPS: a technician and a pathologist, each in a browser
// context of their own (their own cookie, as two PCs). The technician's decisions appear on the pathologist's
// screen without a reload; the technician submits, the pathologist authorises, and the technician's screen shows
// the case released, all through the live updates.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_KEYS } from '../../src/renderer/src/review/keymap';
import { startLabServer, type LabServer, type LabServerOptions } from '../../src/main/server/lab-server';
import { makeSelfSignedCertificate } from '../../src/main/server/tls';
import type { CellView } from '../../src/shared/api';
import type { CellClassCode } from '../../src/shared/cell-classes';
import { CHROMIUM, modelForTests, RENDERER_DIR, REPO, screenshot } from './harness';
import { copyCropsDistinctly } from '../helpers/distinct-crops';

const PEOPLE = {
  admin: { login: 'admin', displayName: 'Ada Administrator', password: 'admin-e2e-password' },
  tech: { login: 'alex', displayName: 'Alex Technician', password: 'alex-e2e-password' },
  path: { login: 'sam', displayName: 'Dr Sam Haematologist', password: 'sam-e2e-password' },
} as const;

describe('two stations on one lab server (Chromium, HTTPS)', () => {
  let root: string;
  let server: LabServer;
  let serverOptions: LabServerOptions;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let caseId: number;
  let cells: CellView[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'marrowcount-e2e-server-'));
    const casesRoot = join(root, 'cases');
    mkdirSync(casesRoot);
    // Its own copy of the fixture crops (same pixels, other bytes): the station later uploads the fixture crops
    // themselves for another patient, which issue 21 would refuse as the same crops.
    copyCropsDistinctly(join(REPO, 'test', 'fixtures', 'crops', 'good'), join(casesRoot, 'case-1'), 'case-1');
    const { tls } = await makeSelfSignedCertificate(join(root, 'tls'), ['localhost']);
    serverOptions = {
      host: '127.0.0.1',
      port: 0,
      tls,
      databaseLocation: join(root, 'data', 'marrowcount.sqlite'),
      dataDir: join(root, 'data'),
      casesRoot,
      modelDir: modelForTests().dir,
      rendererDir: RENDERER_DIR,
      appVersion: 'e2e',
      serviceExtras: { analysis: { batchSize: 8, intraOpThreads: 1 } },
    };
    server = await startLabServer(serverOptions);
    const admin = server.service.forSession({ transport: 'cli', token: null });
    await admin.createFirstAdmin(PEOPLE.admin);
    await admin.createUser({ ...PEOPLE.tech, roles: ['technician'] });
    await admin.createUser({ ...PEOPLE.path, roles: ['pathologist'] });
    const tech = server.service.forSession({ transport: 'cli', token: null });
    await tech.login(PEOPLE.tech);
    const created = await tech.createCase({
      patient: { labId: 'MRN-SRV-1' },
      accession: 'SRV-1',
      specimen: 'bone_marrow_aspirate',
      folder: join(casesRoot, 'case-1'),
    });
    await tech.startAnalysis(created.id);
    for (;;) {
      const p = await tech.getAnalysisProgress(created.id);
      if (p !== null && p.phase !== 'importing' && p.phase !== 'classifying') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    caseId = created.id;
    cells = (await tech.listCells({ caseId, scope: 'all', limit: 100 })).cells;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function station(person: 'tech' | 'path', path: string): Promise<Page> {
    // The trial certificate is self-signed: this browser is told to accept it, as a person accepts it once after
    // comparing the fingerprint the server printed.
    const context = await browser.newContext({ viewport: { width: 1300, height: 850 }, ignoreHTTPSErrors: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log(`[${person}] page error ${e.message}`));
    await page.goto(`${server.url}/`);
    await page.getByTestId('login-name').fill(PEOPLE[person].login);
    await page.getByTestId('login-password').fill(PEOPLE[person].password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('app').waitFor();
    await page.goto(`${server.url}${path}`);
    return page;
  }

  async function sign(page: Page, button: 'signoff-submit' | 'signoff-authorise', password: string): Promise<void> {
    await page.getByTestId('case-tab-signoff').click();
    await page.getByTestId('signoff-password').fill(password);
    await page.getByTestId(button).click();
    const refusal = page.getByTestId('signoff-refusal');
    const signature = page.getByTestId(`signature-${button === 'signoff-submit' ? 'technical_validation' : 'medical_authorisation'}`);
    await refusal.or(signature).first().waitFor();
    if (await refusal.isVisible()) {
      await page.getByTestId('signoff-override-reason').fill('Remaining flagged cells checked at the microscope');
      if (await page.getByTestId('signoff-password').isVisible()) await page.getByTestId('signoff-password').fill(password);
      await page.getByTestId('signoff-override-submit').click();
    }
    await signature.waitFor();
  }

  it("shows the technician's decisions on the pathologist's screen without a reload, and the release on the technician's", async () => {
    const tech = await station('tech', `/#/case/${caseId}/review?scope=all`);
    const pathologist = await station('path', `/#/case/${caseId}/review?scope=all`);
    for (const page of [tech, pathologist]) await page.getByTestId('review-grid').waitFor();
    expect(await tech.getByTestId('topbar-server').innerText()).toBe(`Server ${new URL(server.url).host}`);
    expect(await pathologist.getByTestId('topbar-user').innerText()).toContain(PEOPLE.path.displayName);

    // The technician reclassifies the first two cells of the grid.
    await tech.getByTestId('review-grid').focus();
    const shown = await tech
      .locator('[data-testid^="cell-tile-"]')
      .evaluateAll((tiles) => tiles.slice(0, 2).map((t) => Number(t.getAttribute('data-testid')!.slice('cell-tile-'.length))));
    const decided: { imageId: number; label: CellClassCode }[] = [];
    for (const imageId of shown) {
      const cell = cells.find((c) => c.imageId === imageId)!;
      const label: CellClassCode = cell.predicted === 'BLA' ? 'LYT' : 'BLA';
      await tech.getByTestId(`cell-tile-${imageId}`).click();
      const saved = tech.waitForResponse((r) => r.url().endsWith('/api/reviewCell') && r.status() === 200);
      await tech.keyboard.press(CLASS_KEYS[label]);
      await saved;
      decided.push({ imageId, label });
    }
    const savedAt = Date.now();
    for (const { imageId } of decided) {
      await pathologist.getByTestId(`cell-decision-${imageId}`).waitFor({ timeout: 5000 });
    }
    const shownAfter = Date.now() - savedAt;
    console.log(`decisions appeared on the other station ${shownAfter} ms after the last was saved`);
    expect(shownAfter).toBeLessThan(2000);
    for (const { imageId } of decided)
      expect(await pathologist.getByTestId(`cell-decision-${imageId}`).innerText()).toContain(PEOPLE.tech.displayName.split(' ')[0]!);
    await screenshot(tech, 'server-01-technician-decides');
    await screenshot(pathologist, 'server-02-pathologist-sees-decisions');

    // Technical validation at the technician's station; the pathologist's header follows.
    await sign(tech, 'signoff-submit', PEOPLE.tech.password);
    await expect.poll(() => pathologist.getByTestId('case-status-badge').innerText(), { timeout: 5000 }).toMatch(/submitted/i);
    // She authorises; the technician's screen shows the case released without a reload.
    await sign(pathologist, 'signoff-authorise', PEOPLE.path.password);
    await expect.poll(() => tech.getByTestId('case-status-badge').innerText(), { timeout: 5000 }).toMatch(/released/i);
    await screenshot(pathologist, 'server-03-pathologist-authorised');
    await screenshot(tech, 'server-04-technician-sees-release');
  });

  it('offers the desktop app\'s "Connect to a lab server" on the login screen and shows the address refused', async () => {
    // The desktop shell's bridge, stood in for in Chromium: the form's part is to pass the address on and show the
    // answer of the main process (whose rules are unit-tested in station-config.test.ts).
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, ignoreHTTPSErrors: true });
    contexts.push(context);
    await context.addInitScript(() => {
      const calls: string[] = [];
      (globalThis as unknown as { connectCalls: string[] }).connectCalls = calls;
      (globalThis as unknown as { marrowShell: unknown }).marrowShell = {
        connectToServer: (url: string) => {
          calls.push(url);
          return Promise.resolve(
            url.startsWith('http:') ? { ok: false, message: 'The lab server is reached over HTTPS only; "http://marrow.lab.local" is http.' } : { ok: true },
          );
        },
        onMenu: () => () => undefined,
      };
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByTestId('login-screen').waitFor();
    await page.getByTestId('connect-server-open').click();
    await page.getByTestId('connect-server-url').fill('http://marrow.lab.local');
    await page.getByTestId('connect-server-submit').click();
    await expect.poll(() => page.getByTestId('connect-server-error').innerText()).toContain('HTTPS only');
    await screenshot(page, 'server-05-connect-refused');
    await page.getByTestId('connect-server-url').fill('https://marrow.lab.local:8443');
    await page.getByTestId('connect-server-submit').click();
    await expect
      .poll(() => page.evaluate(() => (globalThis as unknown as { connectCalls: string[] }).connectCalls))
      .toEqual(['http://marrow.lab.local', 'https://marrow.lab.local:8443']);
  });

  it('says loudly when the server is gone and again when it is back, and goes on with the same session', async () => {
    const page = await station('tech', `/#/case/${caseId}/differential`);
    await page.getByTestId('differential-screen').waitFor();
    await expect.poll(() => page.getByTestId('topbar-server').getAttribute('class')).toContain('topbar-server-connected');
    const port = server.port;
    await server.close();
    await page.getByTestId('connection-lost').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('connection-lost').innerText()).toContain(`The connection to the lab server 127.0.0.1:${port} is lost`);
    await screenshot(page, 'server-06-connection-lost');
    server = await startLabServer({ ...serverOptions, port });
    await page.getByTestId('connection-lost').waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => page.getByTestId('notice').innerText(), { timeout: 5000 }).toContain('Reconnected to the lab server');
    await screenshot(page, 'server-07-reconnected');
    // The session survived the restart: the next call works without logging in again.
    await page.getByTestId('nav-cases').click();
    await page.getByTestId('cases-screen').waitFor();
    expect(await page.getByTestId('login-screen').count()).toBe(0);
  });

  it('uploads a folder of crops from the station and makes a case of it', async () => {
    const page = await station('tech', '/#/cases');
    await page.getByTestId('nav-new-case').click();
    await page.getByTestId('new-case-screen').waitFor();
    await page.getByTestId('new-case-patient-id').fill('MRN-UP-1');
    await page.getByTestId('new-case-accession').fill('UP-E2E-1');
    await page.getByTestId('new-case-specimen').selectOption('bone_marrow_aspirate');
    // The folder chooser of the browser, filled as a person choosing the folder would.
    await page.getByTestId('new-case-upload-input').setInputFiles(join(REPO, 'test', 'fixtures', 'crops', 'good'));
    await expect.poll(() => page.getByTestId('new-case-upload-done').innerText(), { timeout: 30_000 }).toContain('11 cell images uploaded and checked');
    expect(await page.getByTestId('new-case-folder').inputValue()).toContain(join(serverOptions.dataDir, 'uploads'));
    await screenshot(page, 'server-08-uploaded');
    await page.getByTestId('new-case-submit').click();
    await page.getByTestId('case-header').waitFor();
    await expect.poll(() => page.getByTestId('case-header-accession').innerText()).toContain('UP-E2E-1');
    // The report is written on the server; the station downloads it with its session.
    await expect.poll(() => page.getByTestId('case-status-badge').innerText(), { timeout: 30_000 }).toMatch(/review/i);
    await page.getByTestId('case-tab-signoff').click();
    await page.getByTestId('report-save-pdf').click();
    await page.getByTestId('report-download').waitFor();
    const href = await page.getByTestId('report-download').getAttribute('href');
    const pdf = await page.evaluate(async (url) => {
      const response = await fetch(url!);
      return { status: response.status, type: response.headers.get('content-type'), head: (await response.text()).slice(0, 5) };
    }, href);
    expect(pdf).toEqual({ status: 200, type: 'application/pdf', head: '%PDF-' });
    await screenshot(page, 'server-09-report-download');
  });
});
