// Review decisions are saved in the background, one after another, and may still be on their way when the reviewer
// leaves the review screen. Signing the case must wait for them: a decision arriving after the sign-off would be
// refused as "case signed" and be missing from the signed differential.
import type { SerialQueue } from './serialQueue';

// Registrations per queue: React may run a screen's effect, its cleanup and the effect again (StrictMode), and the
// queue must stay tracked while any registration is live.
const queues = new Map<SerialQueue, number>();

/** Registers a review screen's save queue; the returned function (for an effect's cleanup) lets it go once idle. */
export function trackReviewSaves(queue: SerialQueue): () => void {
  queues.set(queue, (queues.get(queue) ?? 0) + 1);
  return () => {
    void queue.idle().then(() => {
      const left = (queues.get(queue) ?? 1) - 1;
      if (left > 0) queues.set(queue, left);
      else queues.delete(queue);
    });
  };
}

/** Resolves once every review decision made so far, on any review screen, has been saved or has failed. */
export async function reviewSavesSettled(): Promise<void> {
  await Promise.all([...queues.keys()].map((queue) => queue.idle()));
}

/** True while some review decision made on this screen is still being saved. */
export function reviewSavesPending(): boolean {
  return [...queues.keys()].some((queue) => queue.pending() > 0);
}
