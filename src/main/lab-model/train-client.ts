// Starting the lab-model training worker and talking to it. Like the analysis worker, it is its own bundle entry
// (out/main/lab-model-worker.js); run from the TypeScript sources (Vitest, tsx) it is train-worker.ts through tsx.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HeadTrainingOptions } from '../../shared/lab-head';
import type { LabTrainingResult } from '../../shared/lab-training';
import { findWorkerEntry, type WorkerEntry } from '../inference/worker-client';
import type { PackedCells, TrainingJob, TrainingWorkerMessage } from './train-protocol';

export type TrainingOutcome =
  { kind: 'done'; result: LabTrainingResult } | { kind: 'cancelled' } | { kind: 'refused'; message: string } | { kind: 'failed'; message: string };

export interface TrainingHandle {
  cancel(): void;
  /** Settles (never rejects) when the worker has exited. */
  readonly outcome: Promise<TrainingOutcome>;
}

const here = (): string => (typeof import.meta.dirname === 'string' ? import.meta.dirname : dirname(fileURLToPath(import.meta.url)));

export function resolveTrainingWorkerEntry(baseDir: string = here()): WorkerEntry {
  return findWorkerEntry(baseDir, 'lab-model-worker.js', 'train-worker.ts', 'lab-model training worker');
}

export function startTrainingWorker(
  job: { cells: PackedCells; minimumPerClass: number; openSetThreshold: number | null; options?: Partial<HeadTrainingOptions> },
  onProgress: (fraction: number) => void,
  entry: WorkerEntry = resolveTrainingWorkerEntry(),
): TrainingHandle {
  const cancelFlag = new SharedArrayBuffer(4);
  const workerData: TrainingJob = { ...job, cancelFlag };
  const worker = new Worker(entry.file, { workerData, execArgv: entry.execArgv });
  const outcome = new Promise<TrainingOutcome>((resolve) => {
    let last: TrainingOutcome | null = null;
    worker.on('message', (message: TrainingWorkerMessage) => {
      if (message.type === 'progress') onProgress(message.fraction);
      else if (message.type === 'done') last = { kind: 'done', result: message.result };
      else if (message.type === 'cancelled') last = { kind: 'cancelled' };
      else last = { kind: message.type === 'refused' ? 'refused' : 'failed', message: message.message };
    });
    worker.on('error', (error) => {
      last ??= { kind: 'failed', message: error.message };
    });
    worker.on('exit', (code) => resolve(last ?? { kind: 'failed', message: `The training worker stopped unexpectedly (exit code ${code}).` }));
  });
  return {
    cancel() {
      Atomics.store(new Int32Array(cancelFlag), 0, 1);
    },
    outcome,
  };
}
