// The analysis of one case: find the crops, vet and store them, classify every stored cell that has no prediction
// from this model, in batches. It runs wherever it is called (the worker thread in the app and the CLI, in-process
// in tests) on the store it is given (either engine) and owns no thread or connection of its own.
//
// Each new file is read and decoded once: the decode that makes its tensor is also the check that it is a whole,
// readable image, so a corrupt file is recorded as an import failure in the same pass. Predictions of a batch are
// stored in one transaction, and cancellation is honoured between batches, so a stopped analysis leaves only whole
// batches. A re-run classifies only what has no prediction from this model (resume).
//
// Files that change between runs. A file that failed import and has different content now (the technician copied
// a good version over it) is imported again: a new record replaces the failed one, so it is classified and counted
// once and no longer listed as a failure. A file that imported well is never re-imported: its cell may be counted,
// reviewed and signed. If it changed or disappeared since, its stored cell and prediction stay as they were (counts
// do not move) and the run names it in `changedAfterImport`; a stored cell still waiting for this model's
// prediction is classified only if its bytes still hash to what was imported, else it is a failure of this run.
// Such a cell can have identical copies stored as its duplicates (an interrupted run stored them together): if its
// own file changed but a copy still holds the imported bytes, the cell is classified from the copy, so the content
// is counted once rather than not at all, and the run names it among the cells changed after import.
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { AnalysisPhase, AnalysisProgress, ImportFailure } from '../../shared/api';
import type { ImageFile, ImageRow, NewPrediction } from '../db';
import type { Repositories } from '../db/contract';
import { listCropFiles, inspectCrop, readStoredFile, type CropFile } from './case-folder';
import { predictionFromScores } from './classify';
import { smallCropReason } from '../../shared/flag-reasons';
import { openSetDistance } from './open-set';
import type { FlaggingPolicy } from './model-manifest';
import { modelRegistration, type LoadedModel } from './model-package';
import { preprocessInto, tensorLength } from './preprocess';
import { KEPT_AS_IMPORTED } from './worker-protocol';
import { sharedCropsGuard, type SharedCropsGuard } from './shared-crops-import';

/**
 * Cells per onnxruntime run (and per stored transaction), chosen with `npm run bench -- --batch-sweep`:
 * marrowcount-ref 1.0.0, 2,000 Matek crops end to end on 2 cores (AMD EPYC, 2026-11-27), batch 1 / 8 / 16 / 32 / 64
 * gave 78 / 161 / 176 / 174 / 174 cells/s at 199 / 226 / 249 / 259 / 304 MB peak RSS. Throughput is flat from 16;
 * 32 halves the transactions and progress messages of 16, and memory still grows with the batch (two batches are
 * in flight), so 32. A cancel waits for at most one batch.
 */
export const DEFAULT_BATCH_SIZE = 32;

/**
 * AnalysisProgress as the pipeline reports it; the runner adds the case and the message. `failures` lists first the
 * classified cells whose file changed or disappeared since import (kept and counted as imported;
 * `changedAfterImport`), then the files that failed in this run, and only ever grows during a run (the worker posts
 * only what is new). `done` counts the case's cells classified or failed, this run and earlier ones.
 */
export type PipelineProgress = Omit<AnalysisProgress, 'caseId' | 'message'>;

export interface PipelineHooks {
  onProgress?: (progress: PipelineProgress) => void;
  /** Polled between batches; true stops the run after the batch in hand is stored. */
  isCancelled?: () => boolean;
}

export interface PipelineOptions {
  batchSize?: number;
  /** Overrides the model's flagging thresholds / always-review classes (a lab's own policy). */
  flagging?: Partial<FlaggingPolicy>;
  /** Recorded in the audit log as the one who ran the analysis. */
  actor?: string;
}

export interface PipelineOutcome {
  cancelled: boolean;
  modelRowId: number;
  /** Cells classified in this run. */
  classified: number;
  /** Files found in the folder that were not in the case yet. */
  newFiles: number;
  duplicates: number;
  failures: ImportFailure[];
  /**
   * Files that failed import before and were imported again because their content changed (e.g. a good copy over a
   * truncated one).
   */
  reimported: string[];
  /**
   * Already classified cells whose file changed or disappeared since import, then cells classified in this run from an
   * identical copy because their own file changed before they were classified. They keep their stored prediction and
   * count; the reason says what happened and what to do.
   */
  changedAfterImport: ImportFailure[];
  seconds: number;
}

