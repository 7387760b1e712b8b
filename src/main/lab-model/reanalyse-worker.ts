// Entry of the lab-model re-analysis worker thread (bundled as out/main/lab-model-reanalyse-worker.js). Re-analysing
// a 20,000-cell case reads 20,000 embeddings, applies the head to each and stores 20,000 predictions: seconds of
// work that would freeze the window on the main thread. Here it opens its own store (openStore: on SQLite its own
// connection, WAL letting it write while the main thread reads; on PostgreSQL its own pool), like the analysis worker.
import { parentPort, workerData } from 'node:worker_threads';
import type { Store } from '../db/contract';
import { openStore } from '../db/store';
import { serializeError } from '../inference/worker-errors';
import { reanalyseWithLabModel, ReanalysisRefused } from './reanalyse';
import type { ReanalysisWorkerData, ReanalysisWorkerMessage } from './reanalyse-client';

if (parentPort === null) throw new Error('lab-model re-analysis worker: must be started as a worker thread');
const port = parentPort;
const { databaseLocation, job } = workerData as ReanalysisWorkerData;
const post = (message: ReanalysisWorkerMessage): void => port.postMessage(message);

async function run(): Promise<void> {
  let store: Store | null = null;
  try {
    store = await openStore(databaseLocation);
    post({ type: 'done', added: (await reanalyseWithLabModel(store, job)).added });
  } catch (error) {
    if (error instanceof ReanalysisRefused) post({ type: 'refused', message: error.message, field: error.field });
    else post({ type: 'failed', error: serializeError(error) });
  } finally {
    if (store !== null) await store.close();
  }
}

void run();
