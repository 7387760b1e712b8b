// The loopback HTTP host: the same MarrowApi the preload exposes over IPC, served to a plain browser so the built
// renderer can be driven in Chromium by Playwright (and by hand with scripts/serve-browser.ts). It wires the real
// service; only the transport differs. It listens on the loopback interface only, and refuses requests whose Host
// or Origin is not its own, so neither another machine nor a web page open in the same browser can call it.
// Sessions as in the desktop app: login sets an opaque random token in an HttpOnly, SameSite=Strict cookie (page
// script cannot read it, another site's page cannot send it); the database keeps only the token's hash.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import type { ApiErrorKind, ApiResult, MarrowApiMethod } from '../../shared/api';
import { API_HTTP_PREFIX } from '../../shared/shell';
import { dispatch } from '../boundary/dispatch';
import { isApiMethod } from '../boundary/validate';
import { resolveCellImage } from '../protocol/resolve-cell-image';
import { SECURITY_HEADERS } from '../security/content-security-policy';
import { isPathInside } from '../security/path-inside';
import type { MarrowService, SessionHolder } from '../service/types';

export const CELL_HTTP_PREFIX = '/cells/';
/** No API call carries more than a few kilobytes; a megabyte is generous and still bounds memory. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpHostOptions {
  service: Pick<MarrowService, 'locateCellImage' | 'forSession'>;
  /** The built renderer (out/renderer); omit to serve the API and cell images only. */
  rendererDir?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: '127.0.0.1' | 'localhost' | '::1';
}

export interface HttpHost {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  url: string;
  close(): Promise<void>;
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

class BodyTooLarge extends Error {}

export const SESSION_COOKIE = 'marrowcount_session';

function sessionToken(request: IncomingMessage): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : null;
    }
  }
  return null;
}

