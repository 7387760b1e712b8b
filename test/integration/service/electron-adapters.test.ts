// The Electron adapters (IPC handlers, the marrowcell: protocol handler) over the real service, with Electron's
// ipcMain and protocol replaced by recorders: Electron's binary is not installed on the build machine, and these
// tests check what the adapters do with a call (refuse, validate, answer an ApiResult), not Electron itself.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiResult, CaseSummary } from '../../../src/shared/api';
import { API_METHODS } from '../../../src/shared/api';
import { startService, TEST_PERSON, waitForAnalysis, type ServiceFixture } from './helpers';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;
const handlers = new Map<string, Handler>();
let protocolHandler: ((request: Request) => Promise<Response>) | null = null;

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: Handler) => handlers.set(channel, fn),
    removeHandler: (channel: string) => handlers.delete(channel),
  },
  protocol: {
    handle: (_scheme: string, fn: (request: Request) => Promise<Response>) => {
      protocolHandler = fn;
    },
    registerSchemesAsPrivileged: () => undefined,
  },
}));

const { registerApiHandlers } = await import('../../../src/main/ipc/register-ipc');
const { handleCellProtocol, cellImageUrl } = await import('../../../src/main/protocol/register-cell-protocol');

describe('Electron adapters over the real service', () => {
  let fx: ServiceFixture;
  let caseId: number;
  let imageId: number;
  // Each window (webContents) has its own session, held in main: window 1 logs in below, window 2 never does.
  const closeListeners: (() => void)[] = [];
  const windowEvent = (id: number, trusted: boolean) => ({ trusted, sender: { id, once: (_e: string, fn: () => void) => closeListeners.push(fn) } });
  const trusted = windowEvent(1, true);
  const otherWindow = windowEvent(2, true);
  const stranger = windowEvent(3, false);

  beforeAll(async () => {
    fx = await startService('electron-adapters', { cellImageUrl });
    registerApiHandlers(fx.service, (event) => (event as unknown as { trusted: boolean }).trusted);
    handleCellProtocol((c, i) => fx.service.locateCellImage(c, i));
    const created = await fx.service.createCase({ patient: { labId: 'E-1' }, accession: 'E-1', specimen: 'bone_marrow_aspirate', folder: fx.caseFolder('e') });
    caseId = created.id;
    await fx.service.startAnalysis(caseId);
    await waitForAnalysis(fx.service, caseId);
    imageId = (await fx.service.listCells({ caseId, scope: 'all', limit: 1 })).cells[0]!.imageId;
    const login = (await handlers.get('api:login')!(trusted, { login: TEST_PERSON.login, password: TEST_PERSON.password })) as ApiResult<unknown>;
    expect(login.ok).toBe(true);
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('binds every method of the contract to api:<method>', () => {
    expect([...handlers.keys()].sort()).toEqual(API_METHODS.map((m) => `api:${m}`).sort());
  });

  it('answers a call from our window with the service’s ApiResult', async () => {
    const result = (await handlers.get('api:listCases')!(trusted, {})) as ApiResult<CaseSummary[]>;
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.map((c) => c.accession)).toEqual(['E-1']);
  });

  it('keeps one session per window: another window is not logged in by the first one’s login', async () => {
    const result = (await handlers.get('api:listCases')!(otherWindow, {})) as ApiResult<unknown>;
    expect(result).toMatchObject({ ok: false, error: { kind: 'unauthenticated' } });
    const session = (await handlers.get('api:getSession')!(trusted)) as ApiResult<{ state: string; user: { login: string } }>;
    expect(session).toMatchObject({ ok: true, value: { state: 'active', user: { login: TEST_PERSON.login } } });
  });

  it('refuses a call from any other frame without running it', async () => {
    const result = (await handlers.get('api:saveSettings')!(stranger, { labName: 'x' })) as ApiResult<unknown>;
    expect(result.ok).toBe(false);
    expect((await fx.service.getSettings()).labName).toBe('');
  });

  it('returns validation failures as results, never as thrown errors', async () => {
    const result = (await handlers.get('api:reviewCell')!(trusted, { caseId, imageId, label: 'NOPE' })) as ApiResult<unknown>;
    expect(result).toMatchObject({ ok: false, error: { kind: 'validation', field: 'label' } });
  });

  it('serves a stored image over marrowcell: and refuses anything else', async () => {
    const ok = await protocolHandler!(new Request(cellImageUrl(caseId, imageId)));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^image\//);
    expect((await ok.arrayBuffer()).byteLength).toBeGreaterThan(100);
    expect((await protocolHandler!(new Request(cellImageUrl(caseId, 999999)))).status).toBe(404);
    expect((await protocolHandler!(new Request(`marrowcell://other/${caseId}/${imageId}`))).status).toBe(404);
    expect((await protocolHandler!(new Request(`marrowcell://cell/${caseId}/${imageId}?x=1`))).status).toBe(404);
    expect((await protocolHandler!(new Request(`marrowcell://cell/${caseId}/../../etc/passwd`))).status).toBe(404);
  });
});
