// Messages between the analysis worker thread and the thread that started it. Plain data only: they cross
// postMessage (structured clone), so errors travel as their fields and are rebuilt on the other side.
import type { FlaggingPolicy } from './model-manifest';
import type { PipelineOutcome, PipelineProgress } from './pipeline';

/**
 * In the reason of every `changedAfterImport` entry (also among the progress failures), so a reader of a plain
 * failure list (the CLI) can tell these cells, which still count as analysed, from the files that are not counted.
 * Kept here, with no runtime imports, so that reader need not load onnxruntime.
 */
export const KEPT_AS_IMPORTED = 'The case keeps the cell as it was imported';

export interface AnalysisJob {
  /** The database's location (a SQLite file or a PostgreSQL URL): the worker opens its own store there (db/store.ts). */
  databaseLocation: string;
  caseId: number;
  modelDir: string;
  batchSize?: number;
  intraOpThreads?: number;
  /** onnxruntime threads busy-wait between operators (see LoadModelOptions.allowSpinning). */
  allowSpinning?: boolean;
  flagging?: Partial<FlaggingPolicy>;
  actor?: string;
}

export interface SerializedError {
  name: string;
  message: string;
  /** DatabaseError kind. */
  kind?: string;
  /** ModelPackageError field. */
  field?: string;
  /** The file (ModelPackageError, ImageDecodeError) or folder (CaseFolderError) at fault. */
  file?: string;
  detail?: string;
  stack?: string;
}

/** Progress as posted: only the failures not posted before travel, so a folder of many bad files stays cheap. */
export interface ProgressMessage {
  type: 'progress';
  progress: Omit<PipelineProgress, 'failures'>;
  newFailures: PipelineProgress['failures'];
}

export type WorkerMessage = ProgressMessage | { type: 'done'; outcome: PipelineOutcome } | { type: 'failed'; error: SerializedError };

export type ParentMessage = { type: 'cancel' };
