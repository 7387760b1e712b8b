// Starting the lab-model re-analysis worker (reanalyse-worker.ts) and waiting for it. Like the other workers it is
// its own bundle entry (out/main/lab-model-reanalyse-worker.js); run from the TypeScript sources (Vitest, tsx) it is
// reanalyse-worker.ts through tsx.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { findWorkerEntry, type WorkerEntry } from '../inference/worker-client';
import { deserializeError } from '../inference/worker-errors';
import type { SerializedError } from '../inference/worker-protocol';
import { ReanalysisRefused, type ReanalysisJob } from './reanalyse';

export interface ReanalysisWorkerData {
  /** A SQLite file or a PostgreSQL URL: the worker opens its own store there. */
  databaseLocation: string;
  job: ReanalysisJob;
}

export type ReanalysisWorkerMessage =
  { type: 'done'; added: number } | { type: 'refused'; message: string; field: string } | { type: 'failed'; error: SerializedError };

const here = (): string => (typeof import.meta.dirname === 'string' ? import.meta.dirname : dirname(fileURLToPath(import.meta.url)));

export function resolveReanalysisWorkerEntry(baseDir: string = here()): WorkerEntry {
  return findWorkerEntry(baseDir, 'lab-model-reanalyse-worker.js', 'reanalyse-worker.ts', 'lab-model re-analysis worker');
}

/**
 * Runs reanalyseWithLabModel in a worker on its own store at the database's location. Resolves once the worker has
 * exited (its connection closed) with the number of predictions added; rejects with ReanalysisRefused or the
 * worker's error, rebuilt with its type.
 */
export function runReanalysisInWorker(
  databaseLocation: string,
  job: ReanalysisJob,
  entry: WorkerEntry = resolveReanalysisWorkerEntry(),
): Promise<{ added: number }> {
  const worker = new Worker(entry.file, { workerData: { databaseLocation, job } satisfies ReanalysisWorkerData, execArgv: entry.execArgv });
  return new Promise((resolve, reject) => {
    let last: ReanalysisWorkerMessage | null = null;
    let crash: Error | null = null;
    worker.on('message', (message: ReanalysisWorkerMessage) => {
      last = message;
    });
    worker.on('error', (error) => {
      crash ??= error;
    });
    worker.on('exit', (code) => {
      const message = last as ReanalysisWorkerMessage | null;
      if (message?.type === 'done') resolve({ added: message.added });
      else if (message?.type === 'refused') reject(new ReanalysisRefused(message.message, message.field));
      else if (message?.type === 'failed') reject(deserializeError(message.error));
      else reject(crash ?? new Error(`The lab-model re-analysis worker stopped unexpectedly (exit code ${code}).`));
    });
  });
}
