// A lab server on loopback for tests: a fresh self-signed certificate (made as `server init-tls` makes it), the
// real service on a temp SQLite file with the tiny real ONNX model, a cases root holding copies of the fixture
// crops, and the lab's people.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../../src/shared/roles';
import { startLabServer, type LabServer, type LabServerOptions } from '../../../src/main/server/lab-server';
import { makeSelfSignedCertificate, type ServerTls } from '../../../src/main/server/tls';
import { copyCropsDistinctly } from '../../helpers/distinct-crops';
import { Station } from '../../helpers/station-client';
import { GOOD_CROPS, TINY_MODEL } from '../service/helpers';

export const PEOPLE = {
  admin: { login: 'admin', displayName: 'Ada Admin', password: 'admin-password-1', roles: ['admin'] as Role[] },
  tech1: { login: 'tina', displayName: 'Tina Technician', password: 'tina-password-1', roles: ['technician'] as Role[] },
  tech2: { login: 'tom', displayName: 'Tom Technician', password: 'tom-password-12', roles: ['technician'] as Role[] },
  path1: { login: 'paula', displayName: 'Paula Pathologist', password: 'paula-password-1', roles: ['pathologist'] as Role[] },
} as const;

export type Person = keyof typeof PEOPLE;

export interface ServerFixture {
  root: string;
  casesRoot: string;
  dataDir: string;
  databasePath: string;
  tls: ServerTls;
  server: LabServer;
  /** A station logged in as the person. */
  station(person: Person): Promise<Station>;
  /** A station with no session. */
  anonymous(): Station;
  /** A fresh copy of the fixture crops under the cases root: same pixels, other bytes per name (not "the same crops" of issue 21). */
  caseFolder(name: string): string;
  dispose(): Promise<void>;
}

export async function makeTestCertificate(dir: string): Promise<ServerTls> {
  return (await makeSelfSignedCertificate(dir, ['localhost'])).tls;
}

/** Creates the first administrator and the other people through the API, as the first-start and Users screens do. */
export async function seedPeople(server: LabServer): Promise<void> {
  const api = server.service.forSession({ transport: 'cli', token: null });
  if ((await api.getSession()).state === 'first_start') await api.createFirstAdmin(PEOPLE.admin);
  else await api.login({ login: PEOPLE.admin.login, password: PEOPLE.admin.password });
  const existing = new Set((await api.listUsers()).map((u) => u.login));
  for (const key of ['tech1', 'tech2', 'path1'] as const) if (!existing.has(PEOPLE[key].login)) await api.createUser(PEOPLE[key]);
  await api.logout();
}

export async function startTestServer(prefix: string, overrides: Partial<LabServerOptions> = {}): Promise<ServerFixture> {
  const root = mkdtempSync(join(tmpdir(), `marrowcount-server-${prefix}-`));
  const casesRoot = join(root, 'cases');
  const dataDir = join(root, 'data');
  mkdirSync(casesRoot, { recursive: true });
  const tls = await makeTestCertificate(join(root, 'tls'));
  const databasePath = join(dataDir, 'marrowcount.sqlite');
  const server = await startLabServer({
    host: '127.0.0.1',
    port: 0,
    tls,
    databaseLocation: databasePath,
    dataDir,
    casesRoot,
    modelDir: TINY_MODEL,
    rendererDir: null,
    appVersion: '0.0.0-test',
    serviceExtras: { analysis: { batchSize: 4, intraOpThreads: 1 } },
    ...overrides,
  });
  await seedPeople(server);
  const stations: Station[] = [];
  const fixture: ServerFixture = {
    root,
    casesRoot,
    dataDir,
    databasePath,
    tls,
    server,
    async station(person) {
      const station = new Station(server.url, tls.cert, person);
      stations.push(station);
      await station.login(PEOPLE[person].login, PEOPLE[person].password);
      return station;
    },
    anonymous() {
      const station = new Station(server.url, tls.cert, 'anonymous');
      stations.push(station);
      return station;
    },
    caseFolder(name) {
      const folder = join(casesRoot, name);
      copyCropsDistinctly(GOOD_CROPS, folder, name);
      return folder;
    },
    async dispose() {
      for (const s of stations) s.close();
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return fixture;
}
