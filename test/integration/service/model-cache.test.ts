// modelCache (service/context.ts) on the asynchronous store: one read per model however many calls interleave, a
// failed read forgotten, and a lookup inside a transaction that never waits on a read queued behind that transaction
// (on SQLite the store's gate would make such a wait a deadlock).
import { describe, expect, it } from 'vitest';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { modelCache, type ServiceContext } from '../../../src/main/service/context';
import { addModel, openTemp } from '../db/helpers';

function contextOver(store: ServiceContext['store']): ServiceContext {
  return { store } as ServiceContext;
}

/** Rejects when `promise` has not settled within `ms`: a hang is reported as one, not as a test timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms))]);
}

describe('modelCache on the store', () => {
  it('reads a model once for calls that interleave, and answers null for a case without one', async () => {
    const { db } = openTemp();
    const model = addModel(db);
    const store = sqliteStore(db);
    let reads = 0;
    const counted = { ...store, models: { ...store.models, getModel: (id: number) => (reads++, store.models.getModel(id)) } };
    const modelOf = modelCache(contextOver(counted));
    const rows = await Promise.all([modelOf(model.id), modelOf(model.id), modelOf(model.id)]);
    expect(rows.map((r) => r?.sha256)).toEqual([model.sha256, model.sha256, model.sha256]);
    expect(await modelOf(model.id)).toBe(rows[0]);
    expect(reads).toBe(1);
    expect(await modelOf(null)).toBeNull();
  });

  it('forgets a failed read, so the next call reads again', async () => {
    const { db } = openTemp();
    const store = sqliteStore(db);
    const modelOf = modelCache(contextOver(store));
    await expect(modelOf(999)).rejects.toMatchObject({ kind: 'not_found' });
    const model = addModel(db);
    expect((await modelOf(model.id))?.id).toBe(model.id);
  });

  it('inside a transaction reads through tx, even while a read through the store waits for that transaction', async () => {
    const { db } = openTemp();
    const model = addModel(db);
    const store = sqliteStore(db);
    const modelOf = modelCache(contextOver(store));
    let outside: Promise<unknown> | null = null;
    const inside = store.transaction(async (tx) => {
      // Another request asks through the store meanwhile: its read is queued behind this transaction.
      outside = modelOf(model.id);
      return modelOf(model.id, tx);
    });
    expect((await within(inside, 10_000, 'the lookup inside the transaction'))?.id).toBe(model.id);
    expect(await within(outside!, 10_000, 'the lookup through the store')).toMatchObject({ id: model.id });
  });
});