/**
 * A unit of work: a file not yet in the case (or whose stored record is a failed import: `failed`), or a stored
 * image still lacking this model's prediction.
 */
type WorkItem =
  | { kind: 'new'; file: CropFile; failed: ImageRow | null }
  /** copy: the relative path of an identical copy read instead of the image's own, changed file. */
  | { kind: 'stored'; image: ImageRow; path: string; copy?: string };

interface PreparedItem {
  item: WorkItem;
  /** Row for insertImages (new files only). */
  record: ImageFile | null;
  /** Index of this cell's tensor in the batch tensor, or -1 when it failed. */
  slot: number;
  failure: ImportFailure | null;
}

interface PreparedBatch {
  items: PreparedItem[];
  tensor: Float32Array;
  cells: number;
}

export async function analyseCaseFolder(
  store: Repositories,
  model: LoadedModel,
  caseId: number,
  hooks: PipelineHooks = {},
  options: PipelineOptions = {},
): Promise<PipelineOutcome> {
  const started = performance.now();
  const actor = options.actor ?? 'analysis';
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const policy: FlaggingPolicy = { ...model.manifest.flagging, ...options.flagging };
  const caseRow = await store.cases.getCase(caseId);
  const failures: ImportFailure[] = [];
  let changedAfterImport: ImportFailure[] = [];
  const cancelled = (): boolean => hooks.isCancelled?.() === true;

  // Done files by outcome, for a progress that tells classified cells apart from failed files and copies.
  const counts = { classified: 0, failed: 0, duplicates: 0 };
  const emit = (phase: AnalysisPhase, done: number, total: number, rate: number): void => {
    const remaining = Math.max(0, total - done);
    hooks.onProgress?.({
      phase,
      done,
      total,
      classified: counts.classified,
      failed: counts.failed,
      duplicates: counts.duplicates,
      cellsPerSecond: rate,
      etaSeconds: rate > 0 ? remaining / rate : remaining === 0 ? 0 : null,
      failures: [...changedAfterImport, ...failures],
    });
  };

  emit('importing', 0, 0, 0);
  const files = await listCropFiles(caseRow.folder);
  // The folder exists: listCropFiles has just read it.
  const caseRoot = await realpath(caseRow.folder);
  const stored = await store.images.listImages(caseId);
  const byPath = new Map(stored.map((image) => [image.relativePath, image]));
  const newFiles = files.filter((file) => !byPath.has(file.relativePath));
  const failedBefore = files.flatMap((file) => {
    const image = byPath.get(file.relativePath);
    return image !== undefined && image.importError !== null ? [{ file, image }] : [];
  });

  const modelRow = await store.models.registerModel(modelRegistration(model.manifest));
  const modelRowId = modelRow.id;
  await store.cases.beginAnalysis({ caseId, modelRowId, actor });

  const pendingStored = await store.images.listImagesNeedingPrediction(caseId, modelRowId);
  const pendingIds = new Set(pendingStored.map((image) => image.id));
  const classifiable = stored.filter((image) => image.importError === null && image.duplicateOf === null);
  const alreadyDone = classifiable.length - pendingStored.length;
  counts.classified = alreadyDone;
  changedAfterImport = await checkClassifiedFiles(
    caseRoot,
    classifiable.filter((image) => !pendingIds.has(image.id)),
  );
  const fromCopies = await readChangedFromCopies(caseRoot, pendingStored, stored);
  changedAfterImport.push(...fromCopies.notes);
  const work: WorkItem[] = [
    ...pendingStored.map((image): WorkItem => {
      const copy = fromCopies.copyOf.get(image.id);
      return copy === undefined
        ? { kind: 'stored', image, path: join(caseRow.folder, image.relativePath) }
        : { kind: 'stored', image, path: join(caseRow.folder, copy), copy };
    }),
    ...newFiles.map((file): WorkItem => ({ kind: 'new', file, failed: null })),
    ...failedBefore.map(({ file, image }): WorkItem => ({ kind: 'new', file, failed: image })),
  ];
  const total = alreadyDone + work.length;
  let done = alreadyDone;
  let classified = 0;
  let duplicates = 0;
  const reimported: string[] = [];
  let classifyStarted: number | null = null;
  const rate = (): number => (classifyStarted === null ? 0 : classified / Math.max(1e-3, (performance.now() - classifyStarted) / 1000));
  emit('classifying', done, total, 0);

  const batches: WorkItem[][] = [];
  for (let i = 0; i < work.length; i += batchSize) batches.push(work.slice(i, i + batchSize));

  const sharedCrops = await sharedCropsGuard(store, caseRow);
  let wasCancelled = false;
  // The next batch is decoded while the model runs on this one: sharp and onnxruntime both work off the JS thread.
  let next: Promise<PreparedBatch> | null = batches.length > 0 ? prepareBatch(batches[0]!, model, caseRoot) : null;
  for (let b = 0; b < batches.length; b++) {
    const prepared = await next!;
    if (cancelled()) {
      wasCancelled = true;
      break;
    }
    next = b + 1 < batches.length ? prepareBatch(batches[b + 1]!, model, caseRoot) : null;
    classifyStarted ??= performance.now();

    await holdBackSharedCrops(prepared, sharedCrops);
    const imageIds = await storeNewImages(store, caseId, prepared);
    duplicates += imageIds.duplicates;
    reimported.push(...imageIds.reimported);
    const predictions = await classifyPrepared(prepared, imageIds.byItem, model, policy);
    if (predictions.length > 0) await store.predictions.insertPredictions(modelRowId, predictions, actor);

    for (const entry of prepared.items) if (entry.failure) failures.push(entry.failure);
    classified += predictions.length;
    counts.classified = alreadyDone + classified;
    counts.failed = failures.length;
    counts.duplicates = duplicates;
    done += prepared.items.length;
    emit('classifying', done, total, rate());
  }
  if (next !== null) await next; // a cancelled run leaves no decode running behind it

  // A cancel that arrives after the last batch was stored changes nothing: the case is complete.
  // A stopped run says how far it got, so that every screen, report and export calls the result partial.
  if (wasCancelled) await store.partialAnalysis.recordCancellation({ caseId, filesAnalysed: done, filesTotal: total, actor });
  else await store.cases.setCaseStatus(caseId, 'in_review', actor);
  emit(wasCancelled ? 'cancelled' : 'done', done, total, rate());
  return {
    cancelled: wasCancelled,
    modelRowId,
    classified,
    newFiles: newFiles.length,
    duplicates,
    failures,
    reimported,
    changedAfterImport,
    seconds: (performance.now() - started) / 1000,
  };
}

