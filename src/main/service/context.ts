// What every part of the service shares: the open database, the options it was made with and the analysis runner.
import { actingUser, getModel, type MarrowDatabase, type ModelRow } from '../db';
import type { AnalysisRunner } from './analysis-runner';
import type { MarrowServiceOptions } from './types';

export interface ServiceContext {
  db: MarrowDatabase;
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

/** Model rows are immutable once registered, so a lookup per call is cached for the service's lifetime. */
export function modelCache(ctx: ServiceContext): (modelRowId: number | null) => ModelRow | null {
  const cache = new Map<number, ModelRow>();
  return (modelRowId) => {
    if (modelRowId === null) return null;
    let row = cache.get(modelRowId);
    if (!row) {
      row = getModel(ctx.db, modelRowId);
      cache.set(modelRowId, row);
    }
    return row;
  };
}
