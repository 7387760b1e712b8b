// The Electron shell itself, driven by Playwright's _electron: the window opens on the built app, the preload's
// API is reachable (and nothing else of Node), navigation away and pop-ups are refused. These need Electron's
// binary, which cannot be downloaded everywhere (it is absent on the build machine); where it is missing, or
// there is no display to open a window on, the tests are skipped and the reason is printed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './harness';

function electronBinary(): { path: string | null; reason: string } {
  const require = createRequire(import.meta.url);
  // require('electron') downloads the binary when it is missing, so look for it first without asking the package.
  const packageDir = dirname(require.resolve('electron/package.json'));
  const pathFile = join(packageDir, 'path.txt');
  const expected = existsSync(pathFile) ? join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim()) : null;
  if (expected === null || !existsSync(expected)) {
    return {
      path: null,
      reason: `Electron's binary is not installed (${expected ?? `no ${pathFile}`}); install it with a plain \`npm install\` where GitHub is reachable`,
    };
  }
  const path: unknown = require('electron');
  if (typeof path !== 'string' || !existsSync(path)) return { path: null, reason: `require('electron') gave ${String(path)}, which does not exist` };
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return { path: null, reason: 'there is no display to open a window on (run the tests under xvfb-run)' };
  }
  if (!existsSync(join(REPO, 'out', 'main', 'index.js'))) return { path: null, reason: 'the app is not built (npm run build)' };
  return { path, reason: '' };
}

const binary = electronBinary();
if (binary.path === null) console.log(`Skipping the Electron shell tests: ${binary.reason}.`);

describe.skipIf(binary.path === null)('Electron shell', () => {
  let app: ElectronApplication;
  let window: Page;
  let userData: string;

  beforeAll(async () => {
    userData = mkdtempSync(join(tmpdir(), 'marrowcount-electron-'));
    app = await electron.launch({
      executablePath: binary.path as string,
      // Chromium refuses to start its OS sandbox as root (CI containers); the renderer's own sandbox stays on.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), REPO],
      env: { ...process.env, MARROWCOUNT_USER_DATA: userData, ELECTRON_RENDERER_URL: '' },
    });
    window = await app.firstWindow();
    // A new database: the first-start screen, then the app as the administrator just created (this window's session).
    await window.getByTestId('first-start-screen').waitFor();
    await window.getByTestId('first-login').fill('admin');
    await window.getByTestId('first-name').fill('Electron Administrator');
    await window.getByTestId('first-password').fill('electron-admin-1');
    await window.getByTestId('first-password-repeat').fill('electron-admin-1');
    await window.getByTestId('first-submit').click();
    await window.getByTestId('app').waitFor();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(userData, { recursive: true, force: true });
  });

  it('opens one window on the built renderer, with the cases screen', async () => {
    expect(app.windows()).toHaveLength(1);
    expect(window.url()).toMatch(/^file:.*\/out\/renderer\/index\.html/);
    await window.getByTestId('cases-screen').waitFor();
    expect(await window.title()).toContain('MarrowCount');
  });

  it('gives the page no Node: no require, no process, no ipcRenderer', async () => {
    expect(await window.evaluate(() => [typeof (globalThis as { require?: unknown }).require, typeof (globalThis as { process?: unknown }).process])).toEqual([
      'undefined',
      'undefined',
    ]);
    const exposed = await window.evaluate(() =>
      Object.keys(globalThis)
        .filter((k) => k.startsWith('marrow'))
        .sort(),
    );
    expect(exposed).toEqual(['marrowShell', 'marrowcount']);
    expect(await window.evaluate(() => typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer)).toBe('undefined');
  });

  it('exposes the API contract on window.marrowcount, and listCases answers from the real database', async () => {
    const methods = await window.evaluate(() => Object.keys((window as unknown as { marrowcount: object }).marrowcount).sort());
    expect(methods).toContain('listCases');
    expect(methods).toContain('authoriseCase');
    const cases = await window.evaluate(() => (window as unknown as { marrowcount: { listCases(f: object): Promise<unknown[]> } }).marrowcount.listCases({}));
    expect(cases).toEqual([]);
  });

  it('keeps the error kind and field across the context bridge', async () => {
    const error = await window.evaluate(async () => {
      try {
        await (window as unknown as { marrowcount: { getCase(id: number): Promise<unknown> } }).marrowcount.getCase(-1);
        return null;
      } catch (e) {
        const shaped = e as { kind?: string; field?: string; message?: string };
        return { kind: shaped.kind, field: shaped.field, message: shaped.message };
      }
    });
    expect(error).toMatchObject({ kind: 'validation', field: 'caseId' });
  });

  it('refuses to navigate the window to another origin', async () => {
    const before = window.url();
    await window.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
    });
    // will-navigate is refused before the navigation commits; a round trip to the page shows it is still ours.
    await window.waitForTimeout(500);
    expect(await window.getByTestId('app').count()).toBe(1);
    expect(window.url().split('#')[0]).toBe(before.split('#')[0]);
  });

  it('denies window.open', async () => {
    const opened = await window.evaluate(() => (globalThis as unknown as { open(url: string): unknown }).open('https://example.com/') === null);
    expect(opened).toBe(true);
    expect(app.windows()).toHaveLength(1);
  });

  it('denies permission requests such as notifications', async () => {
    const answer = await window.evaluate(() =>
      (globalThis as unknown as { Notification: { requestPermission(): Promise<string> } }).Notification.requestPermission(),
    );
    expect(answer).toBe('denied');
  });
});
