// Entry of the lab-model re-analysis worker thread (bundled as out/main/lab-model-reanalyse-worker.js). Re-analysing
// a 20,000-cell case reads 20,000 embeddings, applies the head to each and stores 20,000 predictions: seconds of
// work that would freeze the window on the main thread. Here it has its own database connection (SQLite WAL lets
// it write while the main thread reads), like the analysis worker.
import { parentPort, workerData } from 'node:worker_threads';
import { closeDatabase, openDatabase, type MarrowDatabase } from '../db';
import { serializeError } from '../inference/worker-errors';
import { reanalyseWithLabModel, ReanalysisRefused } from './reanalyse';
import type { ReanalysisWorkerData, ReanalysisWorkerMessage } from './reanalyse-client';

if (parentPort === null) throw new Error('lab-model re-analysis worker: must be started as a worker thread');
const port = parentPort;
const { databasePath, job } = workerData as ReanalysisWorkerData;
const post = (message: ReanalysisWorkerMessage): void => port.postMessage(message);

let db: MarrowDatabase | null = null;
try {
  db = openDatabase(databasePath);
  post({ type: 'done', added: reanalyseWithLabModel(db, job).added });
} catch (error) {
  if (error instanceof ReanalysisRefused) post({ type: 'refused', message: error.message, field: error.field });
  else post({ type: 'failed', error: serializeError(error) });
} finally {
  if (db !== null) closeDatabase(db);
}
