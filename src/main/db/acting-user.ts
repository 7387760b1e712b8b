// The person on whose behalf the current call runs, as the service's session check established it. The service
// enters it once per API call (service/session-api.ts); the repositories read it when they write a row that records
// a person (reviews, sign-offs, amendments, the audit log), so no caller can name someone else by passing a string.
// AsyncLocalStorage rather than a parameter threaded through every function: the context follows the call across
// its awaits (and into the analysis it starts), and calls of two windows interleaving cannot swap their persons.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ActingUser {
  id: number;
  displayName: string;
  roles: readonly string[];
}

const store = new AsyncLocalStorage<ActingUser>();

export function runAsUser<T>(user: ActingUser, fn: () => T): T {
  return store.run(user, fn);
}

/** The current call's person; undefined outside a session (the LIS loop, the demo CLI before any account). */
export function actingUser(): ActingUser | undefined {
  return store.getStore();
}

export function actingUserId(): number | null {
  return store.getStore()?.id ?? null;
}

/**
 * The station (network address) a call came from, on the lab server: kept apart from the person because calls
 * before login (a failed login) have a station and no person. The audit log records it with every row.
 */
const stationStore = new AsyncLocalStorage<string>();

export function runAtStation<T>(station: string | undefined, fn: () => T): T {
  return station === undefined ? fn() : stationStore.run(station, fn);
}

export function currentStation(): string | undefined {
  return stationStore.getStore();
}
