// The lab server: the one MarrowApi of the application service, the built renderer and cell images, served over
// HTTPS to the lab's stations (the desktop app connected to it, or any current browser). The API handler is the
// loopback host's (src/main/http/serve-api.ts): one contract, one dispatch and validation. What this file adds is
// what a network needs and a loopback host does not: TLS only (plain HTTP is redirected or refused on the same
// port), CSRF protection, login rate limits, security headers, the station's address in the audit log, live
// events, uploads, and the limit on which folders a case may be read from.
import { mkdirSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { basename, extname, join } from 'node:path';
import type { MarrowApiMethod } from '../../shared/api';
import { mayCall } from '../../shared/roles';
import { isPathInside } from '../security/path-inside';
import { apiError, createMarrowRequestHandler, MAX_BODY_BYTES, sendJson, sendText, sessionTokenOf } from '../http/serve-api';
import { createMarrowService, type CreateServiceExtras, type MarrowService } from '../service/marrow-service';
import { CSRF_HEADER, CsrfGuard, crossSiteProblem } from './csrf';
import { changedCaseOf, createsCase, LiveEvents } from './live-events';
import { SlidingWindowLimiter, type RateLimit } from './rate-limit';
import type { ServerTls } from './tls';
import { parseManifest, UploadError, UploadStore, UPLOADS_PREFIX } from './uploads';

export const EVENTS_PATH = '/events';
/** Saved reports and exports (the service writes them on the server): GET /reports/<file name>, with a session. */
export const REPORTS_PREFIX = '/reports/';
const REPORT_TYPES: Record<string, string> = { '.pdf': 'application/pdf', '.csv': 'text/csv; charset=utf-8', '.json': 'application/json; charset=utf-8' };
/** Two years: once a browser has seen the server over HTTPS it never tries plain HTTP for it again. */
export const HSTS = 'max-age=63072000';

/** Calls a station may make with a session but without the CSRF header: reading the session is how it gets the header. */
const CSRF_EXEMPT: ReadonlySet<MarrowApiMethod> = new Set<MarrowApiMethod>(['getSession']);

export interface LabServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  tls: Pick<ServerTls, 'cert' | 'key'>;
  /** A SQLite file or a PostgreSQL URL (db/store.ts). */
  databaseLocation: string;
  /** Reports, LIS outbox and uploads go here. */
  dataDir: string;
  /** Case folders named by stations must lie under it; null: only uploaded cases. */
  casesRoot: string | null;
  modelDir: string;
  /** The built renderer (out/renderer); null serves the API only. */
  rendererDir: string | null;
  appVersion: string;
  loginLimits?: { perAddress: RateLimit; perLogin: RateLimit };
  /** Passed to the service (tests shorten batch sizes and LIS timeouts). */
  serviceExtras?: CreateServiceExtras;
}

export interface LabServer {
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  port: number;
  service: MarrowService;
  events: LiveEvents;
  close(): Promise<void>;
}

/** Per address: a lab's stations each log in a few times a day; 20 a minute is a script, not a person. */
export const DEFAULT_LOGIN_LIMITS = {
  perAddress: { max: 20, windowMs: 60_000 },
  perLogin: { max: 10, windowMs: 60_000 },
} as const;

/** Headers on every answer of the lab server, API and events included, not only pages. */
const NETWORK_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': HSTS,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

