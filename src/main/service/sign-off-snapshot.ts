// What is stored with every sign-off: the figures as they were signed (model, differential, review progress), so a
// later amendment cannot rewrite what was signed. Written by sign-off.ts, read by the LIS result (lis.ts); one shape.
import type { ModelInfo, ReviewProgress } from '../../shared/api';
import type { Differential } from '../../shared/differential';
import { ServiceError } from './errors';

/** Raised when the stored shape changes; a reader refuses a snapshot of a version it does not know. */
export const SIGN_OFF_SNAPSHOT_VERSION = 1;

export interface SignOffSnapshot {
  snapshotVersion: typeof SIGN_OFF_SNAPSHOT_VERSION;
  model: ModelInfo | null;
  differential: Differential;
  review: ReviewProgress;
  /** Flagged cells still unreviewed when it was signed (an override's reason says why). */
  unreviewedFlaggedAtSigning: number;
}

/** The stored snapshot of a sign-off; refuses one written by a newer MarrowCount instead of misreading it. */
export function readSignOffSnapshot(text: string, what: string): SignOffSnapshot {
  const snapshot = JSON.parse(text) as Partial<SignOffSnapshot>;
  if (snapshot.snapshotVersion !== SIGN_OFF_SNAPSHOT_VERSION) {
    throw new ServiceError(
      'database',
      `${what} was stored in sign-off snapshot format ${String(snapshot.snapshotVersion)}; this MarrowCount reads format ${SIGN_OFF_SNAPSHOT_VERSION}. Update MarrowCount.`,
    );
  }
  return snapshot as SignOffSnapshot;
}
