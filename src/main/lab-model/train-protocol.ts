// Messages between the service and the lab-model training worker. The cells travel packed (one Float32Array of
// embeddings, parallel arrays for the rest) because 50,000 small objects would cost more to clone than to train.
// Cancel is a shared flag, not a message: training is one synchronous loop, so the worker never reads its port
// while it runs, but it reads the flag every mini-batch.
import type { CellClassCode } from '../../shared/cell-classes';
import type { HeadTrainingOptions } from '../../shared/lab-head';
import type { LabTrainingResult } from '../../shared/lab-training';

export interface PackedCells {
  dim: number;
  caseKeys: string[];
  labels: CellClassCode[];
  /** cells x dim, row-major. */
  embeddings: Float32Array;
  openSetScores: (number | null)[];
  basePredicted: CellClassCode[];
  baseConfidence: number[];
  baseClasses: CellClassCode[];
  /** cells x baseClasses.length: the base model's stored probabilities. */
  baseProbabilities: Float32Array;
}

export interface TrainingJob {
  cells: PackedCells;
  minimumPerClass: number;
  openSetThreshold: number | null;
  options?: Partial<HeadTrainingOptions>;
  /** Int32Array(1) over a SharedArrayBuffer: 1 = cancel. */
  cancelFlag: SharedArrayBuffer;
}

export type TrainingWorkerMessage =
  | { type: 'progress'; fraction: number }
  | { type: 'done'; result: LabTrainingResult }
  | { type: 'cancelled' }
  | { type: 'refused'; message: string }
  | { type: 'error'; message: string };