/** Secure on the lab server (HTTPS): the browser then never sends the cookie over plain HTTP. */
function sessionCookie(token: string | null, secure: boolean): string {
  const attributes = `HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
  return token === null ? `${SESSION_COOKIE}=; ${attributes}; Max-Age=0` : `${SESSION_COOKIE}=${token}; ${attributes}`;
}

export { sessionToken as sessionTokenOf };

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // The rest is read and dropped rather than the socket destroyed: a destroyed socket takes the 413 with it,
        // and a client that sent no Content-Length (a streamed body) would see only a reset connection.
        tooLarge = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolveBody(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, result: ApiResult<unknown>): void {
  const json = JSON.stringify(result);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(json);
}

export function sendText(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers });
  response.end(message);
}

/** Every answer under /api/ is an ApiResult, refusals included, so the renderer's transport always has a message. */
export function apiError(response: ServerResponse, status: number, kind: ApiErrorKind, message: string, field?: string): void {
  sendJson(response, status, { ok: false, error: field === undefined ? { kind, message } : { kind, message, field } });
}

/** A refusal an adapter hook answers an API call with, instead of running it. */
export interface ApiRefusal {
  status: number;
  kind: ApiErrorKind;
  message: string;
  headers?: Record<string, string>;
}

/** What the API handler passes its hooks: the method, its parsed arguments and the caller's session holder. */
export interface ApiCallContext {
  request: IncomingMessage;
  method: MarrowApiMethod;
  args: unknown;
  holder: SessionHolder;
}

export interface MarrowRequestHandlerOptions {
  service: Pick<MarrowService, 'locateCellImage' | 'forSession'>;
  /** The built renderer (out/renderer); null to serve the API and cell images only. */
  rendererDir: string | null;
  /** Whether an Origin header names this server (another origin's page must not call the API). */
  isOwnOrigin(origin: string): boolean;
  /** The lab server sets the cookie Secure (it is served over HTTPS only). */
  secureCookie: boolean;
  /** The calling station's address, recorded in the audit log with the person (the lab server). */
  stationOf?(request: IncomingMessage): string;
  /** Runs before the method (after the body is parsed): a refusal stops the call. The lab server's CSRF and rate limits. */
  beforeApi?(call: ApiCallContext): ApiRefusal | null;
  /** Runs after the method: extra headers for the answer (set on `response` before it is sent), live events. */
  afterApi?(call: ApiCallContext & { result: ApiResult<unknown>; response: ServerResponse }): void;
  /** Headers added to every static renderer response (the lab server adds HSTS). */
  staticHeaders?: Readonly<Record<string, string>>;
}

export type MarrowRequestHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

/** The API, cell images and the static renderer: one handler shared by the loopback host and the lab server. */
export async function createMarrowRequestHandler(options: MarrowRequestHandlerOptions): Promise<MarrowRequestHandler> {
  const rendererRoot = options.rendererDir === null ? null : await realpath(resolve(options.rendererDir));
  const { service } = options;
  const holderOf = (request: IncomingMessage): SessionHolder => {
    const token = sessionToken(request);
    return options.stationOf === undefined ? { transport: 'http', token } : { transport: 'http', token, station: options.stationOf(request) };
  };

  async function handleApi(request: IncomingMessage, response: ServerResponse, method: string): Promise<void> {
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      apiError(response, 405, 'validation', 'API calls use POST.');
      return;
    }
    // A page from another origin open in the same browser could otherwise POST here (a "simple" request needs no
    // preflight); browsers always send Origin on cross-origin POSTs.
    const requestOrigin = request.headers.origin;
    if (requestOrigin !== undefined && !options.isOwnOrigin(requestOrigin)) {
      apiError(response, 403, 'internal', `API calls from another origin (${requestOrigin.slice(0, 100)}) are refused.`);
      return;
    }
    if (!isApiMethod(method)) {
      apiError(response, 404, 'not_found', `Unknown API method "${method.slice(0, 60)}".`);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        response.setHeader('Connection', 'close');
        apiError(response, 413, 'validation', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, 'args');
        return;
      }
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? { args: [] } : JSON.parse(body.toString('utf8'));
    } catch (e) {
      apiError(response, 400, 'validation', `The request body is not valid JSON (${(e as Error).message}).`, 'args');
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('args' in parsed)) {
      apiError(response, 400, 'validation', 'The request body must be {"args": [...]}.', 'args');
      return;
    }
    const holder = holderOf(request);
    const before = holder.token;
    const args = (parsed as { args: unknown }).args;
    const refusal = options.beforeApi?.({ request, method, args, holder }) ?? null;
    if (refusal !== null) {
      for (const [name, value] of Object.entries(refusal.headers ?? {})) response.setHeader(name, value);
      apiError(response, refusal.status, refusal.kind, refusal.message);
      return;
    }
    const result = await dispatch(service.forSession(holder), method, args);
    if (holder.token !== before) response.setHeader('Set-Cookie', sessionCookie(holder.token, options.secureCookie));
    options.afterApi?.({ request, method, args, holder, result, response });
    sendJson(response, 200, result);
  }

  async function handleCell(request: IncomingMessage, response: ServerResponse, rest: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendText(response, 405, 'Cell images are read with GET.', { Allow: 'GET, HEAD' });
      return;
    }
    // Cell images are patient data: only for a browser with an unlocked session.
    const session = await service.forSession(holderOf(request)).getSession();
    if (session.state !== 'active') {
      sendText(response, 403, 'Log in to see cell images.');
      return;
    }
    const resolution = await resolveCellImage((c, i) => service.locateCellImage(c, i), rest);
    if (!resolution.ok) {
      sendText(response, resolution.status, resolution.status === 404 ? 'No such cell image.' : 'Forbidden.');
      return;
    }
    response.writeHead(200, {
      'Content-Type': resolution.contentType,
      'Content-Length': resolution.data.length,
      'Cache-Control': 'private, max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    });
    if (request.method === 'HEAD') response.end();
    else response.end(resolution.data);
  }

  async function handleStatic(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
    if (!rendererRoot) {
      sendText(response, 404, 'Not found.');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendText(response, 405, 'Method not allowed.', { Allow: 'GET, HEAD' });
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      sendText(response, 400, 'Malformed path.');
      return;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) {
      sendText(response, 400, 'Malformed path.');
      return;
    }
    const wanted = decoded === '/' ? '/index.html' : decoded;
    let file = resolve(rendererRoot, `.${wanted}`);
    let info = await stat(file).catch(() => null);
    // The renderer is a single page: paths without an extension are its routes and get index.html.
    if ((!info || info.isDirectory()) && extname(wanted) === '') {
      file = join(rendererRoot, 'index.html');
      info = await stat(file).catch(() => null);
    }
    if (!info || !info.isFile()) {
      sendText(response, 404, 'Not found.');
      return;
    }
    const real = await realpath(file);
    if (!isPathInside(rendererRoot, real)) {
      sendText(response, 403, 'Forbidden.');
      return;
    }
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      ...options.staticHeaders,
      'Content-Type': STATIC_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Cache-Control': 'no-cache',
      'X-Frame-Options': 'DENY',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(real).pipe(response);
  }

  return async function handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (url.pathname.startsWith(API_HTTP_PREFIX)) {
      await handleApi(request, response, url.pathname.slice(API_HTTP_PREFIX.length));
    } else if (url.pathname.startsWith(CELL_HTTP_PREFIX)) {
      await handleCell(request, response, url.pathname.slice(CELL_HTTP_PREFIX.length));
    } else {
      await handleStatic(request, response, url.pathname);
    }
  };
}

export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  const host = options.host ?? '127.0.0.1';
  let origin = '';
  /** The names this server is reachable by on loopback; any other Host or Origin is someone else's page. */
  const ownOrigins = (): string[] => {
    const port = new URL(origin).port;
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  };
  const handleMarrow = await createMarrowRequestHandler({
    service: options.service,
    rendererDir: options.rendererDir ?? null,
    isOwnOrigin: (o) => ownOrigins().includes(o),
    secureCookie: false,
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // DNS rebinding: a hostile name that resolves to 127.0.0.1 would make this server same-origin with that site.
    const hostHeader = request.headers.host ?? '';
    if (!ownOrigins().includes(`http://${hostHeader}`)) {
      sendText(response, 421, 'Unexpected Host header.');
      return;
    }
    await handleMarrow(request, response, new URL(request.url ?? '/', origin));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((e: unknown) => {
      console.error('MarrowCount HTTP host: request failed', request.method, request.url, e);
      if (!response.headersSent) sendText(response, 500, 'Internal error.');
      else response.destroy();
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${hostInUrl}:${address.port}`;

  return {
    url: origin,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((e) => (e ? reject(e) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}
