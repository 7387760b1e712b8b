// What the browser end-to-end tests share: the real service on a temp database, the loopback HTTP host serving the
// BUILT renderer (out/renderer, from `npm run build`), and Debian's Chromium driven by playwright-core.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CELL_HTTP_PREFIX, startHttpHost, type HttpHost } from '../../src/main/http/serve-api';
import { createMarrowService, type MarrowService } from '../../src/main/service/marrow-service';
import type { MarrowApi, MarrowApiMethod } from '../../src/shared/api';
import type { Role } from '../../src/shared/roles';
import { copyCropsDistinctly } from '../helpers/distinct-crops';

export const REPO = resolve(import.meta.dirname, '../..');
export const RENDERER_DIR = join(REPO, 'out', 'renderer');
export const SCREENSHOTS = join(REPO, 'test-results', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';

const BUNDLED_MODEL = join(REPO, 'resources', 'models', 'marrowcount-ref');
const TINY_MODEL = join(REPO, 'test', 'fixtures', 'models', 'tiny');
const DEMO_CASE = join(REPO, 'resources', 'demo', 'case-001');
const FIXTURE_CROPS = join(REPO, 'test', 'fixtures', 'crops', 'good');

/** The bundled model once it is installed; until then the tiny fixture model (random weights) stands in. */
export function modelForTests(): { dir: string; bundled: boolean } {
  return existsSync(join(BUNDLED_MODEL, 'model.json')) ? { dir: BUNDLED_MODEL, bundled: true } : { dir: TINY_MODEL, bundled: false };
}

/**
 * The people every end-to-end test can log in as (created by the harness on its fresh database): one per role,
 * as a lab has them. A new test logs in with one line: `await loginAs(page, h, 'tech')`.
 */
export const PEOPLE = {
  admin: { login: 'admin', displayName: 'Ada Administrator', password: 'admin-e2e-password', roles: ['admin'] as Role[] },
  tech: { login: 'alex', displayName: 'Alex Technician', password: 'alex-e2e-password', roles: ['technician'] as Role[] },
  path: { login: 'sam', displayName: 'Dr Sam Haematologist', password: 'sam-e2e-password', roles: ['pathologist'] as Role[] },
} as const;
export type Person = keyof typeof PEOPLE;

export interface Harness {
  root: string;
  service: MarrowService;
  /** The API as `person` uses it, logged in in-process (for a test's set-up and checks, not for what it tests). */
  api(person: Person): Promise<MarrowApi>;
  host: HttpHost;
  browser: Browser;
  /** The folder a technician types into the new-case form. */
  caseFolder: string;
  /**
   * A copy of caseFolder whose crops have the same pixels in other bytes (tagged with `name`): for a case of another
   * patient than the test's other cases on caseFolder, which issue 21 would otherwise refuse as the same crops.
   */
  freshCaseFolder(name: string): string;
  model: { dir: string; bundled: boolean };
  newPage(): Promise<{ page: Page; pageErrors: Error[] }>;
  /**
   * Holds the host's calls to `method` (the first `first` of them, or all) until release(), as a slow disk or a busy
   * database would. The hold is in the host, not in the browser: intercepting the page's requests (page.route) turned
   * the browser's request handling on and off around the very requests the tests watch.
   */
  hold(method: MarrowApiMethod, first?: number): HeldCalls;
  /**
   * Makes the host's `nth` call (from 1) to `method` fail as a failing disk would (an EIO system error, which the
   * service answers as an 'io' error); the calls before and after it go through.
   */
  failCall(method: MarrowApiMethod, nth: number): void;
  /** Releases every hold and drops every planned failure, so a test that stopped midway cannot affect the next. */
  clearHoldsAndFailures(): void;
  close(): Promise<void>;
}

export interface HeldCalls {
  /** Calls that have reached the hold so far. */
  reached(): number;
  /** Lets the held calls through and removes the hold. */
  release(): void;
}

/**
 * The service as the host sees it: a method with a gate (a hold, a planned failure) passes through the gate first,
 * which may wait or throw.
 */
function serveWithGates(service: MarrowService, gates: Map<string, () => Promise<void>>): MarrowService {
  const gated = (api: MarrowApi): MarrowApi =>
    new Proxy(api, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        const gate = typeof property === 'string' ? gates.get(property) : undefined;
        if (gate === undefined || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await gate();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return new Proxy(service, {
    get(target, property, receiver) {
      if (property === 'forSession') return (holder: Parameters<MarrowService['forSession']>[0]) => gated(target.forSession(holder));
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/** The lab's people on a fresh database: the first administrator, then one account per role. */
async function createPeople(service: MarrowService): Promise<void> {
  const admin = service.forSession({ transport: 'cli', token: null });
  await admin.createFirstAdmin(PEOPLE.admin);
  for (const person of [PEOPLE.tech, PEOPLE.path]) await admin.createUser({ ...person, roles: [...person.roles] });
  await admin.logout();
}

/**
 * Releases a case as a lab does, in-process (for a test's set-up): the technician submits it, the pathologist
 * authorises it, each with their password.
 */
export async function releaseCase(h: Pick<Harness, 'api'>, caseId: number, overrideReason?: string): Promise<void> {
  const override = overrideReason === undefined ? {} : { overrideReason };
  await (await h.api('tech')).submitCase({ caseId, password: PEOPLE.tech.password, ...override });
  await (await h.api('path')).authoriseCase({ caseId, password: PEOPLE.path.password, ...override });
}

/** Logs `person` in on the page's login screen, as a person does, and waits for the app. */
export async function loginAs(page: Page, h: Pick<Harness, 'host'>, person: Person, path = '/'): Promise<void> {
  const who = PEOPLE[person];
  if (!page.url().startsWith(h.host.url)) await page.goto(`${h.host.url}${path}`);
  const login = page.getByTestId('login-screen');
  const app = page.getByTestId('app');
  await login.or(app).first().waitFor();
  if (await app.isVisible()) {
    if ((await page.getByTestId('topbar-user').innerText()).includes(who.displayName)) return;
    await page.getByTestId('nav-logout').click();
    await login.waitFor();
  }
  await page.getByTestId('login-name').fill(who.login);
  await page.getByTestId('login-password').fill(who.password);
  await page.getByTestId('login-submit').click();
  await app.waitFor();
  if (path !== '/' && !page.url().endsWith(path)) await page.goto(`${h.host.url}${path}`);
}

/** `people: false` starts on a database without any account (the first-start screen); the default creates PEOPLE. */
export async function startHarness(prefix: string, options: { people?: boolean } = {}): Promise<Harness> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    throw new Error(`No built renderer at ${RENDERER_DIR}: run \`npm run build\` before the end-to-end tests (npm test does).`);
  }
  const root = mkdtempSync(join(tmpdir(), `marrowcount-e2e-${prefix}-`));
  // The demo case is used where it lies (the app only reads a case folder); the fixture crops are copied.
  let caseFolder = DEMO_CASE;
  if (!existsSync(DEMO_CASE)) {
    caseFolder = join(root, 'case-folder');
    cpSync(FIXTURE_CROPS, caseFolder, { recursive: true });
  }
  const model = modelForTests();
  const service = await createMarrowService({
    databaseLocation: join(root, 'data', 'marrowcount.sqlite'),
    modelDir: model.dir,
    reportsDir: join(root, 'reports'),
    cellImageUrl: (caseId, imageId) => `${CELL_HTTP_PREFIX}${caseId}/${imageId}`,
    appVersion: '0.1.0-e2e',
  });
  // As in the desktop app: the LIS delivery loop runs (it sends nothing until a test turns LIS delivery on).
  service.lisDelivery.start();
  if (options.people !== false) await createPeople(service);
  const sessions = new Map<Person, Promise<MarrowApi>>();
  const gates = new Map<string, () => Promise<void>>();
  const releases = new Set<() => void>();
  const clearHoldsAndFailures = () => {
    for (const release of [...releases]) release();
    gates.clear();
  };
  const host = await startHttpHost({ service: serveWithGates(service, gates), rendererDir: RENDERER_DIR, port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    root,
    service,
    api(person) {
      let api = sessions.get(person);
      if (api === undefined) {
        const created = service.forSession({ transport: 'cli', token: null });
        api = created.login({ login: PEOPLE[person].login, password: PEOPLE[person].password }).then(() => created);
        sessions.set(person, api);
      }
      return api;
    },
    host,
    browser,
    caseFolder,
    freshCaseFolder(name) {
      const folder = join(root, 'fresh-cases', name);
      copyCropsDistinctly(caseFolder, folder, name);
      return folder;
    },
    model,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: false });
      const page = await context.newPage();
      const pageErrors: Error[] = [];
      page.on('pageerror', (error) => pageErrors.push(error));
      page.on('response', (response) => {
        if (response.status() >= 400) console.log(`[browser] HTTP ${response.status()} for ${response.url()}`);
      });
      page.on('console', (message) => {
        if (message.type() === 'error') console.log(`[browser console] ${message.text()}`);
      });
      return { page, pageErrors };
    },
    hold(method, first = Infinity) {
      let release = () => {};
      const released = new Promise<void>((resolveRelease) => {
        release = resolveRelease;
      });
      let reached = 0;
      const pass = async () => {
        if (reached >= first) return;
        reached++;
        await released;
      };
      gates.set(method, pass);
      const held = {
        reached: () => reached,
        release() {
          if (gates.get(method) === pass) gates.delete(method);
          releases.delete(held.release);
          release();
        },
      };
      releases.add(held.release);
      return held;
    },
    failCall(method, nth) {
      let calls = 0;
      const gate = async () => {
        if (++calls !== nth) return;
        if (gates.get(method) === gate) gates.delete(method);
        throw Object.assign(new Error(`EIO: i/o error (call ${nth} to ${method}, failed by the test)`), { code: 'EIO' });
      };
      gates.set(method, gate);
    },
    clearHoldsAndFailures,
    async close() {
      clearHoldsAndFailures();
      await browser.close();
      await host.close();
      await service.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
