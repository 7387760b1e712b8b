// The browser transport of the API contract: the loopback HTTP host used by browser tests and development.
// Each method POSTs its arguments to /api/<method> on the page's own origin (the only origin the CSP allows).
import { apiOverTransport, MarrowApiError, type ApiResult, type MarrowApi, type MarrowApiMethod } from '../../../shared/api';
import { API_HTTP_PREFIX } from '../../../shared/shell';

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The lab server's CSRF header (src/main/server/csrf.ts): it hands the value out on every API answer and wants it
 * back on every call made with a session. The loopback host sends none, and then none is sent.
 */
const CSRF_HEADER = 'X-MarrowCount-CSRF';
let csrfToken: string | null = null;

/** The lab server's CSRF header for requests outside the API (uploads); empty where none was handed out. */
export function csrfHeaders(): Record<string, string> {
  return csrfToken === null ? {} : { [CSRF_HEADER]: csrfToken };
}

async function call(fetchFn: Fetch, method: MarrowApiMethod, args: unknown[]): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(`${API_HTTP_PREFIX}${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(csrfToken === null ? {} : { [CSRF_HEADER]: csrfToken }) },
      body: JSON.stringify({ args }),
    });
  } catch (cause) {
    throw new MarrowApiError({
      kind: 'io',
      message: `Could not reach the MarrowCount service (${method}): ${cause instanceof Error ? cause.message : String(cause)}.`,
    });
  }
  const handedOut = response.headers?.get(CSRF_HEADER) ?? null;
  if (handedOut !== null) csrfToken = handedOut;
  const text = await response.text();
  let body: ApiResult<unknown>;
  try {
    body = JSON.parse(text) as ApiResult<unknown>;
  } catch {
    throw new MarrowApiError({
      kind: 'internal',
      message: `The MarrowCount service answered ${method} with HTTP ${response.status} and a body that is not JSON.`,
      detail: text.slice(0, 500),
    });
  }
  if (typeof body !== 'object' || body === null || typeof body.ok !== 'boolean') {
    throw new MarrowApiError({
      kind: 'internal',
      message: `The MarrowCount service answered ${method} with HTTP ${response.status} and an unexpected body.`,
      detail: text.slice(0, 500),
    });
  }
  if (!body.ok) throw new MarrowApiError(body.error);
  return body.value;
}

/** Builds every method of MarrowApi from API_METHODS, so a new method in the contract needs no change here. */
export function createHttpApi(fetchFn: Fetch = (input, init) => fetch(input, init)): MarrowApi {
  return apiOverTransport((method, args) => call(fetchFn, method, args));
}
