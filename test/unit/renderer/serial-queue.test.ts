import { describe, expect, it } from 'vitest';
import { createSerialQueue } from '../../../src/renderer/src/review/serialQueue';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('serial save queue', () => {
  it('starts each save only after the one before it has settled, in the order they were made', async () => {
    const queue = createSerialQueue(() => undefined);
    const events: string[] = [];
    const first = deferred();
    void queue.enqueue(async () => {
      events.push('first started');
      await first.promise;
      events.push('first done');
    });
    void queue.enqueue(async () => {
      events.push('second started');
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(events).toEqual(['first started']);
    first.resolve();
    await queue.idle();
    expect(events).toEqual(['first started', 'first done', 'second started']);
  });

  it('goes on with the next save after one fails, and hands the failure on', async () => {
    const unexpected: unknown[] = [];
    const queue = createSerialQueue((error) => unexpected.push(error));
    const done: string[] = [];
    void queue.enqueue(async () => {
      throw new Error('database locked');
    });
    void queue.enqueue(async () => {
      done.push('after the failure');
    });
    await queue.idle();
    expect(done).toEqual(['after the failure']);
    expect(unexpected).toHaveLength(1);
    expect((unexpected[0] as Error).message).toBe('database locked');
  });

  it('is idle at once when nothing was enqueued', async () => {
    await expect(createSerialQueue(() => undefined).idle()).resolves.toBeUndefined();
  });
});
