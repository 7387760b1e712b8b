// Running case analyses for the adapters (MarrowApi.startAnalysis / cancelAnalysis / getAnalysisProgress, and the
// CLI): start returns at once, a progress snapshot can be asked for at any time, cancel stops after the batch in
// hand. Each analysis runs in its own worker thread with its own database connection; one per case at a time.
import type { AnalysisProgress } from '../../shared/api';
import type { PipelineOutcome, PipelineProgress } from '../inference/pipeline';
import { startAnalysisWorker, type AnalysisWorkerHandle, type WorkerEntry } from '../inference/worker-client';
import type { AnalysisJob } from '../inference/worker-protocol';
import { ServiceError, toApiError } from './errors';

/** The job settings every case's analysis starts with (the case id aside). */
export interface AnalysisRunnerOptions extends Omit<AnalysisJob, 'caseId'> {
  /** Where the worker's code is; found next to this bundle (or its sources) when absent. */
  workerEntry?: WorkerEntry;
}

/** How an analysis ended, for callers that wait for it (the CLI). */
export interface AnalysisResult {
  progress: AnalysisProgress;
  /** Set when the run finished or was cancelled. */
  outcome: PipelineOutcome | null;
  /** The error that stopped it (phase 'failed'), typed as thrown in the worker. */
  error: Error | null;
}

interface RunningAnalysis {
  progress: AnalysisProgress;
  handle: AnalysisWorkerHandle | null;
  finished: Promise<AnalysisResult>;
}

export type ProgressListener = (progress: AnalysisProgress) => void;

function snapshot(progress: AnalysisProgress): AnalysisProgress {
  return { ...progress, failures: progress.failures.map((f) => ({ ...f })) };
}

/**
 * Work that completes an analysis after the worker has classified every cell (applying the approved lab model);
 * the run is 'done' only once it has settled. A throw makes the run 'failed' with the error's message.
 */
export type AfterAnalysis = (caseId: number) => Promise<void>;

export class AnalysisRunner {
  private readonly runs = new Map<number, RunningAnalysis>();
  private readonly listeners = new Set<ProgressListener>();
  private afterAnalysis: AfterAnalysis | null = null;

  constructor(private readonly options: AnalysisRunnerOptions) {}

  /** Sets the work run after each analysis that classified every cell (the service sets it once it is assembled). */
  setAfterAnalysis(afterAnalysis: AfterAnalysis): void {
    this.afterAnalysis = afterAnalysis;
  }

  /** Starts (or resumes) the analysis of a stored case; returns its first progress snapshot at once. */
  start(caseId: number): AnalysisProgress {
    const current = this.runs.get(caseId);
    if (current && isRunning(current.progress)) {
      throw new ServiceError('conflict', `Case ${caseId} is already being analysed; wait for it to finish or cancel it.`);
    }
    const progress: AnalysisProgress = {
      caseId,
      phase: 'importing',
      done: 0,
      total: 0,
      classified: 0,
      failed: 0,
      duplicates: 0,
      cellsPerSecond: 0,
      etaSeconds: null,
      failures: [],
      message: null,
    };
    const run: RunningAnalysis = { progress, handle: null, finished: Promise.resolve({ progress, outcome: null, error: null }) };
    this.runs.set(caseId, run);

    const { workerEntry, ...settings } = this.options;
    run.handle = startAnalysisWorker({ ...settings, caseId }, (update) => this.update(run, update), ...(workerEntry === undefined ? [] : [workerEntry]));
    const after = this.afterAnalysis;
    const classified =
      after === null
        ? run.handle.result
        : run.handle.result.then(async (outcome) => {
            if (!outcome.cancelled) await after(caseId);
            return outcome;
          });
    run.finished = classified.then(
      (outcome): AnalysisResult => {
        // The last progress message already says done or cancelled; this only guards against a lost message.
        if (isRunning(run.progress)) this.set(run, { ...run.progress, phase: outcome.cancelled ? 'cancelled' : 'done' });
        run.handle = null;
        return { progress: snapshot(run.progress), outcome, error: null };
      },
      (error: unknown): AnalysisResult => {
        const body = toApiError(error);
        this.set(run, { ...run.progress, phase: 'failed', etaSeconds: null, message: body.message });
        run.handle = null;
        return { progress: snapshot(run.progress), outcome: null, error: error instanceof Error ? error : new Error(String(error)) };
      },
    );
    return snapshot(progress);
  }

  /** The latest progress of the case's analysis in this session; null when none ran. */
  getProgress(caseId: number): AnalysisProgress | null {
    const run = this.runs.get(caseId);
    return run ? snapshot(run.progress) : null;
  }

  /** Asks the analysis to stop after the batch in hand; returns the progress at the time of asking. */
  cancel(caseId: number): AnalysisProgress {
    const run = this.runs.get(caseId);
    if (!run) throw new ServiceError('not_found', `No analysis of case ${caseId} is running.`);
    run.handle?.cancel();
    return snapshot(run.progress);
  }

  /** Settles when the case's current analysis has ended (never rejects: failures are in the result). */
  async whenFinished(caseId: number): Promise<AnalysisResult> {
    const run = this.runs.get(caseId);
    if (!run) throw new ServiceError('not_found', `No analysis of case ${caseId} was started.`);
    return run.finished;
  }

  onProgress(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Cancels every running analysis and waits until their workers have closed the database. */
  async close(): Promise<void> {
    const running = [...this.runs.values()].filter((run) => isRunning(run.progress));
    for (const run of running) run.handle?.cancel();
    await Promise.all(running.map((run) => run.finished));
  }

  private update(run: RunningAnalysis, update: PipelineProgress): void {
    // With work after the analysis, 'done' waits for it: the run's end sets it (run.finished above).
    const phase = update.phase === 'done' && this.afterAnalysis !== null ? 'classifying' : update.phase;
    this.set(run, { ...run.progress, ...update, phase, message: null });
  }

  private set(run: RunningAnalysis, progress: AnalysisProgress): void {
    run.progress = progress;
    for (const listener of this.listeners) listener(snapshot(progress));
  }
}

export function isRunning(progress: AnalysisProgress): boolean {
  return progress.phase === 'importing' || progress.phase === 'classifying';
}