async function prepareBatch(items: WorkItem[], model: LoadedModel, caseRoot: string): Promise<PreparedBatch> {
  const spec = model.manifest.input;
  const length = tensorLength(spec);
  const tensor = new Float32Array(items.length * length);
  const prepared = await Promise.all(
    items.map(async (item, index): Promise<PreparedItem> => {
      if (item.kind === 'new') {
        const entry = await prepareNew(item, item.file, index);
        // The same bytes that failed before fail again: nothing to store, and the stored failure is still listed.
        const unchanged = item.failed !== null && entry.record !== null && entry.record.importError !== null && entry.record.sha256 === item.failed.sha256;
        return unchanged ? { item, record: null, slot: -1, failure: null } : entry;
      }
      const current = await readStoredFile(caseRoot, item.path, item.image.sha256);
      if (current.state !== 'same') {
        const file = item.copy ?? item.image.relativePath;
        const what = current.state === 'missing' ? `${file} cannot be read (${current.message})` : `${file} has other content`;
        const reason =
          item.copy === undefined
            ? `${what}: the file changed or disappeared after it was imported, so it is not classified or counted. ` +
              'Restore the original file and run the analysis again.'
            : `${item.image.relativePath} changed after it was imported, and ${what} now too, so the cell is not classified ` +
              'or counted. Restore either file and run the analysis again.';
        return { item, record: null, slot: -1, failure: { file: item.image.relativePath, reason } };
      }
      try {
        await preprocessInto(current.data, spec, tensor, index * length, item.image.relativePath);
        return { item, record: null, slot: index, failure: null };
      } catch (error) {
        const reason = `${(error as Error).message}. It was whole when imported; restore the original file and run the analysis again.`;
        return { item, record: null, slot: -1, failure: { file: item.image.relativePath, reason } };
      }
    }),
  );
  return { items: prepared, tensor, cells: prepared.filter((p) => p.slot >= 0).length };

  async function prepareNew(item: WorkItem, file: CropFile, index: number): Promise<PreparedItem> {
    const inspection = await inspectCrop(file);
    if (!inspection.ok) {
      const record = failedRecord(file.relativePath, inspection.failure.reason, inspection.sha256, inspection.bytes);
      return { item, record, slot: -1, failure: inspection.failure };
    }
    const { crop } = inspection;
    const record: ImageFile = {
      relativePath: crop.relativePath,
      sha256: crop.sha256,
      bytes: crop.bytes,
      width: crop.width,
      height: crop.height,
      importError: null,
    };
    try {
      await preprocessInto(crop.data, spec, tensor, index * length, crop.relativePath);
    } catch (error) {
      const reason = `${(error as Error).message}. It is damaged or only partly copied; copy it again.`;
      return { item, record: { ...record, importError: reason }, slot: -1, failure: { file: crop.relativePath, reason } };
    }
    return { item, record, slot: index, failure: null };
  }
}