function stationOf(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export async function startLabServer(options: LabServerOptions): Promise<LabServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const uploads = new UploadStore(join(options.dataDir, 'uploads'));
  const service = await createMarrowService(
    {
      databaseLocation: options.databaseLocation,
      modelDir: options.modelDir,
      reportsDir: join(options.dataDir, 'reports'),
      lisOutboxDir: join(options.dataDir, 'lis-outbox'),
      cellImageUrl: (caseId, imageId) => `/cells/${caseId}/${imageId}`,
      appVersion: options.appVersion,
      caseFolderRoots: [...(options.casesRoot === null ? [] : [options.casesRoot]), uploads.root],
      namedPathRoot: join(options.dataDir, 'reports'),
    },
    options.serviceExtras,
  );
  const csrf = CsrfGuard.fromFile(join(options.dataDir, 'csrf-secret'));
  const events = new LiveEvents();
  const limits = options.loginLimits ?? DEFAULT_LOGIN_LIMITS;
  const perAddress = new SlidingWindowLimiter(limits.perAddress);
  const perLogin = new SlidingWindowLimiter(limits.perLogin);

  const handleMarrow = await createMarrowRequestHandler({
    service,
    rendererDir: options.rendererDir,
    isOwnOrigin: () => true, // checked before, against the Host the station used (crossSiteProblem)
    secureCookie: true,
    stationOf,
    beforeApi({ request, method, args, holder }) {
      if (holder.token !== null && !CSRF_EXEMPT.has(method) && !csrf.hasValidToken(request, holder.token)) {
        return {
          status: 403,
          kind: 'forbidden',
          message: `The request lacks this session's ${CSRF_HEADER} header (a cross-site request, or or a page from before the server's secret changed: reload it).`,
        };
      }
      if (method === 'login' || method === 'unlockSession' || method === 'createFirstAdmin') {
        const wait = Math.max(
          perAddress.take(stationOf(request)),
          method === 'login' ? perLogin.take(String((Array.isArray(args) ? (args[0] as { login?: unknown } | undefined)?.login : '') ?? '').toLowerCase()) : 0,
        );
        if (wait > 0) {
          const seconds = Math.ceil(wait / 1000);
          return {
            status: 429,
            kind: 'forbidden',
            message: `Too many login attempts from this station or for this login. Wait ${seconds} s and try again.`,
            headers: { 'Retry-After': String(seconds) },
          };
        }
      }
      return null;
    },
    afterApi({ method, args, holder, result, response }) {
      if (holder.token !== null) response.setHeader(CSRF_HEADER, csrf.tokenFor(holder.token));
      if (!result.ok) return;
      const caseId = changedCaseOf(method, args);
      if (caseId === null && !createsCase(method)) return;
      // Who: the session's person, read back through the API as any station would.
      void service
        .forSession(holder)
        .getSession()
        .then((session) => {
          const by = session.user?.displayName ?? 'someone';
          if (caseId !== null) events.publishCaseChange({ caseId, method, by, at: new Date().toISOString() });
          else events.publishCaseListChange(by);
        });
    },
    staticHeaders: { 'Strict-Transport-Security': HSTS },
  });

  /** The caller's session when active, else null (events and uploads need one, like the API). */
  async function activeUser(request: IncomingMessage) {
    const session = await service.forSession({ transport: 'http', token: sessionTokenOf(request), station: stationOf(request) }).getSession();
    return session.state === 'active' ? session.user : null;
  }

  async function handleEvents(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET') {
      sendText(response, 405, 'Events are read with GET.', { Allow: 'GET' });
      return;
    }
    if ((await activeUser(request)) === null) {
      sendText(response, 401, 'Log in to receive live updates.');
      return;
    }
    events.open(response);
  }

  async function handleReport(request: IncomingMessage, response: ServerResponse, name: string): Promise<void> {
    if (request.method !== 'GET') {
      sendText(response, 405, 'Reports are read with GET.', { Allow: 'GET' });
      return;
    }
    if ((await activeUser(request)) === null) {
      sendText(response, 401, 'Log in to download reports.');
      return;
    }
    let file: string;
    try {
      file = decodeURIComponent(name);
    } catch {
      sendText(response, 400, 'Malformed file name.');
      return;
    }
    const type = REPORT_TYPES[extname(file).toLowerCase()];
    const root = join(options.dataDir, 'reports');
    // A bare file name of the reports folder only: no sub-folder, no way out of it (symlinks followed).
    const real = type === undefined || file !== basename(file) || file.startsWith('.') ? null : await realpath(join(root, file)).catch(() => null);
    const realRoot = await realpath(root).catch(() => null);
    if (real === null || realRoot === null || !isPathInside(realRoot, real)) {
      sendText(response, 404, 'No such report.');
      return;
    }
    const data = await readFile(real);
    response.writeHead(200, {
      'Content-Type': type!,
      'Content-Length': data.length,
      'Content-Disposition': `attachment; filename="${file.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'Cache-Control': 'no-store',
    });
    response.end(data);
  }

  async function handleUploads(request: IncomingMessage, response: ServerResponse, rest: string): Promise<void> {
    const token = sessionTokenOf(request);
    const user = await activeUser(request);
    if (user === null || token === null) {
      apiError(response, 401, 'unauthenticated', 'Log in to upload cell images.');
      return;
    }
    if (!mayCall('createCase', user.roles)) {
      apiError(response, 403, 'forbidden', `Uploading a case's cells needs a technician; ${user.displayName} is not one.`);
      return;
    }
    if (request.method !== 'GET' && !csrf.hasValidToken(request, token)) {
      apiError(response, 403, 'forbidden', `The upload lacks this session's ${CSRF_HEADER} header.`);
      return;
    }
    try {
      const [uploadId, ...pathParts] = rest.split('/').filter((p, i) => i > 0 || p !== '');
      if (request.method === 'POST' && uploadId === undefined) {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of request) {
          size += (chunk as Buffer).length;
          if (size > MAX_BODY_BYTES * 32) throw new UploadError(413, 'The list of files is too large for one upload.');
          chunks.push(chunk as Buffer);
        }
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch (e) {
          throw new UploadError(400, `The list of files is not valid JSON (${(e as Error).message}).`);
        }
        sendJson(response, 201, { ok: true, value: uploads.create(parseManifest(body)) });
      } else if (request.method === 'GET' && uploadId !== undefined && pathParts.length === 0) {
        sendJson(response, 200, { ok: true, value: uploads.status(uploadId) });
      } else if (request.method === 'PUT' && uploadId !== undefined && pathParts.length > 0) {
        const path = pathParts.map((p) => decodeURIComponent(p)).join('/');
        const sha = request.headers['x-content-sha256'];
        const result = await uploads.put(uploadId, path, typeof sha === 'string' ? sha.toLowerCase() : undefined, request);
        sendJson(response, result.stored ? 201 : 200, { ok: true, value: { ...result.status, alreadyStored: !result.stored } });
      } else {
        sendText(response, 405, 'Uploads: POST /uploads, GET /uploads/<id>, PUT /uploads/<id>/<path>.');
      }
    } catch (e) {
      if (!(e instanceof UploadError)) throw e;
      if (!request.complete) {
        response.setHeader('Connection', 'close');
        request.resume();
      }
      const kind = e.status === 401 ? 'unauthenticated' : e.status === 404 ? 'not_found' : e.status === 409 ? 'conflict' : 'validation';
      apiError(response, e.status, kind, e.message, e.field);
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(NETWORK_HEADERS)) response.setHeader(name, value);
    const url = new URL(request.url ?? '/', `https://${request.headers.host ?? 'server'}`);
    const isPage =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !url.pathname.startsWith('/api/') &&
      url.pathname !== EVENTS_PATH &&
      !url.pathname.startsWith(UPLOADS_PREFIX) &&
      !url.pathname.startsWith(REPORTS_PREFIX);
    // A page may be opened from a link (cross-site navigation); everything else only from this server's own pages.
    if (!isPage) {
      const problem = crossSiteProblem(request);
      if (problem !== null) {
        apiError(response, 403, 'forbidden', problem);
        return;
      }
    }
    if (url.pathname === EVENTS_PATH) await handleEvents(request, response);
    else if (url.pathname.startsWith(REPORTS_PREFIX)) await handleReport(request, response, url.pathname.slice(REPORTS_PREFIX.length));
    else if (url.pathname === UPLOADS_PREFIX || url.pathname.startsWith(`${UPLOADS_PREFIX}/`))
      await handleUploads(request, response, url.pathname.slice(UPLOADS_PREFIX.length));
    else await handleMarrow(request, response, url);
  }

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((e: unknown) => {
      console.error('MarrowCount lab server: request failed', request.method, request.url, e);
      if (!response.headersSent) sendText(response, 500, 'Internal error.');
      else response.destroy();
    });
  };
  const https = createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, onRequest);
  // Plain HTTP on the same port: a page request is sent to the HTTPS address; anything else is refused, since its
  // cookie and data already crossed the network unencrypted and must not be acted on.
  const plain = createHttpServer((request, response) => {
    const host = request.headers.host ?? `${options.host}:${port}`;
    const target = `https://${host}${request.url ?? '/'}`;
    if ((request.method === 'GET' || request.method === 'HEAD') && !(request.url ?? '').startsWith('/api/')) {
      response.writeHead(308, { Location: target, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`MarrowCount's lab server speaks HTTPS only: ${target}\n`);
    } else {
      sendText(response, 403, `MarrowCount's lab server speaks HTTPS only; this request came over plain HTTP and was refused. Use https://${host}/.\n`);
    }
  });
  // One port for both: the first byte of a TLS connection is a handshake record (0x16); anything else is plain text.
  const sockets = new Set<Socket>();
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? https : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  https.on('tlsClientError', (_e, socket) => socket.destroy());
  // Stations sit idle between decisions; a longer keep-alive spares them a TLS handshake on the next one.
  https.keepAliveTimeout = 30_000;

  await new Promise<void>((resolveListen, reject) => {
    front.once('error', reject);
    front.listen(options.port, options.host, () => {
      front.off('error', reject);
      resolveListen();
    });
  });
  const address = front.address() as AddressInfo;
  const port = address.port;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  service.lisDelivery.start();

  let closed = false;
  return {
    url: `https://${hostInUrl}:${port}`,
    port,
    service,
    events,
    async close() {
      if (closed) return;
      closed = true;
      events.close();
      await new Promise<void>((resolveClose) => {
        front.close(() => resolveClose());
        for (const socket of sockets) socket.destroy();
      });
      https.close();
      plain.close();
      await service.close();
    },
  };
}
