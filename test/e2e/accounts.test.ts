// Accounts in Chromium as people meet them: the first-start screen on a new database, the administrator's Users
// screen, login with a wrong and a right password, the lock screen, and a technician's attempt to authorise a
// result refused by the service with a clear message. Screenshots of each screen are kept.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, startHarness, type Harness } from './harness';

const byTestId = (page: Page, id: string) => page.getByTestId(id);

describe('accounts in Chromium', () => {
  let h: Harness;
  let page: Page;
  let pageErrors: Error[];

  beforeAll(async () => {
    h = await startHarness('accounts', { people: false });
    ({ page, pageErrors } = await h.newPage());
  });
  afterAll(async () => {
    await h?.close();
  });

  it('asks for the first administrator on a new database; the administrator adds a technician', async () => {
    await page.goto(`${h.host.url}/`);
    await byTestId(page, 'first-start-screen').waitFor();
    await screenshot(page, 'accounts-01-first-start');
    await byTestId(page, 'first-login').fill('ada');
    await byTestId(page, 'first-name').fill('Ada Administrator');
    await byTestId(page, 'first-password').fill('short');
    await byTestId(page, 'first-password-repeat').fill('short');
    await byTestId(page, 'first-submit').click();
    await expect.poll(() => byTestId(page, 'first-error').innerText()).toBe('A password needs at least 10 characters.');
    await byTestId(page, 'first-password').fill('ada-first-password');
    await byTestId(page, 'first-password-repeat').fill('ada-first-password');
    await byTestId(page, 'first-submit').click();
    await byTestId(page, 'app').waitFor();
    expect(await byTestId(page, 'topbar-user').innerText()).toContain('Ada Administrator (Administrator)');
    // An administrator manages; she does not count: no New case in her menu.
    expect(await byTestId(page, 'nav-new-case').count()).toBe(0);

    await byTestId(page, 'nav-users').click();
    await byTestId(page, 'users-screen').waitFor();
    await byTestId(page, 'user-add-login').fill('tess');
    await byTestId(page, 'user-add-name').fill('Tess Technician');
    await byTestId(page, 'user-add-password').fill('tess-password-1');
    await byTestId(page, 'user-add-submit').click();
    await byTestId(page, 'user-row-tess').waitFor();
    await byTestId(page, 'user-add-login').fill('pia');
    await byTestId(page, 'user-add-name').fill('Dr Pia Pathologist');
    await byTestId(page, 'user-add-password').fill('pia-password-12');
    await byTestId(page, 'user-add-roles-technician').uncheck();
    await byTestId(page, 'user-add-roles-pathologist').check();
    await byTestId(page, 'user-add-submit').click();
    await byTestId(page, 'user-row-pia').waitFor();
    expect(await byTestId(page, 'user-state-tess').innerText()).toBe('Active');
    await screenshot(page, 'accounts-02-users');
    await page.keyboard.press('Escape');
    await byTestId(page, 'nav-logout').click();
    await byTestId(page, 'login-screen').waitFor();
  });

  it('refuses a wrong password with the tries left, logs in with the right one, and locks and unlocks the screen', async () => {
    await byTestId(page, 'login-name').fill('tess');
    await byTestId(page, 'login-password').fill('wrong-password');
    await byTestId(page, 'login-submit').click();
    await expect
      .poll(() => byTestId(page, 'login-error').innerText())
      .toBe('Wrong login name or password. 4 more wrong tries lock the account for 15 minutes.');
    await screenshot(page, 'accounts-03-login-refused');
    await byTestId(page, 'login-password').fill('tess-password-1');
    await byTestId(page, 'login-submit').click();
    await byTestId(page, 'app').waitFor();
    expect(await byTestId(page, 'topbar-user').innerText()).toContain('Tess Technician (Technician)');
    expect(await byTestId(page, 'nav-users').count()).toBe(0);
    expect(await byTestId(page, 'nav-settings').count()).toBe(0);

    await byTestId(page, 'nav-lock').click();
    await byTestId(page, 'lock-screen').waitFor();
    expect(await byTestId(page, 'lock-user').innerText()).toBe('Tess Technician');
    // Locked, the service refuses every call but the unlock, whatever the page sends.
    const refused = (await page.evaluate(
      `fetch('/api/listCases', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"args":[{}]}' }).then((r) => r.json())`,
    )) as {
      error: { kind: string };
    };
    expect(refused.error.kind).toBe('session_locked');
    await byTestId(page, 'lock-password').fill('not-the-password');
    await byTestId(page, 'lock-submit').click();
    await expect.poll(() => byTestId(page, 'lock-error').innerText()).toContain('Wrong password for Tess Technician');
    await screenshot(page, 'accounts-04-lock-screen');
    await byTestId(page, 'lock-password').fill('tess-password-1');
    await byTestId(page, 'lock-submit').click();
    await byTestId(page, 'lock-screen').waitFor({ state: 'detached' });
    await byTestId(page, 'cases-screen').waitFor();
  });

  it('refuses a technician’s authorisation with a message naming the role it needs', async () => {
    const answer = (await page.evaluate(
      `fetch('/api/authoriseCase', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ args: [{ caseId: 1, password: 'tess-password-1' }] }) }).then((r) => r.json())`,
    )) as { ok: boolean; error: { kind: string; message: string } };
    expect(answer).toEqual({
      ok: false,
      error: { kind: 'forbidden', message: 'Authorise case needs a pathologist; Tess Technician is logged in as technician.' },
    });
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });
});
