// Re-analysis of a case with an approved lab model. It needs no network run: the base model's embedding and
// probabilities of each cell are stored (issue 13), so the (residual) head is applied to them and each prediction is
// stored under the lab model's models row with the same embedding and open-set distance, beside the old
// predictions, and the case's current model becomes the lab model.
//
// What a lab model can call: only the classes it learned. A cell of any other class gets one of those, so every cell
// whose base-model prediction is a class the lab model did not learn is flagged for review with that reason; the
// differential treats the other classes as the model's "not assessable" classes, exactly as for any model.
//
// It reads and writes through the store it is given: the service runs it in a worker thread with the worker's own
// store (reanalyse-worker.ts), so a 20,000-cell case does not block the window.
import type { CellClassCode } from '../../shared/cell-classes';
import { smallCropReason } from '../../shared/flag-reasons';
import { basePrior, headProbabilities, type LabHead } from '../../shared/lab-head';
import type { NewPrediction, StoredEmbedding } from '../db';
import type { Store } from '../db/contract';
import { predictionFromProbabilities } from '../inference/classify';
import type { FlaggingPolicy } from '../inference/model-manifest';

/** Why a model's prediction of a cell is a class the lab model cannot call. */
export { UNLEARNED_CLASS_REASON } from '../../shared/flag-reasons';

export interface ReanalysisJob {
  caseId: number;
  accession: string;
  /** The case's current model row (to tell "already analysed with it"). */
  caseModelRowId: number | null;
  lab: {
    modelRowId: number;
    head: LabHead;
  };
  base: {
    modelRowId: number;
    label: string;
    classes: CellClassCode[];
  };
  flagging: FlaggingPolicy;
  openSetThreshold: number | null;
  actor: string;
}

/** The case cannot be re-analysed as it stands (cells without a stored embedding); `field` names the argument. */
export class ReanalysisRefused extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'ReanalysisRefused';
  }
}

/** One cell's lab-model prediction, flagged by the same rule as any model's (inference/classify.ts). */
export function labPrediction(
  job: Pick<ReanalysisJob, 'lab' | 'base' | 'flagging' | 'openSetThreshold'>,
  e: StoredEmbedding,
  size: { width: number | null; height: number | null } | undefined,
): NewPrediction {
  const { head } = job.lab;
  const probabilities = headProbabilities(head, e.embedding, basePrior(head.classes, job.base.classes, e.probabilities));
  const openSet = e.openSetScore !== null && job.openSetThreshold !== null ? { distance: e.openSetScore, threshold: job.openSetThreshold } : null;
  const prediction = predictionFromProbabilities(probabilities, head.classes, job.flagging, undefined, openSet);
  const reasons = [...prediction.flagReasons];
  if (!head.classes.includes(e.predicted)) reasons.push({ kind: 'unlearned_class', detail: e.predicted });
  // A crop too small for the base model to judge is no better judged by a head on its embedding.
  const small = size === undefined || size.width === null || size.height === null ? null : smallCropReason(size.width, size.height);
  if (small !== null) reasons.unshift(small);
  return {
    imageId: e.imageId,
    predicted: prediction.predicted,
    probabilities,
    confidence: prediction.confidence,
    flagged: reasons.length > 0,
    flagReasons: reasons,
    embedding: e.embedding,
    openSetScore: e.openSetScore,
  };
}

/** Adds the lab model's predictions of the case's cells and makes it the case's model. Returns how many were added. */
export async function reanalyseWithLabModel(store: Store, job: ReanalysisJob): Promise<{ added: number }> {
  const embeddings = await store.predictions.listEmbeddings(job.caseId, job.base.modelRowId);
  const classifiable = (await store.images.listImages(job.caseId)).filter((i) => i.importError === null && i.duplicateOf === null);
  const withEmbedding = new Set(embeddings.map((e) => e.imageId));
  const missing = classifiable.filter((i) => !withEmbedding.has(i.id));
  if (missing.length > 0) {
    throw new ReanalysisRefused(
      `${missing.length} of the ${classifiable.length} cells of case ${job.accession} have no stored embedding of ${job.base.label} ` +
        `(first: ${missing[0]!.relativePath}); analyse the case with the base model first, then with the lab model.`,
      'caseId',
    );
  }
  const pending = new Set((await store.images.listImagesNeedingPrediction(job.caseId, job.lab.modelRowId)).map((i) => i.id));
  const sizeOf = new Map(classifiable.map((i) => [i.id, i] as const));
  const predictions = embeddings.filter((e) => pending.has(e.imageId)).map((e) => labPrediction(job, e, sizeOf.get(e.imageId)));
  // Already analysed with it to the last cell: nothing to add, nothing to record.
  if (predictions.length === 0 && job.caseModelRowId === job.lab.modelRowId) return { added: 0 };
  // One transaction: the case switches to the lab model only together with all of its predictions.
  await store.transaction(async (tx) => {
    await tx.cases.beginAnalysis({ caseId: job.caseId, modelRowId: job.lab.modelRowId, actor: job.actor });
    await tx.predictions.insertPredictions(job.lab.modelRowId, predictions, job.actor);
    await tx.cases.setCaseStatus(job.caseId, 'in_review', job.actor);
  });
  return { added: predictions.length };
}
