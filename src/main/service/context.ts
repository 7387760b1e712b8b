// What every part of the service shares: the open database, the options it was made with and the analysis runner.
import { actorNameOr } from '../../shared/actors';
import { getModel, getSettings, type MarrowDatabase, type ModelRow } from '../db';
import type { AnalysisRunner } from './analysis-runner';
import type { MarrowServiceOptions } from './types';

export interface ServiceContext {
  db: MarrowDatabase;
  options: MarrowServiceOptions;
  runner: AnalysisRunner;
  /** Asks the LIS delivery loop for a round now (after a sign-off, a resend or new settings). */
  wakeLis: () => void;
}

/** Who a change is recorded against when the call names no person: the configured reviewer, else the default name. */
export function currentActor(ctx: ServiceContext): string {
  return actorNameOr(getSettings(ctx.db).reviewerName);
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
