import { describe, expect, it } from 'vitest';
import { reviewSavesSettled, trackReviewSaves } from '../../../src/renderer/src/review/pendingReviewSaves';
import { createSerialQueue } from '../../../src/renderer/src/review/serialQueue';

/** A save that finishes only when release() is called. */
function heldSave(): { task: () => Promise<void>; release: () => void } {
  let release = () => {};
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { task: () => done, release };
}

/** Whether `promise` has settled after the microtasks queued so far have run. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

describe('pending review saves', () => {
  it('holds a sign-off back until every tracked save has settled', async () => {
    const queue = createSerialQueue(() => {});
    const untrack = trackReviewSaves(queue);
    const save = heldSave();
    void queue.enqueue(save.task);
    const settled = reviewSavesSettled();
    expect(await settledNow(settled)).toBe(false);
    save.release();
    expect(await settledNow(settled)).toBe(true);
    untrack();
  });

  it('keeps a queue tracked while a registration is live, across an effect run twice (StrictMode)', async () => {
    const queue = createSerialQueue(() => {});
    const first = trackReviewSaves(queue);
    first(); // cleanup of the first run, then the effect runs again
    const second = trackReviewSaves(queue);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the first cleanup's idle() has resolved
    const save = heldSave();
    void queue.enqueue(save.task);
    expect(await settledNow(reviewSavesSettled())).toBe(false);
    save.release();
    second();
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Unmounted and idle: no longer tracked, so a later save of that queue no longer holds anything back.
    const late = heldSave();
    void queue.enqueue(late.task);
    expect(await settledNow(reviewSavesSettled())).toBe(true);
    late.release();
  });
});