function failedRecord(relativePath: string, reason: string, sha256: string, bytes: number): ImageFile {
  return { relativePath, sha256, bytes, width: null, height: null, importError: reason };
}

/** How many stored files are read at once when checking that classified cells' files are unchanged. */
const CHECK_CONCURRENCY = 16;

/**
 * Classified cells whose file changed or disappeared since import. Their stored prediction keeps counting (the
 * cell that was analysed and possibly reviewed is the record); the run only says so, so nothing changes silently.
 */
async function checkClassifiedFiles(caseRoot: string, images: readonly ImageRow[]): Promise<ImportFailure[]> {
  const changed: ImportFailure[] = [];
  for (let i = 0; i < images.length; i += CHECK_CONCURRENCY) {
    const states = await Promise.all(
      images
        .slice(i, i + CHECK_CONCURRENCY)
        .map(async (image) => ({ image, current: await readStoredFile(caseRoot, join(caseRoot, image.relativePath), image.sha256) })),
    );
    for (const { image, current } of states) {
      if (current.state === 'same') continue;
      const what =
        current.state === 'missing' ? `cannot be read any more (${current.message})` : 'has different content from the file that was imported and classified';
      changed.push({
        file: image.relativePath,
        reason:
          `${image.relativePath} changed on disk after it was analysed: it ${what}. ${KEPT_AS_IMPORTED} (its result and any ` +
          'review still count); restore the original file, or start a new case to analyse the new one.',
      });
    }
  }
  return changed;
}

/**
 * For stored cells still waiting for a prediction whose own file changed or disappeared: an identical copy stored as
 * their duplicate that still holds the imported bytes (the first, in import order). Only cells that have copies are
 * read here; every file is checked against its imported hash again when its batch reads it.
 */
async function readChangedFromCopies(
  caseRoot: string,
  pending: readonly ImageRow[],
  stored: readonly ImageRow[],
): Promise<{ copyOf: Map<number, string>; notes: ImportFailure[] }> {
  const copies = new Map<number, ImageRow[]>();
  for (const image of stored) {
    if (image.duplicateOf === null) continue;
    const list = copies.get(image.duplicateOf);
    if (list === undefined) copies.set(image.duplicateOf, [image]);
    else list.push(image);
  }
  const copyOf = new Map<number, string>();
  const notes: ImportFailure[] = [];
  for (const image of pending) {
    const candidates = copies.get(image.id);
    if (candidates === undefined) continue;
    const own = await readStoredFile(caseRoot, join(caseRoot, image.relativePath), image.sha256);
    if (own.state === 'same') continue;
    for (const copy of candidates) {
      if ((await readStoredFile(caseRoot, join(caseRoot, copy.relativePath), image.sha256)).state !== 'same') continue;
      copyOf.set(image.id, copy.relativePath);
      const what = own.state === 'missing' ? `cannot be read any more (${own.message})` : 'has different content from the file that was imported';
      notes.push({
        file: image.relativePath,
        reason:
          `${image.relativePath} changed on disk after it was imported, before it was classified: it ${what}. It is classified ` +
          `from ${copy.relativePath}, an identical copy imported with it. ${KEPT_AS_IMPORTED} (its result and any review ` +
          'count); restore the original file, or start a new case to analyse the new one.',
      });
      break;
    }
  }
  return { copyOf, notes };
}

/** New files whose content is another patient's case's, unconfirmed: stored as failed imports, not classified (issue 21). */
async function holdBackSharedCrops(prepared: PreparedBatch, guard: SharedCropsGuard): Promise<void> {
  const fresh = prepared.items.filter((p) => p.item.kind === 'new' && p.record !== null && p.record.importError === null);
  const reasons = await guard.refusals(fresh.map((p) => p.record!.sha256));
  if (reasons.size === 0) return;
  for (const entry of fresh) {
    const reason = reasons.get(entry.record!.sha256.toLowerCase());
    if (reason === undefined) continue;
    entry.record = { ...entry.record!, importError: reason };
    entry.slot = -1;
    entry.failure = { file: entry.record.relativePath, reason };
  }
  prepared.cells = prepared.items.filter((p) => p.slot >= 0).length;
}

