// Training a lab model in a worker thread: one training at a time per service. The worker does the arithmetic
// (lab-model/train-worker.ts); the main thread packs the reviewed cells, polls the progress and stores the result.
import type { LabModelTrainingProgress } from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import type { LabTrainingResult } from '../../shared/lab-training';
import type { ReviewedCell } from '../db';
import type { WorkerEntry } from '../inference/worker-client';
import { startTrainingWorker, type TrainingHandle } from '../lab-model/train-client';
import type { PackedCells } from '../lab-model/train-protocol';
import { ServiceError } from './errors';

/** The reviewed cells as the worker reads them: typed arrays, copied once across the thread boundary. */
export function pack(cells: readonly ReviewedCell[], baseClasses: CellClassCode[]): PackedCells {
  const dim = cells[0]?.embedding.length ?? 0;
  const embeddings = new Float32Array(cells.length * dim);
  const baseProbabilities = new Float32Array(cells.length * baseClasses.length);
  cells.forEach((c, i) => {
    baseProbabilities.set(c.baseProbabilities, i * baseClasses.length);
    if (c.embedding.length !== dim) {
      throw new ServiceError(
        'conflict',
        `Case ${c.accession}: a stored embedding has ${c.embedding.length} values, others ${dim}; they come from different models.`,
      );
    }
    embeddings.set(c.embedding, i * dim);
  });
  return {
    dim,
    caseKeys: cells.map((c) => c.accession),
    labels: cells.map((c) => c.label),
    embeddings,
    openSetScores: cells.map((c) => c.openSetScore),
    basePredicted: cells.map((c) => c.basePredicted),
    baseConfidence: cells.map((c) => c.baseConfidence),
    baseClasses,
    baseProbabilities,
  };
}

interface TrainingRun {
  progress: LabModelTrainingProgress;
  handle: TrainingHandle | null;
  started: number;
  finished: Promise<LabModelTrainingProgress>;
}

/** One lab-model training at a time per service; the worker thread does the arithmetic, main stores the result. */
export class LabTrainingRunner {
  private run: TrainingRun | null = null;

  constructor(private readonly workerEntry?: WorkerEntry) {}

  get running(): boolean {
    return this.run?.progress.phase === 'training';
  }

  start(
    cells: PackedCells,
    settings: { minimumPerClass: number; openSetThreshold: number | null; cases: number },
    store: (result: LabTrainingResult) => Promise<number>,
  ): LabModelTrainingProgress {
    if (this.running) throw new ServiceError('conflict', 'A lab model is already being trained; wait for it to finish or cancel it.');
    const progress: LabModelTrainingProgress = {
      phase: 'training',
      fraction: 0,
      cells: cells.labels.length,
      cases: settings.cases,
      seconds: 0,
      message: null,
      labModelId: null,
    };
    const started = performance.now();
    const run: TrainingRun = { progress, handle: null, started, finished: Promise.resolve(progress) };
    this.run = run;
    const seconds = () => (performance.now() - started) / 1000;
    run.handle = startTrainingWorker(
      { cells, minimumPerClass: settings.minimumPerClass, openSetThreshold: settings.openSetThreshold },
      (fraction) => {
        run.progress = { ...run.progress, fraction, seconds: seconds() };
      },
      ...(this.workerEntry === undefined ? [] : [this.workerEntry]),
    );
    run.finished = run.handle.outcome.then(async (outcome) => {
      run.handle = null;
      if (outcome.kind === 'done') {
        try {
          const labModelId = await store(outcome.result);
          run.progress = { ...run.progress, phase: 'done', fraction: 1, seconds: seconds(), labModelId };
        } catch (error) {
          run.progress = {
            ...run.progress,
            phase: 'failed',
            seconds: seconds(),
            message: `The trained lab model could not be stored: ${(error as Error).message}`,
          };
        }
      } else if (outcome.kind === 'cancelled') {
        run.progress = { ...run.progress, phase: 'cancelled', seconds: seconds() };
      } else {
        run.progress = { ...run.progress, phase: 'failed', seconds: seconds(), message: outcome.message };
      }
      return { ...run.progress };
    });
    return { ...progress };
  }

  progress(): LabModelTrainingProgress | null {
    return this.run === null ? null : { ...this.run.progress };
  }

  cancel(): LabModelTrainingProgress {
    if (this.run === null || !this.running) throw new ServiceError('not_found', 'No lab model is being trained.');
    this.run.handle?.cancel();
    return { ...this.run.progress };
  }

  /** Settles when the current training has ended and its result is stored. */
  async whenFinished(): Promise<LabModelTrainingProgress> {
    if (this.run === null) throw new ServiceError('not_found', 'No lab model training was started.');
    return this.run.finished;
  }

  async close(): Promise<void> {
    if (this.run === null) return;
    if (this.running) this.run.handle?.cancel();
    await this.run.finished;
  }
}
