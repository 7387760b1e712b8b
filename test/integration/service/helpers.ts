// Set-up shared by the service and HTTP-host integration tests: the real service on a temp SQLite file or on a fresh
// PostgreSQL database (`engine: 'postgres'` with the file's `usePostgres()` set-up, or a `databaseLocation` URL), the
// tiny real ONNX model and real crops copied into a temp case folder. `fx.sql` reads (or writes past the service, as
// another station would) the same database on either engine, so an assertion on stored rows is written once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Store } from '../../../src/main/db/contract';
import { isPostgresUrl } from '../../../src/main/db/postgres/connection';
import { API_METHODS, type AnalysisProgress, type CaseDetail, type CellView, type MarrowApi, type MarrowApiMethod } from '../../../src/shared/api';
import type { Role } from '../../../src/shared/roles';
import { createMarrowService, type CreateServiceExtras, type MarrowService } from '../../../src/main/service/marrow-service';
import type { EngineName, PostgresSetup } from '../db/engines';
import { openRawSql } from '../db/raw-sql';

export { ENGINES, usePostgres, type EngineName } from '../db/engines';
import { copyCropsDistinctly } from '../../helpers/distinct-crops';

export const REPO = resolve(import.meta.dirname, '../../..');
export const TINY_MODEL = join(REPO, 'test/fixtures/models/tiny');
export const GOOD_CROPS = join(REPO, 'test/fixtures/crops/good');

/**
 * The fixture crops by true class (from their file names): ART, BLA, EOS, LYT, MON, NGS, NIF, PMO at the top level
 * and BLA, EOS, LYT in slide-2/ — 11 cells.
 */
export const TRUE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'ART_00002.jpg': 'ART',
  'BLA_00001.jpg': 'BLA',
  'EOS_00001.jpg': 'EOS',
  'LYT_00001.jpg': 'LYT',
  'MON_00002.jpg': 'MON',
  'NGS_00001.jpg': 'NGS',
  'NIF_00003.jpg': 'NIF',
  'PMO_00001.jpg': 'PMO',
  'slide-2/BLA_00002.jpg': 'BLA',
  'slide-2/EOS_00002.png': 'EOS',
  'slide-2/LYT_00003.jpg': 'LYT',
});

/** The person most service tests act as: one account holding every role, so a test is about its subject, not access. */
export const TEST_PERSON = {
  login: 'tester',
  displayName: 'Test Person',
  password: 'tester-password-1',
  roles: ['technician', 'pathologist', 'admin'] as Role[],
};
export const TEST_ADMIN = { login: 'admin', displayName: 'Test Administrator', password: 'admin-password-1' };
/** The password of the people made by fx.as(name). */
export const PERSON_PASSWORD = 'person-password-1';

/** The host's service with the API of a logged-in session on it (as the transports see it). */
export type TestService = MarrowService & MarrowApi;

/**
 * Creates the first administrator and the test person on a fresh database (through the API, as the first-start
 * screen and the Users screen do) and returns the test person's logged-in API.
 */
export async function loggedInApi(
  service: MarrowService,
  person: { login: string; displayName: string; password: string; roles: Role[] } = TEST_PERSON,
): Promise<MarrowApi> {
  const adminApi = service.forSession({ transport: 'cli', token: null });
  const state = (await adminApi.getSession()).state;
  if (state === 'first_start') await adminApi.createFirstAdmin(TEST_ADMIN);
  else await adminApi.login({ login: TEST_ADMIN.login, password: TEST_ADMIN.password });
  // Service tests release a case in one step as a person holding both roles (authoriseCase on a case in review):
  // the lab setting that allows a pathologist to sign alone is on. The two-person release has its own tests.
  const security = await adminApi.getSecuritySettings();
  if (!security.pathologistMaySignAlone) await adminApi.saveSecuritySettings({ ...security, pathologistMaySignAlone: true });
  if (!(await adminApi.listUsers()).some((u) => u.login === person.login)) await adminApi.createUser(person);
  const api = service.forSession({ transport: 'cli', token: null });
  await api.login({ login: person.login, password: person.password });
  return api;
}

