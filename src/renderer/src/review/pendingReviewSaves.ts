// Review decisions are saved in the background, one after another, and may still be on their way when the reviewer
// leaves the review screen. Signing the case must wait for them: a decision arriving after the sign-off would be
// refused as "case signed" and be missing from the signed differential.
import type { SerialQueue } from './serialQueue';

const queues = new Set<SerialQueue>();

/** Registers a review screen's save queue; the returned function (for an effect's cleanup) lets it go once idle. */
export function trackReviewSaves(queue: SerialQueue): () => void {
  queues.add(queue);
  return () => {
    void queue.idle().then(() => queues.delete(queue));
  };
}

/** Resolves once every review decision made so far, on any review screen, has been saved or has failed. */
export async function reviewSavesSettled(): Promise<void> {
  await Promise.all([...queues].map((queue) => queue.idle()));
}
