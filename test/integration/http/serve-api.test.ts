// The loopback HTTP host over the real service: API calls, cell images and the static renderer, with the refusals
// that keep other machines, other origins and other files out.
import { readFileSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, CaseSummary } from '../../../src/shared/api';
import { startHttpHost, type HttpHost } from '../../../src/main/http/serve-api';
import { CONTENT_SECURITY_POLICY } from '../../../src/main/security/content-security-policy';
import { startService, TEST_PERSON, waitForAnalysis, type ServiceFixture } from '../service/helpers';

/** A raw request, for what fetch will not send (a foreign Host header, an unnormalised path). */
function raw(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loopback HTTP host', () => {
  let fx: ServiceFixture;
  let host: HttpHost;
  let caseId: number;
  let imageId: number;
  let imageFile: string;
  /** The session cookie the host set at login, sent back as a browser would. */
  let cookie = '';

  const call = async (method: string, args: unknown[], init: RequestInit = {}): Promise<{ status: number; body: ApiResult<unknown> }> => {
    const response = await fetch(`${host.url}/api/${method}`, {
      method: 'POST',
      body: JSON.stringify({ args }),
      ...init,
      headers: { 'Content-Type': 'application/json', Cookie: cookie, ...(init.headers as Record<string, string> | undefined) },
    });
    return { status: response.status, body: (await response.json()) as ApiResult<unknown> };
  };

  beforeAll(async () => {
    fx = await startService('http-host', { cellImageUrl: (c, i) => `/cells/${c}/${i}` });
    const renderer = join(fx.root, 'renderer');
    mkdirSync(join(renderer, 'assets'), { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>MarrowCount</title>');
    writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log("app")');
    writeFileSync(join(fx.root, 'secret.txt'), 'outside the renderer');
    symlinkSync(join(fx.root, 'secret.txt'), join(renderer, 'assets', 'leak.js'));
    host = await startHttpHost({ service: fx.service, rendererDir: renderer, port: 0, host: '127.0.0.1' });

    const created = await fx.service.createCase({ patient: { labId: 'P-1' }, accession: 'H-1', specimen: 'bone_marrow_aspirate', folder: fx.caseFolder('h') });
    caseId = created.id;
    await fx.service.startAnalysis(caseId);
    await waitForAnalysis(fx.service, caseId);
    const cell = (await fx.service.listCells({ caseId, scope: 'all', limit: 1 })).cells[0]!;
    imageId = cell.imageId;
    imageFile = join(fx.root, 'cases', 'h', cell.file);
    const login = await fetch(`${host.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [{ login: TEST_PERSON.login, password: TEST_PERSON.password }] }),
    });
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^marrowcount_session=[A-Za-z0-9_-]{40,}; HttpOnly; SameSite=Strict; Path=\//);
    cookie = setCookie.split(';')[0]!;
  });
  afterAll(async () => {
    await host.close();
    await fx.dispose();
  });

  it('listens on the loopback interface only', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers an API call with the ApiResult of the real service', async () => {
    const { status, body } = await call('listCases', [{}]);
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    const cases = (body as { ok: true; value: CaseSummary[] }).value;
    expect(cases.map((c) => c.accession)).toEqual(['H-1']);
  });

  it('refuses API calls and cell images without the session cookie, and ends the session at logout', async () => {
    const anonymous = await fetch(`${host.url}/api/listCases`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [{}] }),
    });
    expect(await anonymous.json()).toMatchObject({ ok: false, error: { kind: 'unauthenticated' } });
    expect((await fetch(`${host.url}/cells/${caseId}/${imageId}`)).status).toBe(403);
    const forged = await call('listCases', [{}], { headers: { Cookie: 'marrowcount_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(forged.body).toMatchObject({ ok: false, error: { kind: 'unauthenticated' } });
    // A second login (another browser) and its logout: the logout clears the cookie and the token stops working.
    const second = await fetch(`${host.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ args: [{ login: TEST_PERSON.login, password: TEST_PERSON.password }] }),
    });
    const secondCookie = (second.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(secondCookie).not.toBe(cookie);
    const logout = await fetch(`${host.url}/api/logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: secondCookie },
      body: '{"args":[]}',
    });
    expect(logout.headers.get('set-cookie')).toMatch(/^marrowcount_session=; .*Max-Age=0/);
    expect((await call('listCases', [{}], { headers: { Cookie: secondCookie } })).body).toMatchObject({ ok: false, error: { kind: 'unauthenticated' } });
    // The first browser's session is untouched.
    expect((await call('listCases', [{}])).body.ok).toBe(true);
  });

  it('carries validation errors with the field named', async () => {
    const { status, body } = await call('getCase', [-1]);
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, error: { kind: 'validation', field: 'caseId' } });
  });

  it('carries not-found errors from the service', async () => {
    expect((await call('getCase', [987654])).body).toMatchObject({ ok: false, error: { kind: 'not_found' } });
  });

  it('answers 404 for an unknown method, 405 for GET and 400 for a body that is not {"args": [...]}', async () => {
    expect((await call('dropDatabase', [])).status).toBe(404);
    expect((await call('constructor', [])).status).toBe(404);
    expect((await fetch(`${host.url}/api/listCases`)).status).toBe(405);
    expect((await call('listCases', [], { body: '{not json' })).status).toBe(400);
    expect((await call('listCases', [], { body: '[1,2]' })).status).toBe(400);
  });

  it('refuses bodies over 1 MB with 413', async () => {
    const big = JSON.stringify({ args: [{ search: 'x'.repeat(1024 * 1024) }] });
    const response = await fetch(`${host.url}/api/listCases`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
    expect(response.status).toBe(413);
  });

  it('refuses API calls from another origin', async () => {
    const { status } = await call('listCases', [{}], { headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' } });
    expect(status).toBe(403);
    const own = await call('listCases', [{}], { headers: { 'Content-Type': 'application/json', Origin: host.url } });
    expect(own.status).toBe(200);
  });

  it('refuses a Host header that is not its own (DNS rebinding)', async () => {
    expect((await raw(host.url, '/', { Host: 'evil.example' })).status).toBe(421);
  });

  it('serves a stored cell image with its bytes and type, and nothing else under /cells', async () => {
    const response = await fetch(`${host.url}/cells/${caseId}/${imageId}`, { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\//);
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(imageFile))).toBe(true);
    expect((await fetch(`${host.url}/cells/${caseId}/999999`, { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await raw(host.url, `/cells/${caseId}/..%2F..%2Fsecret.txt`, { Cookie: cookie })).status).toBe(404);
    expect((await raw(host.url, `/cells/../../secret.txt`, { Cookie: cookie })).status).toBe(404);
  });

  it('serves the renderer with the CSP header, and index.html for its routes', async () => {
    const index = await fetch(`${host.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await index.text()).toContain('MarrowCount');
    const script = await fetch(`${host.url}/assets/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${host.url}/cases`)).status).toBe(200);
    expect((await fetch(`${host.url}/assets/missing.js`)).status).toBe(404);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/..%2Fsecret.txt', '/assets/..%2F..%2Fsecret.txt', '/%2e%2e/secret.txt', '/assets/leak.js', '/..\\secret.txt']) {
      const { status, body } = await raw(host.url, path);
      expect(body, path).not.toContain('outside the renderer');
      expect([400, 403, 404], path).toContain(status);
    }
  });
});