/** The service object with every API method answered by a session of `person` (logged in on first use). */
export function withSession(service: MarrowService, person = TEST_PERSON): TestService {
  let ready: Promise<MarrowApi> | null = null;
  const methods = new Set<string>(API_METHODS);
  return new Proxy(service, {
    get(target, property, receiver) {
      if (typeof property === 'string' && methods.has(property)) {
        return async (...args: unknown[]) => {
          ready ??= loggedInApi(target, person);
          const api = await ready;
          return (api[property as MarrowApiMethod] as (...a: unknown[]) => Promise<unknown>)(...args);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  }) as TestService;
}

export interface ServiceFixture {
  root: string;
  /** The engine the service's store is on. */
  engine: EngineName;
  /** The database the service opened: a SQLite file or a postgres:// URL (what `--db` or a worker would be given). */
  databaseLocation: string;
  /**
   * One raw statement on the service's database with `?` placeholders (numbered for PostgreSQL): its rows (a SELECT
   * or `… RETURNING`), else []. A second connection, as another station or an auditor would have; bigint ids and
   * counts come back as numbers on both engines.
   */
  sql<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** A second store on the service's database (opened on first use), for reads through the repository contract. */
  store(): Promise<Store>;
  /** The host's service, with the API of the test person's session (every role). */
  service: TestService;
  /** The bare host service, for sessions of other people (service.forSession). */
  host: MarrowService;
  /**
   * The API of a person with this printed name (every role), created and logged in on first use: tests of several
   * reviewers act as each of them, since the name recorded is always the session's.
   */
  as(displayName: string): Promise<MarrowApi>;
  /**
   * A fresh copy of the fixture crops, one per call: the same pixels in other bytes (tagged with `name`), as another
   * slide's crops would be, so that cases of different patients made from it are not "the same crops" (issue 21).
   * A test about the same crops under two patients copies one folder's files itself.
   */
  caseFolder(name: string): string;
  dispose(): Promise<void>;
}

export async function startService(
  prefix: string,
  options: {
    cellImageUrl?: (c: number, i: number) => string;
    modelDir?: string;
    crops?: readonly string[];
    extras?: CreateServiceExtras;
    /** SQLite (the default) or PostgreSQL, whose database comes from `pg` (the test file's `usePostgres()`). */
    engine?: EngineName;
    pg?: PostgresSetup;
    /** A database to open instead (a postgres:// URL or a file); by default a SQLite file under the fixture's root. */
    databaseLocation?: string;
  } = {},
): Promise<ServiceFixture> {
  const root = mkdtempSync(join(tmpdir(), `marrowcount-${prefix}-`));
  let databaseLocation = options.databaseLocation ?? join(root, 'data', 'marrowcount.sqlite');
  if (options.engine === 'postgres' && options.databaseLocation === undefined) {
    if (options.pg === undefined) throw new Error("startService on postgres needs the test file's usePostgres() set-up");
    databaseLocation = await options.pg.freshUrl();
  }
  const engine: EngineName = isPostgresUrl(databaseLocation) ? 'postgres' : 'sqlite';
  const service = await createMarrowService(
    {
      databaseLocation,
      modelDir: options.modelDir ?? TINY_MODEL,
      reportsDir: join(root, 'reports'),
      cellImageUrl: options.cellImageUrl ?? ((c, i) => `marrowcell://cell/${c}/${i}`),
      appVersion: '0.0.0-test',
    },
    { analysis: { batchSize: 4, intraOpThreads: 1 }, ...options.extras },
  );
  const people = new Map<string, Promise<MarrowApi>>();
  const raw = openRawSql(databaseLocation);
  return {
    root,
    engine,
    databaseLocation,
    sql: raw.sql,
    store: raw.store,
    service: withSession(service),
    host: service,
    as(displayName) {
      let api = people.get(displayName);
      if (api === undefined) {
        const login = `p${people.size + 1}-${displayName
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '')}`.slice(0, 60);
        api = loggedInApi(service, { login, displayName: displayName.trim(), password: PERSON_PASSWORD, roles: ['technician', 'pathologist', 'admin'] });
        people.set(displayName, api);
      }
      return api;
    },
    caseFolder(name) {
      const folder = join(root, 'cases', name);
      for (const source of options.crops ?? [GOOD_CROPS]) copyCropsDistinctly(source, folder, name);
      return folder;
    },
    async dispose() {
      await raw.close();
      await service.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the analysis as the renderer does until it leaves the running phases. */
export async function waitForAnalysis(api: MarrowApi, caseId: number): Promise<AnalysisProgress> {
  for (;;) {
    const progress = await api.getAnalysisProgress(caseId);
    if (progress && progress.phase !== 'importing' && progress.phase !== 'classifying') return progress;
    await sleep(50);
  }
}

/**
 * A new case on a fresh copy of the fixture crops, analysed to the end: its detail and its cells as listed right
 * after analysis (every fixture crop, no decisions yet).
 */
export async function analysedFixtureCase(fx: ServiceFixture, name: string): Promise<{ detail: CaseDetail; cells: CellView[] }> {
  const created = await fx.service.createCase({
    patient: { labId: `MRN-${name}` },
    accession: `ACC-${name}`,
    specimen: 'bone_marrow_aspirate',
    folder: fx.caseFolder(name),
  });
  await fx.service.startAnalysis(created.id);
  const progress = await waitForAnalysis(fx.service, created.id);
  if (progress.phase !== 'done') throw new Error(`analysis of ${name} ended ${progress.phase}: ${progress.message ?? ''}`);
  const page = await fx.service.listCells({ caseId: created.id, scope: 'all', limit: 1000 });
  if (page.total !== Object.keys(TRUE_LABELS).length) throw new Error(`case ${name} has ${page.total} cells, not every fixture crop`);
  return { detail: await fx.service.getCase(created.id), cells: page.cells };
}
