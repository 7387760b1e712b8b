// Starting the analysis worker and talking to it. The worker is its own bundle entry (out/main/inference-worker.js,
// next to the bundle that starts it); run from the TypeScript sources (Vitest, tsx) it is worker.ts, loaded
// through tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
// sharp must be loaded by the thread that starts workers: otherwise, on glibc, a worker's exit unloads libvips
// while it is still in use and the whole process crashes (lovell/sharp#2263, sharp's worker-thread notes).
import 'sharp';
import { deserializeError } from './worker-errors';
import type { PipelineOutcome, PipelineProgress } from './pipeline';
import type { AnalysisJob, ParentMessage, WorkerMessage } from './worker-protocol';

export interface AnalysisWorkerHandle {
  /** Asks the worker to stop after the batch in hand is stored. */
  cancel(): void;
  /** Settles when the worker has finished and closed its database connection. */
  readonly result: Promise<PipelineOutcome>;
}

export interface WorkerEntry {
  file: string;
  execArgv: string[];
}

const here = (): string => (typeof import.meta.dirname === 'string' ? import.meta.dirname : dirname(fileURLToPath(import.meta.url)));

/**
 * Where a worker's code is: its bundle entry (`bundled`, e.g. inference-worker.js) beside the module that starts it
 * or one folder up (that module may itself be bundled into a shared chunk, out/main/chunks/), else, run from the
 * TypeScript sources (Vitest, tsx), its `source` file in baseDir, loaded through tsx. Every worker is found this way.
 */
export function findWorkerEntry(baseDir: string, bundled: string, source: string, what: string): WorkerEntry {
  const file = [join(baseDir, bundled), join(baseDir, '..', bundled)].find((candidate) => existsSync(candidate));
  if (file !== undefined) return { file, execArgv: [] };
  const sourceFile = join(baseDir, source);
  if (existsSync(sourceFile)) return { file: sourceFile, execArgv: ['--import', 'tsx'] };
  throw new Error(`The ${what} is missing: no ${bundled} near ${baseDir} and no ${sourceFile}. Rebuild MarrowCount (npm run build).`);
}

export function resolveWorkerEntry(baseDir: string = here()): WorkerEntry {
  return findWorkerEntry(baseDir, 'inference-worker.js', 'worker.ts', 'analysis worker');
}

export function startAnalysisWorker(
  job: AnalysisJob,
  onProgress: (progress: PipelineProgress) => void,
  entry: WorkerEntry = resolveWorkerEntry(),
): AnalysisWorkerHandle {
  const worker = new Worker(entry.file, { workerData: job, execArgv: entry.execArgv });
  let settled = false;
  const result = new Promise<PipelineOutcome>((resolve, reject) => {
    let outcome: PipelineOutcome | null = null;
    let failure: Error | null = null;
    const failures: PipelineProgress['failures'] = [];
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') {
        failures.push(...message.newFailures);
        // The same growing array each time: copying it per batch would cost O(files²) on a folder of bad files.
        onProgress({ ...message.progress, failures });
      } else if (message.type === 'done') outcome = message.outcome;
      else failure = deserializeError(message.error);
    });
    worker.on('error', (error) => {
      failure ??= error;
    });
    // Settle on exit, not on the last message: by then the worker has released the session and closed its
    // connection, so a caller may reopen, copy or delete the database.
    worker.on('exit', (code) => {
      settled = true;
      if (failure !== null) reject(failure);
      else if (outcome !== null) resolve(outcome);
      else reject(new Error(`The analysis worker stopped unexpectedly (exit code ${code}).`));
    });
  });
  return {
    cancel() {
      if (!settled) worker.postMessage({ type: 'cancel' } satisfies ParentMessage);
    },
    result,
  };
}
