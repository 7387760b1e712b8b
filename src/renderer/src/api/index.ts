// Picks the transport: the Electron preload's object when present, otherwise loopback HTTP. Every call passes
// through one wrapper that tells the session gate when the service answered "log in" or "locked", so that a call
// refused because the session ended or locked shows the login or lock screen instead of an error in a corner.
import { API_METHODS, type ApiErrorKind, type MarrowApi } from '../../../shared/api';
import { isApiError } from './errors';
import { createHttpApi } from './http-client';

let instance: MarrowApi | null = null;
const SESSION_KINDS: readonly ApiErrorKind[] = ['unauthenticated', 'session_locked'];
const sessionListeners = new Set<() => void>();

/** Called when any call is refused for the session's sake (ended, locked); returns the remover. */
export function onSessionProblem(listener: () => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

function watched(api: MarrowApi): MarrowApi {
  const entries = API_METHODS.map((method) => {
    const fn = api[method] as (...args: unknown[]) => Promise<unknown>;
    const call = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (e) {
        // login and unlock answer 'unauthenticated' for a wrong password: that is the form's business, not the gate's.
        if (method !== 'login' && method !== 'unlockSession' && method !== 'changePassword' && SESSION_KINDS.some((k) => isApiError(e, k))) {
          for (const listener of sessionListeners) listener();
        }
        throw e;
      }
    };
    return [method, call] as const;
  });
  return Object.fromEntries(entries) as unknown as MarrowApi;
}

export function getApi(): MarrowApi {
  if (instance === null) instance = watched(window.marrowcount ?? createHttpApi());
  return instance;
}

export function getShell() {
  return window.marrowShell;
}

export { MarrowApiError } from '../../../shared/api';
