// The lab server's refusals, each over real HTTPS on loopback: plain HTTP, no session, an ended session, a wrong
// role, cross-site requests and a missing CSRF header, too many logins, a case folder outside --cases-root (a
// symlink too), and the headers and cookie attributes a network server needs. Also that the audit log records
// the station's address with the person.
import Database from 'better-sqlite3';
import { mkdirSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail } from '../../../src/shared/api';
import { Station } from '../../helpers/station-client';
import { waitForAnalysis } from '../service/helpers';
import { PEOPLE, startTestServer, type ServerFixture } from './helpers';

function plainHttp(port: number, method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? JSON.stringify({ args: [{}] }) : undefined);
  });
}

describe('lab server security', () => {
  let fx: ServerFixture;

  beforeAll(async () => {
    fx = await startTestServer('security', {
      loginLimits: { perAddress: { max: 30, windowMs: 60_000 }, perLogin: { max: 8, windowMs: 60_000 } },
    });
  }, 60_000);
  afterAll(async () => fx?.dispose());

  it('redirects a plain-HTTP page request to HTTPS and refuses a plain-HTTP API call on the same port', async () => {
    const page = await plainHttp(fx.server.port, 'GET', '/cases');
    expect(page.status).toBe(308);
    expect(page.headers['location']).toBe(`https://127.0.0.1:${fx.server.port}/cases`);
    const api = await plainHttp(fx.server.port, 'POST', '/api/listCases');
    expect(api.status).toBe(403);
    expect(api.body).toMatch(/HTTPS only/);
    expect(api.body).not.toMatch(/"ok":true/);
  });

  it('refuses every API call without a session, and answers with HSTS and nosniff', async () => {
    const station = fx.anonymous();
    const { status, result, headers } = await station.call('listCases', [{}]);
    expect(status).toBe(200);
    expect(result).toMatchObject({ ok: false, error: { kind: 'unauthenticated' } });
    expect(headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    const events = await station.request('/events');
    expect(events.status).toBe(401);
    const cell = await station.request('/cells/1/1');
    expect(cell.status).toBe(403);
  });

  it('sets the session cookie Secure, HttpOnly and SameSite=Strict', async () => {
    const station = fx.anonymous();
    await station.api.getSession();
    const answer = await station.call('login', [{ login: PEOPLE.tech1.login, password: PEOPLE.tech1.password }]);
    expect(answer.result.ok).toBe(true);
    const cookie = answer.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(/^marrowcount_session=[A-Za-z0-9_-]{20,}/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(answer.headers['x-marrowcount-csrf']).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  });

  it('refuses a session that has ended (logged out), even with its old cookie and CSRF header', async () => {
    const station = await fx.station('tech1');
    const cookie = station.cookie;
    const csrf = station.csrf;
    await station.api.logout();
    const replay = new Station(fx.server.url, fx.tls.cert, 'replay');
    replay.cookie = cookie;
    replay.csrf = csrf;
    const { result } = await replay.call('listCases', [{}]);
    expect(result).toMatchObject({ ok: false, error: { kind: 'unauthenticated', message: expect.stringMatching(/ended/) } });
    replay.close();
  });

  it('refuses a method the role table does not give the person (a technician authorising)', async () => {
    const station = await fx.station('tech1');
    const { result } = await station.call('authoriseCase', [{ caseId: 1, password: PEOPLE.tech1.password }]);
    expect(result).toMatchObject({ ok: false, error: { kind: 'forbidden', message: expect.stringMatching(/pathologist/) } });
  });

  it('refuses cross-site requests: another site, another origin, no CSRF header, a wrong CSRF header', async () => {
    const station = await fx.station('tech1');
    const crossSite = await station.call('listCases', [{}], { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.result).toMatchObject({ ok: false, error: { kind: 'forbidden', message: expect.stringMatching(/another site/) } });
    const otherOrigin = await station.call('listCases', [{}], { headers: { Origin: 'https://evil.example' } });
    expect(otherOrigin.status).toBe(403);
    expect(otherOrigin.result).toMatchObject({ ok: false, error: { message: expect.stringMatching(/evil\.example/) } });
    // A non-browser client sends neither header: the CSRF token is then what stops a forged call.
    const noToken = await station.call('listCases', [{}], { bare: true, noCsrf: true });
    expect(noToken.status).toBe(403);
    expect(noToken.result).toMatchObject({ ok: false, error: { kind: 'forbidden', message: expect.stringMatching(/x-marrowcount-csrf/) } });
    const wrongToken = await station.call('listCases', [{}], { noCsrf: true, headers: { 'X-MarrowCount-CSRF': 'A'.repeat(43) } });
    expect(wrongToken.status).toBe(403);
    const good = await station.call('listCases', [{}], { bare: true });
    expect(good.result.ok).toBe(true);
  });

  it('sends the pages with CSP (frame-ancestors none), HSTS, nosniff, Referrer-Policy and X-Frame-Options', async () => {
    const root = join(fx.root, 'renderer');
    mkdirSync(root, { recursive: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>MarrowCount</title>');
    const { startLabServer } = await import('../../../src/main/server/lab-server');
    const withPages = await startLabServer({
      host: '127.0.0.1',
      port: 0,
      tls: fx.tls,
      databaseLocation: join(fx.root, 'pages.sqlite'),
      dataDir: join(fx.root, 'pages-data'),
      casesRoot: null,
      modelDir: join(fx.root, 'no-model'),
      rendererDir: root,
      appVersion: 'test',
    });
    try {
      const station = new Station(withPages.url, fx.tls.cert);
      // A page may be opened from a link on another site (only the API is refused cross-site).
      const page = await station.request('/', { headers: { 'Sec-Fetch-Site': 'cross-site' } });
      station.close();
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(page.headers['strict-transport-security']).toMatch(/max-age=/);
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['x-frame-options']).toBe('DENY');
    } finally {
      await withPages.close();
    }
  });

  it('refuses a case folder outside --cases-root, and a symlink under it that leads outside', async () => {
    const station = await fx.station('tech1');
    const outside = join(fx.root, 'elsewhere');
    const { cpSync } = await import('node:fs');
    cpSync(join(fx.caseFolder('source-for-outside')), outside, { recursive: true });
    const direct = await station.call('createCase', [{ patient: { labId: 'P-OUT' }, accession: 'OUT-1', specimen: 'bone_marrow_aspirate', folder: outside }]);
    expect(direct.result).toMatchObject({
      ok: false,
      error: { kind: 'validation', field: 'folder', message: expect.stringMatching(/outside the folders this server reads/) },
    });
    const link = join(fx.casesRoot, 'link-to-elsewhere');
    symlinkSync(outside, link);
    const viaLink = await station.call('createCase', [{ patient: { labId: 'P-OUT' }, accession: 'OUT-2', specimen: 'bone_marrow_aspirate', folder: link }]);
    expect(viaLink.result).toMatchObject({ ok: false, error: { field: 'folder', message: expect.stringContaining(`leads to ${outside}`) } });
    const dotted = await station.call('createCase', [
      { patient: { labId: 'P-OUT' }, accession: 'OUT-3', specimen: 'bone_marrow_aspirate', folder: `${fx.casesRoot}/../elsewhere` },
    ]);
    expect(dotted.result).toMatchObject({ ok: false, error: { field: 'folder' } });
    const inside = await station.call<CaseDetail>('createCase', [
      { patient: { labId: 'P-IN' }, accession: 'IN-1', specimen: 'bone_marrow_aspirate', folder: fx.caseFolder('inside') },
    ]);
    expect(inside.result.ok).toBe(true);
  });

  it("records the station's address with the person in the audit log", async () => {
    const station = await fx.station('tech1');
    const created = await station.api.createCase({
      patient: { labId: 'P-AUD' },
      accession: 'AUD-1',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('audit'),
    });
    await station.api.startAnalysis(created.id);
    await waitForAnalysis(station.api, created.id);
    const cell = (await station.api.listCells({ caseId: created.id, scope: 'all', limit: 1 })).cells[0]!;
    await station.api.reviewCell({ caseId: created.id, imageId: cell.imageId, label: cell.predicted === 'BLA' ? 'LYT' : 'BLA' });
    await fx.anonymous().call('login', [{ login: PEOPLE.path1.login, password: 'not-her-password' }]);
    const db = new Database(fx.databasePath, { readonly: true });
    try {
      const rows = db.prepare('SELECT action, detail, user_id FROM audit_log WHERE case_id = ? ORDER BY id').all(created.id) as {
        action: string;
        detail: string;
        user_id: number | null;
      }[];
      expect(rows.length).toBeGreaterThan(0);
      const tina = db.prepare('SELECT id FROM users WHERE login = ?').get(PEOPLE.tech1.login) as { id: number };
      const personal = rows.filter((r) => r.user_id !== null);
      expect(personal.map((r) => r.action)).toEqual(expect.arrayContaining(['case_created']));
      for (const row of personal) {
        expect(row.user_id).toBe(tina.id);
        expect(JSON.parse(row.detail)).toMatchObject({ station: '127.0.0.1' });
      }
      // A failed login has a station and no session yet.
      const failed = db.prepare("SELECT detail FROM audit_log WHERE action = 'login_failed' ORDER BY id DESC LIMIT 1").get() as { detail: string } | undefined;
      expect(failed).toBeDefined();
      expect(JSON.parse(failed!.detail)).toMatchObject({ station: '127.0.0.1' });
    } finally {
      db.close();
    }
  }, 60_000);
  it("refuses a report, export or lab-model package path outside the server's reports folder (a symlink too)", async () => {
    const station = await fx.station('tech1');
    const created = await station.api.createCase({
      patient: { labId: 'P-PATH' },
      accession: 'PATH-1',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('paths'),
    });
    await station.api.startAnalysis(created.id);
    await waitForAnalysis(station.api, created.id);
    const outside = await station.call('saveReport', [{ caseId: created.id, path: join(fx.root, 'elsewhere.pdf') }]);
    expect(outside.result).toMatchObject({
      ok: false,
      error: { kind: 'validation', field: 'path', message: expect.stringMatching(/On the lab server files are kept under/) },
    });
    const exported = await station.call('exportCase', [{ caseId: created.id, format: 'json', path: join(fx.dataDir, 'marrowcount.json') }]);
    expect(exported.result).toMatchObject({ ok: false, error: { field: 'path' } });
    mkdirSync(join(fx.dataDir, 'reports'), { recursive: true });
    symlinkSync(fx.root, join(fx.dataDir, 'reports', 'escape'));
    const viaLink = await station.call('saveReport', [{ caseId: created.id, path: join(fx.dataDir, 'reports', 'escape', 'x.pdf') }]);
    expect(viaLink.result).toMatchObject({ ok: false, error: { field: 'path' } });
    const imported = await station.call('importLabModel', [{ path: join(fx.root, 'tls', 'marrowcount-server.json') }]);
    expect(imported.result).toMatchObject({ ok: false, error: { field: 'path', message: expect.stringMatching(/outside it/) } });
    const inside = await station.call<{ path: string }>('saveReport', [{ caseId: created.id, path: join(fx.dataDir, 'reports', 'PATH-1-copy.pdf') }]);
    expect(inside.result.ok).toBe(true);
    const byDefault = await station.call<{ path: string }>('saveReport', [{ caseId: created.id }]);
    expect(byDefault.result).toMatchObject({ ok: true, value: { path: expect.stringContaining(join(fx.dataDir, 'reports')) } });
    // Downloading it from the station: with a session only, by bare file name only.
    const name = (byDefault.result as { ok: true; value: { path: string } }).value.path.split('/').pop()!;
    const download = await station.request(`/reports/${encodeURIComponent(name)}`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.body.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await fx.anonymous().request(`/reports/${encodeURIComponent(name)}`)).status).toBe(401);
    expect((await station.request('/reports/..%2Fmarrowcount.sqlite')).status).toBe(404);
    expect((await station.request('/reports/escape%2Fx.pdf')).status).toBe(404);
    expect((await station.request(`/reports/${encodeURIComponent(name)}`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
  }, 60_000);

  it('limits login attempts per login name and per station address, saying how long to wait', async () => {
    const station = fx.anonymous();
    const attempts = [];
    for (let i = 0; i < 9; i++) attempts.push(await station.call('login', [{ login: PEOPLE.tech2.login, password: 'wrong-password-x' }]));
    // (the account locks after 5 wrong passwords; the limiter counts attempts whatever their answer)
    expect(attempts.slice(0, 8).map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(attempts[8]!.status).toBe(429);
    expect(attempts[8]!.headers['retry-after']).toMatch(/^\d+$/);
    expect(attempts[8]!.result).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Too many login attempts/) } });
    // Other names from the same address: the address's own limit (30 a minute here) stops a spray.
    // (this test runs last: it spends the address's allowance the other tests' logins share)
    let limited = 0;
    for (let i = 0; i < 30; i++) {
      const a = await station.call('login', [{ login: `nobody-${i}`, password: 'wrong-password-x' }]);
      if (a.status === 429) limited += 1;
    }
    expect(limited).toBeGreaterThan(0);
  });
});
