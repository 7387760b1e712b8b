// Review decisions are saved strictly one after another, in the order they were made: two quick key presses on the
// same cell must reach the database in that order, and one failed save must not stop or reorder the saves after it.

export interface SerialQueue {
  /** Runs `task` after every task enqueued before it has settled. The returned promise never rejects. */
  enqueue(task: () => Promise<void>): Promise<void>;
  /** Resolves once every task enqueued so far has settled. */
  idle(): Promise<void>;
  /** Tasks enqueued and not yet settled. */
  pending(): number;
}

export function createSerialQueue(onUnexpected: (error: unknown) => void): SerialQueue {
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  return {
    enqueue(task) {
      pending++;
      // Tasks report their own failures; anything that still escapes is handed on, never swallowed silently.
      tail = tail
        .then(task)
        .catch(onUnexpected)
        .finally(() => {
          pending--;
        });
      return tail;
    },
    idle() {
      return tail;
    },
    pending() {
      return pending;
    },
  };
}
