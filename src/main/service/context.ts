// What every part of the service shares: the open store (either engine), the options it was made with and the
// analysis runner. The service reaches data only through the store's repositories (contract.ts).
import { actingUser, type ModelRow } from '../db';
import type { Repositories, Store } from '../db/contract';
import type { AnalysisRunner } from './analysis-runner';
import type { MarrowServiceOptions } from './types';

export interface ServiceContext {
  store: Store;
  options: MarrowServiceOptions;
  runner: AnalysisRunner;
  /** Asks the LIS delivery loop for a round now (after a sign-off, a resend or new settings). */
  wakeLis: () => void;
  /** The clock sessions are timed by (idle lock, lockout); tests move it. */
  now: () => Date;
}

/**
 * The printed name a change is recorded under: the session's person. Outside a session (the demo CLI on a database
 * without accounts, the LIS loop) the system's name; the rows then carry no user id.
 */
export function currentActor(_ctx?: ServiceContext): string {
  return actingUser()?.displayName ?? 'MarrowCount (no account)';
}

/** A model row by id (null for a case not analysed yet), cached: see modelCache. */
export type ModelLookup = (modelRowId: number | null, tx?: Repositories) => Promise<ModelRow | null>;

/**
 * Model rows are immutable once registered, so a lookup per call is cached for the service's lifetime; calls that
 * interleave while a read is on its way share it. Inside a transaction pass its repositories (`tx`): such a lookup
 * never waits on a read through the store, which on SQLite would wait for the transaction itself to end.
 */
export function modelCache(ctx: ServiceContext): ModelLookup {
  const known = new Map<number, ModelRow>();
  const pending = new Map<number, Promise<ModelRow>>();
  return async (modelRowId, tx) => {
    if (modelRowId === null) return null;
    const row = known.get(modelRowId);
    if (row !== undefined) return row;
    if (tx !== undefined) {
      const read = await tx.models.getModel(modelRowId);
      known.set(modelRowId, read);
      return read;
    }
    let reading = pending.get(modelRowId);
    if (reading === undefined) {
      reading = ctx.store.models
        .getModel(modelRowId)
        .then((read) => {
          known.set(modelRowId, read);
          return read;
        })
        .finally(() => pending.delete(modelRowId));
      pending.set(modelRowId, reading);
    }
    return reading;
  };
}
