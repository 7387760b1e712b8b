// Cross-site request protection for the lab server, in two layers:
// 1. The request must come from this server's own pages: Sec-Fetch-Site (sent by every current browser) must be
//    same-origin (or none: typed in the address bar), and an Origin header must name this server.
// 2. Every state-changing call made with a session carries X-MarrowCount-CSRF, an HMAC of the session token under
//    the server's secret. The server gives it in the same header on every API answer; a page of another site can
//    neither read that answer nor compute the value, so it cannot forge the header even where layer 1 is missing
//    (an old browser, a proxy that strips headers).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';

export const CSRF_HEADER = 'x-marrowcount-csrf';

export class CsrfGuard {
  constructor(private readonly secret: Buffer) {}

  /**
   * The secret is kept in the data folder (owner-readable only) so that it outlives a restart: sessions are in the
   * database and survive one, and a station whose server restarted goes on with its session and header.
   */
  static fromFile(file: string): CsrfGuard {
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (secret.length < 32) throw new Error(`${file} does not hold a CSRF secret of 32 bytes; delete it and restart (stations will reload).`);
    return new CsrfGuard(secret);
  }

  tokenFor(sessionToken: string): string {
    return createHmac('sha256', this.secret).update(sessionToken, 'utf8').digest('base64url');
  }

  /** Whether the request carries the token for its session cookie. */
  hasValidToken(request: IncomingMessage, sessionToken: string): boolean {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string') return false;
    const expected = Buffer.from(this.tokenFor(sessionToken));
    const given = Buffer.from(sent);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** Layer 1: null when the request may be from this server's own page; else why it is refused. */
export function crossSiteProblem(request: IncomingMessage): string | null {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    return `Requests from another site (Sec-Fetch-Site: ${site.slice(0, 20)}) are refused.`;
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `https://${request.headers.host ?? ''}`) {
    return `Requests from another origin (${origin.slice(0, 100)}) are refused.`;
  }
  return null;
}
