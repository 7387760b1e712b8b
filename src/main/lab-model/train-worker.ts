// Entry of the lab-model training worker thread (bundled as out/main/lab-model-worker.js): trains and validates a
// head (src/shared/lab-training.ts) off the main thread, so the window stays responsive for the minute it may take.
import { parentPort, workerData } from 'node:worker_threads';
import { HeadTrainingCancelled } from '../../shared/lab-head';
import { LabTrainingRefused, trainAndValidate, type LabCell } from '../../shared/lab-training';
import type { TrainingJob, TrainingWorkerMessage } from './train-protocol';

if (parentPort === null) throw new Error('lab-model worker: must be started as a worker thread');
const port = parentPort;
const job = workerData as TrainingJob;
const post = (message: TrainingWorkerMessage): void => port.postMessage(message);
const cancel = new Int32Array(job.cancelFlag);

const { cells: packed } = job;
const cells: LabCell[] = packed.labels.map((label, i) => ({
  caseKey: packed.caseKeys[i]!,
  label,
  embedding: packed.embeddings.subarray(i * packed.dim, (i + 1) * packed.dim),
  openSetScore: packed.openSetScores[i] ?? null,
  basePredicted: packed.basePredicted[i]!,
  baseConfidence: packed.baseConfidence[i]!,
  baseProbabilities: packed.baseProbabilities.subarray(i * packed.baseClasses.length, (i + 1) * packed.baseClasses.length),
}));

try {
  const result = trainAndValidate(
    {
      cells,
      baseClasses: packed.baseClasses,
      minimumPerClass: job.minimumPerClass,
      openSetThreshold: job.openSetThreshold,
      ...(job.options ? { options: job.options } : {}),
    },
    (fraction) => post({ type: 'progress', fraction }),
    () => Atomics.load(cancel, 0) === 1,
  );
  post({ type: 'done', result });
} catch (error) {
  if (error instanceof HeadTrainingCancelled) post({ type: 'cancelled' });
  else if (error instanceof LabTrainingRefused) post({ type: 'refused', message: error.message });
  else post({ type: 'error', message: error instanceof Error ? `${error.message}` : String(error) });
}