/** Stores the batch's new files (good and failed) and maps each prepared item to its image id, when it is to be classified. */
async function storeNewImages(
  store: Repositories,
  caseId: number,
  prepared: PreparedBatch,
): Promise<{ byItem: Map<PreparedItem, number>; duplicates: number; reimported: string[] }> {
  const byItem = new Map<PreparedItem, number>();
  const records = prepared.items.filter((p) => p.record !== null).map((p) => p.record!);
  const ids = new Map<string, ImageRow>();
  let duplicates = 0;
  let reimported: string[] = [];
  if (records.length > 0) {
    const result = await store.images.insertImages(caseId, records);
    for (const row of result.inserted) ids.set(row.relativePath, row);
    duplicates = result.duplicates.length;
    reimported = result.reimported;
  }
  for (const entry of prepared.items) {
    if (entry.slot < 0) continue;
    if (entry.item.kind === 'stored') {
      byItem.set(entry, entry.item.image.id);
      continue;
    }
    const row = ids.get(entry.item.file.relativePath);
    // A duplicate of a cell already in the case is stored but never classified or counted.
    if (row && row.duplicateOf === null && row.importError === null) byItem.set(entry, row.id);
  }
  return { byItem, duplicates, reimported };
}

/** The crop's width and height as inspected on import (stored with the image), or null when not known. */
function cropSizeOf(entry: PreparedItem): { width: number; height: number } | null {
  const stored = entry.item.kind === 'stored' ? entry.item.image : entry.record;
  if (stored === null || stored.width === null || stored.height === null) return null;
  return { width: stored.width, height: stored.height };
}

async function classifyPrepared(
  prepared: PreparedBatch,
  imageIds: Map<PreparedItem, number>,
  model: LoadedModel,
  policy: FlaggingPolicy,
): Promise<NewPrediction[]> {
  const spec = model.manifest.input;
  const length = tensorLength(spec);
  const cells = prepared.items.filter((p) => imageIds.has(p));
  if (cells.length === 0) return [];

  let data = prepared.tensor;
  if (cells.length !== prepared.items.length) {
    // Failed or duplicate cells leave holes; the model runs only on the cells to be stored.
    data = new Float32Array(cells.length * length);
    cells.forEach((cell, i) => data.set(prepared.tensor.subarray(cell.slot * length, (cell.slot + 1) * length), i * length));
  }
  const input = new ort.Tensor('float32', data, [cells.length, 3, spec.height, spec.width]);
  const output = await model.session.run({ [spec.name]: input });
  const scores = output[model.manifest.output.name];
  if (!scores) throw new Error(`The model returned no output named "${model.manifest.output.name}".`);
  const values = scores.data as Float32Array;
  const classes = model.manifest.classes.length;
  const embeddingSpec = model.manifest.embedding;
  const embeddings = embeddingSpec === null ? null : (output[embeddingSpec.name]?.data as Float32Array | undefined);
  if (embeddingSpec !== null && embeddings === undefined) throw new Error(`The model returned no output named "${embeddingSpec.name}".`);
  return cells.map((cell, i) => {
    const embedding = embeddings && embeddingSpec ? embeddings.slice(i * embeddingSpec.dim, (i + 1) * embeddingSpec.dim) : null;
    const openSet =
      embedding !== null && model.openSet !== null ? { distance: openSetDistance(model.openSet, embedding), threshold: model.openSet.threshold } : null;
    const prediction = predictionFromScores(values.subarray(i * classes, (i + 1) * classes), model.manifest, policy, openSet);
    // A crop smaller than the model can judge is flagged whatever its confidence (a 64 px crop reads as an artefact at 95%).
    const size = cropSizeOf(cell);
    const small = size === null ? null : smallCropReason(size.width, size.height);
    const reasons = small === null ? prediction.flagReasons : [small, ...prediction.flagReasons];
    return {
      imageId: imageIds.get(cell)!,
      predicted: prediction.predicted,
      probabilities: prediction.probabilities,
      confidence: prediction.confidence,
      flagged: reasons.length > 0,
      flagReasons: reasons,
      embedding,
      openSetScore: openSet?.distance ?? null,
    };
  });
}
