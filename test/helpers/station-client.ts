// A scripted review station: an HTTPS client of the lab server that behaves as the browser renderer does. It trusts
// the server's certificate only (pinned, as the desktop station pins it), keeps the session cookie, sends the CSRF
// header the server hands out, and marks its requests same-origin as a browser would. Used by the server tests and
// the station benchmark.
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { API_METHODS, MarrowApiError, type ApiResult, type MarrowApi } from '../../src/shared/api';

export interface StationResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface StationRequest {
  method?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Leave out the browser's same-origin headers (Origin, Sec-Fetch-Site), as a non-browser client. */
  bare?: boolean;
  /** Leave out the CSRF header. */
  noCsrf?: boolean;
}

export class Station {
  cookie = '';
  csrf: string | null = null;
  readonly agent: Agent;
  private readonly origin: string;

  constructor(
    readonly baseUrl: string,
    ca: Buffer | string,
    readonly name = 'station',
  ) {
    this.agent = new Agent({ ca, keepAlive: true, maxSockets: 4 });
    this.origin = new URL(baseUrl).origin;
  }

  /**
   * A request on a kept-alive connection the server has just closed as idle fails with ECONNRESET before the server
   * read it; that one case is sent again on a new connection (as Node's documentation advises), nothing else.
   */
  async request(path: string, options: StationRequest = {}): Promise<StationResponse> {
    try {
      return await this.send(path, options);
    } catch (e) {
      if ((e as { code?: string; reusedSocket?: boolean }).code === 'ECONNRESET' && (e as { reusedSocket?: boolean }).reusedSocket === true)
        return this.send(path, options);
      throw e;
    }
  }

  private send(path: string, options: StationRequest): Promise<StationResponse> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = {
      ...(this.cookie === '' ? {} : { Cookie: this.cookie }),
      ...(options.bare ? {} : { Origin: this.origin, 'Sec-Fetch-Site': 'same-origin' }),
      ...(this.csrf === null || options.noCsrf ? {} : { 'X-MarrowCount-CSRF': this.csrf }),
      ...options.headers,
    };
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method: options.method ?? 'GET', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const setCookie = res.headers['set-cookie']?.[0];
          if (setCookie !== undefined) {
            const pair = setCookie.split(';')[0]!;
            this.cookie = /=$/.test(pair) ? '' : pair;
          }
          const token = res.headers['x-marrowcount-csrf'];
          if (typeof token === 'string') this.csrf = token;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      req.on('error', (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
      req.end(options.body);
    });
  }

  async call<T = unknown>(
    method: string,
    args: unknown[],
    options: StationRequest = {},
  ): Promise<{ status: number; result: ApiResult<T>; headers: IncomingHttpHeaders }> {
    const response = await this.request(`/api/${method}`, {
      ...options,
      method: 'POST',
      body: JSON.stringify({ args }),
      headers: { 'Content-Type': 'application/json', ...options.headers },
    });
    return { status: response.status, result: JSON.parse(response.body.toString('utf8')) as ApiResult<T>, headers: response.headers };
  }

  /** The typed API over this station's session; a refusal throws MarrowApiError as in the renderer. */
  get api(): MarrowApi {
    const entries = API_METHODS.map((method) => [
      method,
      async (...args: unknown[]) => {
        const { result } = await this.call(method, args);
        if (!result.ok) throw new MarrowApiError(result.error);
        return result.value;
      },
    ]);
    return Object.fromEntries(entries) as unknown as MarrowApi;
  }

  async login(login: string, password: string): Promise<void> {
    await this.api.getSession(); // as the renderer does on load: also hands out the CSRF header for a cookie it holds
    await this.api.login({ login, password });
  }

  /** Subscribes to the server's live events; `received` fills as they arrive. */
  subscribe(): Promise<{ received: { type: string; data: unknown; at: number }[]; close(): void }> {
    const url = new URL('/events', this.baseUrl);
    return new Promise((resolve, reject) => {
      const received: { type: string; data: unknown; at: number }[] = [];
      const req = httpsRequest(
        url,
        {
          method: 'GET',
          headers: { Cookie: this.cookie, Accept: 'text/event-stream', 'Sec-Fetch-Site': 'same-origin' },
          agent: false,
          ca: (this.agent.options as { ca?: Buffer }).ca,
        },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`events answered HTTP ${res.statusCode}`));
            res.resume();
            return;
          }
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const type = /^event: (.*)$/m.exec(frame)?.[1];
              const data = /^data: (.*)$/m.exec(frame)?.[1];
              if (type !== undefined && data !== undefined) received.push({ type, data: JSON.parse(data) as unknown, at: Date.now() });
            }
          });
          res.on('error', () => undefined);
          resolve({ received, close: () => req.destroy() });
        },
      );
      req.on('error', (e) => {
        if (!req.destroyed) reject(e);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
