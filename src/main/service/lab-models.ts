// Lab models (issue 14): training a head on the lab's reviewed cells in a worker, storing it pending with its
// validation, approval and retirement, re-analysis of a case with it, and export/import between PCs of a lab.
//
// What a lab model can call: only the classes it learned (at least the minimum of reviewed training cells). A cell
// of any other class gets one of those, so every cell whose base-model prediction is a class the lab model did not
// learn is flagged for review with that reason; the differential treats the other classes as the model's
// "not assessable" classes, exactly as for any model (modelClasses).
//
// Re-analysis with a lab model needs no network run: the base model's embedding and probabilities of each cell are
// stored (issue 13), so the (residual) head is applied to them and the prediction is stored under the lab model's models row with the same
// embedding and open-set distance, beside the old predictions, and the case's current model becomes the lab model.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve } from 'node:path';
import type {
  AnalyseWithLabModelInput,
  ApproveLabModelInput,
  CaseDetail,
  ExportLabModelInput,
  ImportLabModelInput,
  LabModelDetail,
  LabModelSummary,
  LabModelTrainingProgress,
  LabTrainingMaterial,
  MarrowApi,
  RetireLabModelInput,
  SaveLabModelCardInput,
  SavedFile,
  TrainLabModelInput,
} from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import { smallCropReason } from '../../shared/flag-reasons';
import { basePrior, headProbabilities, headProblem, type LabHead } from '../../shared/lab-head';
import { DEFAULT_MINIMUM_PER_CLASS, LabTrainingRefused, planLabTraining, type LabTrainingResult, type LabValidation } from '../../shared/lab-training';
import {
  approveLabModel,
  beginAnalysis,
  countLabModels,
  findModelBySha256,
  getCase,
  getLabModel,
  insertPredictions,
  listEmbeddings,
  listImagesNeedingPrediction,
  listImages,
  listLabModels,
  registerModel,
  retireLabModel,
  reviewedCellsOfSignedCases,
  setCaseStatus,
  storeLabModel,
  transaction,
  type LabModelRow,
  type ModelRow,
  type NewPrediction,
  type ReviewedCell,
} from '../db';
import { flagReasons, topK } from '../inference/classify';
import type { ModelManifest } from '../inference/model-manifest';
import { loadOpenSetStats, readModelManifest } from '../inference/model-package';
import type { OpenSetStats } from '../inference/open-set';
import type { WorkerEntry } from '../inference/worker-client';
import { startTrainingWorker, type TrainingHandle } from '../lab-model/train-client';
import type { PackedCells } from '../lab-model/train-protocol';
import type { ServiceContext } from './context';
import { ServiceError, validationError } from './errors';
import { checkNamedPath } from './named-path-policy';
import { caseDetail } from './views';
import { writeAtomically } from './report';
import { writeLabModelCard } from './lab-model-card';
import { currentActor, modelCache } from './context';
import { ROLE_LABELS } from '../../shared/roles';

export const LAB_PACKAGE_FORMAT = 'marrowcount-lab-model';

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Why a model's prediction of a cell is a class the lab model cannot call. */
export const UNLEARNED_CLASS_REASON = 'base model calls it a class this lab model has not learned';

/** The lab model's identity: the base model file and the exact head text, so either changing makes another model. */
export function labModelSha256(baseSha256: string, headJson: string): string {
  return sha256Hex(`${baseSha256.toLowerCase()}\n${headJson}`);
}

function summaryOf(row: LabModelRow): LabModelSummary {
  const validation = row.validation as LabValidation;
  return {
    id: row.id,
    version: row.model.version,
    name: row.model.name,
    status: row.status,
    sha256: row.model.sha256,
    baseModel: { modelId: row.baseModel.modelId, version: row.baseModel.version, sha256: row.baseModel.sha256 },
    classes: [...row.head.classes],
    trainedBy: row.trainedBy,
    trainedAt: row.trainedAt,
    importedBy: row.importedBy,
    importedAt: row.importedAt,
    approvedBy: row.approvedBy,
    approvedRole: row.approvedRole,
    approvedReason: row.approvedReason,
    approvedAt: row.approvedAt,
    retiredBy: row.retiredBy,
    retiredReason: row.retiredReason,
    retiredAt: row.retiredAt,
    labMacroF1: validation.lab.macroF1,
    baseMacroF1: validation.base.macroF1,
  };
}

/**
 * The parts of a validation report the screens, the model card and the CLI read, checked on import: a package is
 * hashed, not signed, so its content is checked like any input. Returns the first problem, or null.
 */
function validationShapeProblem(v: unknown, classCount: number): { field: string; what: string } | null {
  if (typeof v !== 'object' || v === null) return { field: '(root)', what: 'must hold the validation report' };
  const r = v as Record<string, unknown>;
  const isNumber = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  for (const side of ['lab', 'base'] as const) {
    const m = r[side] as Record<string, unknown> | undefined;
    if (typeof m !== 'object' || m === null || !isNumber(m['macroF1']) || !isNumber(m['accuracy']) || !isNumber(m['cells'])) {
      return { field: side, what: 'must hold macroF1, accuracy and cells' };
    }
    const perClass = m['perClass'];
    if (!Array.isArray(perClass) || perClass.length !== classCount) return { field: `${side}.perClass`, what: `must hold one entry per class (${classCount})` };
    const ok = perClass.every((e: unknown) => {
      const x = e as Record<string, unknown> | null;
      return typeof x === 'object' && x !== null && typeof x['code'] === 'string' && ['support', 'precision', 'recall', 'f1'].every((k) => isNumber(x[k]));
    });
    if (!ok) return { field: `${side}.perClass`, what: 'must hold code, support, precision, recall and f1 per class' };
    const confusion = m['confusion'];
    if (!Array.isArray(confusion) || !confusion.every((row: unknown) => Array.isArray(row) && row.length === classCount + 1 && row.every(isNumber))) {
      return { field: `${side}.confusion`, what: 'must be rows of numbers, one column per class and "other"' };
    }
    if (!Array.isArray(m['classes'])) return { field: `${side}.classes`, what: 'must list the classes' };
  }
  if (!Array.isArray(r['folds']) || !Array.isArray(r['classes'])) return { field: 'folds', what: 'must list the folds and the classes' };
  const cal = r['calibration'] as Record<string, unknown> | undefined;
  if (typeof cal !== 'object' || cal === null || !['temperature', 'fittedOnCells', 'eceBefore', 'eceAfter', 'baseEce'].every((k) => isNumber(cal[k]))) {
    return { field: 'calibration', what: 'must hold the temperature and the calibration errors' };
  }
  const t = r['training'] as Record<string, unknown> | undefined;
  if (typeof t !== 'object' || t === null || !['cells', 'seconds', 'l2', 'epochs', 'batchSize', 'seed'].every((k) => isNumber(t[k]))) {
    return { field: 'training', what: 'must hold the training settings' };
  }
  if (!isNumber(r['testCellsOfUnlearnedClasses']) || !isNumber(r['minimumPerClass'])) return { field: 'minimumPerClass', what: 'must be numbers' };
  return null;
}

export function labModelDetailOf(row: LabModelRow): LabModelDetail {
  return { ...summaryOf(row), headSha256: row.headSha256, cases: row.cases.map((c) => ({ ...c })), validation: row.validation as LabValidation };
}

interface InstalledBase {
  manifest: ModelManifest;
  openSet: OpenSetStats | null;
}

async function installedBase(ctx: ServiceContext): Promise<InstalledBase> {
  const manifest = await readModelManifest(ctx.options.modelDir);
  const openSet = await loadOpenSetStats(resolve(ctx.options.modelDir), manifest);
  return { manifest, openSet };
}

function pack(cells: readonly ReviewedCell[], baseClasses: CellClassCode[]): PackedCells {
  const dim = cells[0]?.embedding.length ?? 0;
  const embeddings = new Float32Array(cells.length * dim);
  const baseProbabilities = new Float32Array(cells.length * baseClasses.length);
  cells.forEach((c, i) => {
    baseProbabilities.set(c.baseProbabilities, i * baseClasses.length);
    if (c.embedding.length !== dim) {
      throw new ServiceError('conflict', `Case ${c.accession}: a stored embedding has ${c.embedding.length} values, others ${dim}; they come from different models.`);
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
    store: (result: LabTrainingResult) => number,
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
    run.finished = run.handle.outcome.then((outcome) => {
      run.handle = null;
      if (outcome.kind === 'done') {
        try {
          const labModelId = store(outcome.result);
          run.progress = { ...run.progress, phase: 'done', fraction: 1, seconds: seconds(), labModelId };
        } catch (error) {
          run.progress = { ...run.progress, phase: 'failed', seconds: seconds(), message: `The trained lab model could not be stored: ${(error as Error).message}` };
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

type LabModelMethods = Pick<
  MarrowApi,
  | 'getLabTrainingMaterial'
  | 'trainLabModel'
  | 'cancelLabModelTraining'
  | 'getLabModelTrainingProgress'
  | 'listLabModels'
  | 'getLabModel'
  | 'approveLabModel'
  | 'retireLabModel'
  | 'analyseWithLabModel'
  | 'exportLabModel'
  | 'importLabModel'
  | 'saveLabModelCard'
>;

function outputPath(ctx: ServiceContext, given: string | undefined, fallback: string, extension: string): string {
  if (given === undefined) return fallback;
  if (!isAbsolute(given)) throw validationError('path', `The file path must be a full path, not "${given}".`);
  if (extname(given).toLowerCase() !== extension) throw validationError('path', `The file name must end in ${extension} (got ${given}).`);
  checkNamedPath(ctx, given);
  return resolve(given);
}

/** The registered row of the installed base model, registering it when no case was analysed with it yet. */
function baseRow(ctx: ServiceContext, manifest: ModelManifest, actor: string): ModelRow {
  return (
    findModelBySha256(ctx.db, manifest.sha256) ??
    registerModel(
      ctx.db,
      {
        modelId: manifest.id,
        version: manifest.version,
        sha256: manifest.sha256,
        name: manifest.name,
        classes: manifest.classes,
        provisionalClasses: manifest.provisional.classes,
      },
      actor,
    )
  );
}

export function labModelMethods(ctx: ServiceContext, runner: LabTrainingRunner): LabModelMethods {
  const modelOf = modelCache(ctx);

  return {
    async getLabTrainingMaterial(query: { minimumPerClass?: number } = {}): Promise<LabTrainingMaterial> {
      const minimumPerClass = query.minimumPerClass ?? DEFAULT_MINIMUM_PER_CLASS;
      const { manifest } = await installedBase(ctx);
      const base = findModelBySha256(ctx.db, manifest.sha256);
      const empty: LabTrainingMaterial = {
        baseModel: manifest.embedding === null ? null : { modelId: manifest.id, version: manifest.version },
        signedCasesWithReviewedCells: 0,
        reviewedCells: 0,
        reviewedInUnsignedCases: 0,
        minimumPerClass,
        classes: [],
        missing: [],
      };
      if (manifest.embedding === null) {
        return { ...empty, missing: [`The installed model ${manifest.id} ${manifest.version} stores no per-cell embeddings: no lab model can be trained on it.`] };
      }
      const reviewed = base === null ? { cells: [], signedCases: 0, reviewedInUnsignedCases: 0 } : reviewedCellsOfSignedCases(ctx.db, base.id);
      const perClass = new Map<CellClassCode, number>();
      for (const cell of reviewed.cells) perClass.set(cell.label, (perClass.get(cell.label) ?? 0) + 1);
      const cases = new Set(reviewed.cells.map((c) => c.caseId)).size;
      // The very plan training would make (same split), so "learned" and "missing" here are what Train will do.
      let plan: ReturnType<typeof planLabTraining> | null = null;
      const missing: string[] = [];
      if (reviewed.cells.length === 0) {
        missing.push(
          `No signed case has reviewed cells analysed with ${manifest.id} ${manifest.version}` +
            (reviewed.reviewedInUnsignedCases > 0 ? ` (${reviewed.reviewedInUnsignedCases} reviewed cells are in cases not signed yet).` : '. Review and sign cases.'),
        );
      } else {
        try {
          plan = planLabTraining(reviewed.cells.map((c) => ({ caseKey: c.accession, label: c.label })), minimumPerClass);
        } catch (error) {
          if (!(error instanceof LabTrainingRefused)) throw error;
          missing.push(error.message);
        }
      }
      const classes = [...perClass.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([code, cells]) => {
          const support = plan?.classes.find((s) => s.code === code);
          return { code, cells, inTrainingFold: support?.train ?? null, learned: support?.learned ?? false };
        });
      return { ...empty, signedCasesWithReviewedCells: cases, reviewedCells: reviewed.cells.length, reviewedInUnsignedCases: reviewed.reviewedInUnsignedCases, classes, missing };
    },

    async trainLabModel(input: TrainLabModelInput): Promise<LabModelTrainingProgress> {
      if (runner.running) throw new ServiceError('conflict', 'A lab model is already being trained; wait for it to finish or cancel it.');
      const minimumPerClass = input.minimumPerClass ?? DEFAULT_MINIMUM_PER_CLASS;
      // Who trains is the session's person, taken now: the model is stored later, when the worker finishes.
      const trainedBy = currentActor(ctx);
      const { manifest, openSet } = await installedBase(ctx);
      if (manifest.embedding === null) {
        throw new ServiceError('model', `The installed model ${manifest.id} ${manifest.version} stores no per-cell embeddings, so no lab model can be trained on it.`);
      }
      const base = findModelBySha256(ctx.db, manifest.sha256);
      const reviewed = base === null ? { cells: [], signedCases: 0, reviewedInUnsignedCases: 0 } : reviewedCellsOfSignedCases(ctx.db, base.id);
      if (reviewed.cells.length === 0) {
        throw new ServiceError(
          'conflict',
          reviewed.reviewedInUnsignedCases > 0
            ? `No signed case has reviewed cells analysed with ${manifest.id} ${manifest.version}: the ${reviewed.reviewedInUnsignedCases} reviewed cells are all in cases not signed. ` +
                'Only the reviews of signed cases train a lab model; sign the reviewed cases first.'
            : `No signed case has reviewed cells analysed with ${manifest.id} ${manifest.version}. Review and sign cases first.`,
        );
      }
      try {
        planLabTraining(reviewed.cells.map((c) => ({ caseKey: c.accession, label: c.label })), minimumPerClass);
      } catch (error) {
        if (error instanceof LabTrainingRefused) throw new ServiceError('conflict', error.message, { field: 'minimumPerClass' });
        throw error;
      }
      const baseModel = base!;
      const cases = new Set(reviewed.cells.map((c) => c.caseId)).size;
      return runner.start(pack(reviewed.cells, baseModel.classes), { minimumPerClass, openSetThreshold: openSet?.threshold ?? null, cases }, (result) => {
        const headJson = JSON.stringify(result.head);
        const version = `lab-${countLabModels(ctx.db) + 1}`;
        const row = storeLabModel(ctx.db, {
          baseModelRowId: baseModel.id,
          registration: {
            modelId: `${baseModel.modelId}+lab`,
            version,
            sha256: labModelSha256(baseModel.sha256, headJson),
            name: `Lab model ${version} (${baseModel.modelId} ${baseModel.version} + head on ${result.validation.training.cells} reviewed cells)`,
            provisionalClasses: [],
          },
          head: result.head,
          headJson,
          headSha256: sha256Hex(headJson),
          cases: result.validation.folds.map((f) => ({ accession: f.caseKey, cells: f.cells, fold: f.fold })),
          minimumPerClass,
          validation: result.validation,
          trainedBy,
          trainedAt: new Date().toISOString(),
        });
        return row.id;
      });
    },

    async cancelLabModelTraining(): Promise<LabModelTrainingProgress> {
      return runner.cancel();
    },

    async getLabModelTrainingProgress(): Promise<LabModelTrainingProgress | null> {
      return runner.progress();
    },

    async listLabModels(): Promise<LabModelSummary[]> {
      return listLabModels(ctx.db).map(summaryOf);
    },

    async getLabModel(labModelId: number): Promise<LabModelDetail> {
      return labModelDetailOf(getLabModel(ctx.db, labModelId));
    },

    async approveLabModel(input: ApproveLabModelInput): Promise<LabModelDetail> {
      return labModelDetailOf(approveLabModel(ctx.db, { labModelId: input.labModelId, by: currentActor(ctx), role: ROLE_LABELS.pathologist, reason: input.reason }));
    },

    async retireLabModel(input: RetireLabModelInput): Promise<LabModelDetail> {
      return labModelDetailOf(retireLabModel(ctx.db, { labModelId: input.labModelId, by: currentActor(ctx), reason: input.reason }));
    },

    async analyseWithLabModel(input: AnalyseWithLabModelInput): Promise<CaseDetail> {
      const lab = getLabModel(ctx.db, input.labModelId);
      const row = getCase(ctx.db, input.caseId);
      if (lab.status !== 'approved') {
        throw new ServiceError('conflict', `Lab model ${lab.model.version} is ${lab.status}; only an approved lab model analyses cases.`, { field: 'labModelId' });
      }
      if (row.status === 'signed') {
        throw new ServiceError('locked', `Case ${row.accession} is signed; amend it before analysing it again.`, { field: 'caseId' });
      }
      if (row.status !== 'in_review') {
        throw new ServiceError('conflict', `Case ${row.accession} is ${row.status}; analyse it with the base model first.`, { field: 'caseId' });
      }
      const { manifest, openSet } = await installedBase(ctx);
      if (manifest.sha256 !== lab.baseModel.sha256) {
        throw new ServiceError(
          'model',
          `Lab model ${lab.model.version} was trained on ${lab.baseModel.modelId} ${lab.baseModel.version} (${lab.baseModel.sha256.slice(0, 12)}…), but the installed ` +
            `model is ${manifest.id} ${manifest.version} (${manifest.sha256.slice(0, 12)}…). Install its base model to use it.`,
        );
      }
      const embeddings = listEmbeddings(ctx.db, row.id, lab.baseModel.id);
      const classifiable = listImages(ctx.db, row.id).filter((i) => i.importError === null && i.duplicateOf === null);
      const withEmbedding = new Set(embeddings.map((e) => e.imageId));
      const missing = classifiable.filter((i) => !withEmbedding.has(i.id));
      if (missing.length > 0) {
        throw new ServiceError(
          'conflict',
          `${missing.length} of the ${classifiable.length} cells of case ${row.accession} have no stored embedding of ${lab.baseModel.modelId} ${lab.baseModel.version} ` +
            `(first: ${missing[0]!.relativePath}); analyse the case with the base model first, then with the lab model.`,
          { field: 'caseId' },
        );
      }
      const pending = new Set(listImagesNeedingPrediction(ctx.db, row.id, lab.model.id).map((i) => i.id));
      const sizeOf = new Map(classifiable.map((i) => [i.id, i] as const));
      const head = lab.head;
      const predictions: NewPrediction[] = embeddings
        .filter((e) => pending.has(e.imageId))
        .map((e) => {
          const probabilities = headProbabilities(head, e.embedding, basePrior(head.classes, lab.baseModel.classes, e.probabilities));
          const [first, second] = topK(probabilities, 2);
          const predicted = head.classes[first!]!;
          const confidence = probabilities[first!]!;
          const margin = second === undefined ? confidence : confidence - probabilities[second]!;
          const reasons = flagReasons(
            predicted,
            confidence,
            margin,
            manifest.flagging,
            { classes: [], reason: '' },
            e.openSetScore !== null && openSet !== null ? { distance: e.openSetScore, threshold: openSet.threshold } : null,
          );
          if (!head.classes.includes(e.predicted)) reasons.push(`${UNLEARNED_CLASS_REASON} (${e.predicted})`);
          // A crop too small for the base model to judge is no better judged by a head on its embedding.
          const image = sizeOf.get(e.imageId);
          const small = image === undefined || image.width === null || image.height === null ? null : smallCropReason(image.width, image.height);
          if (small !== null) reasons.unshift(small);
          return {
            imageId: e.imageId,
            predicted,
            probabilities,
            confidence,
            flagged: reasons.length > 0,
            flagReasons: reasons,
            embedding: e.embedding,
            openSetScore: e.openSetScore,
          };
        });
      // Already analysed with it to the last cell: nothing to add, nothing to record.
      if (predictions.length === 0 && row.modelRowId === lab.model.id) return caseDetail(ctx, row.id, modelOf);
      // One transaction: the case switches to the lab model only together with all of its predictions.
      transaction(ctx.db, () => {
        const by = currentActor(ctx);
        beginAnalysis(ctx.db, { caseId: row.id, modelRowId: lab.model.id, actor: by });
        insertPredictions(ctx.db, lab.model.id, predictions, by);
        setCaseStatus(ctx.db, row.id, 'in_review', by);
      });
      return caseDetail(ctx, row.id, modelOf);
    },

    async exportLabModel(input: ExportLabModelInput): Promise<SavedFile> {
      const lab = getLabModel(ctx.db, input.labModelId);
      const path = outputPath(ctx, input.path, join(ctx.options.reportsDir, `${lab.baseModel.modelId}-${lab.model.version}.labmodel.json`), '.json');
      const labModel = {
        version: lab.model.version,
        name: lab.model.name,
        modelSha256: lab.model.sha256,
        baseModel: { modelId: lab.baseModel.modelId, version: lab.baseModel.version, sha256: lab.baseModel.sha256 },
        head: lab.head,
        headSha256: lab.headSha256,
        cases: lab.cases,
        minimumPerClass: lab.minimumPerClass,
        validation: lab.validation,
        trainedBy: lab.trainedBy,
        trainedAt: lab.trainedAt,
        // Where it was approved and by whom, for the record only: the receiving PC approves it itself.
        exportedFrom: { status: lab.status, approvedBy: lab.approvedBy, approvedRole: lab.approvedRole, approvedAt: lab.approvedAt },
      };
      const body = JSON.stringify(labModel);
      const text = `${JSON.stringify({ format: LAB_PACKAGE_FORMAT, formatVersion: 1, sha256: sha256Hex(body), labModel: JSON.parse(body) as unknown }, null, 1)}\n`;
      return writeAtomically(path, Buffer.from(text, 'utf8'));
    },

    async importLabModel(input: ImportLabModelInput): Promise<LabModelDetail> {
      if (!isAbsolute(input.path)) throw validationError('path', `The file path must be a full path, not "${input.path}".`);
      checkNamedPath(ctx, input.path);
      let text: string;
      try {
        text = await readFile(input.path, 'utf8');
      } catch (error) {
        throw new ServiceError('io', `${input.path} cannot be read (${(error as Error).message}).`, { field: 'path' });
      }
      const bad = (field: string, what: string): never => {
        throw new ServiceError('model', `${input.path} is not a usable lab-model package: field "${field}" ${what}. Nothing was imported; export it again.`, {
          field,
        });
      };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        return bad('(file)', `is not valid JSON (${(error as Error).message})`);
      }
      if (typeof parsed !== 'object' || parsed === null) return bad('(file)', 'is not an object');
      const pkg = parsed as Record<string, unknown>;
      if (pkg['format'] !== LAB_PACKAGE_FORMAT) bad('format', `must be "${LAB_PACKAGE_FORMAT}"`);
      if (pkg['formatVersion'] !== 1) bad('formatVersion', 'must be 1');
      const labModel = pkg['labModel'];
      if (typeof labModel !== 'object' || labModel === null) return bad('labModel', 'is missing');
      if (pkg['sha256'] !== sha256Hex(JSON.stringify(labModel))) {
        bad('sha256', 'does not match the content: the file was changed or damaged after export');
      }
      const m = labModel as Record<string, unknown>;
      const problem = headProblem(m['head']);
      if (problem !== null) bad(`labModel.head.${problem.split(':')[0]}`, problem.slice(problem.indexOf(':') + 2));
      const head = m['head'] as LabHead;
      const headJson = JSON.stringify(head);
      if (m['headSha256'] !== sha256Hex(headJson)) bad('labModel.headSha256', 'does not match the head');
      const base = m['baseModel'] as Record<string, unknown> | undefined;
      const baseSha = typeof base?.['sha256'] === 'string' ? base['sha256'].toLowerCase() : bad('labModel.baseModel.sha256', 'is missing');
      const { manifest } = await installedBase(ctx);
      if (baseSha !== manifest.sha256) {
        bad(
          'labModel.baseModel.sha256',
          `is ${baseSha.slice(0, 12)}… (${String(base?.['modelId'])} ${String(base?.['version'])}), but the installed model is ${manifest.id} ${manifest.version} ` +
            `(${manifest.sha256.slice(0, 12)}…); a lab model only works on the base model it was trained on`,
        );
      }
      if (head.dim !== manifest.embedding?.dim) bad('labModel.head.dim', `is ${head.dim}, but the installed model's embedding has ${manifest.embedding?.dim ?? 'no'} values`);
      const modelSha = labModelSha256(baseSha, headJson);
      if (m['modelSha256'] !== modelSha) bad('labModel.modelSha256', 'does not match the base model and the head');
      const text_ = (field: string): string => {
        const v = m[field];
        return typeof v === 'string' && v.trim() !== '' ? v : bad(`labModel.${field}`, 'must be text');
      };
      const version = text_('version');
      const validation = m['validation'] as LabValidation | undefined;
      const validationProblem = validationShapeProblem(validation, head.classes.length);
      if (validationProblem !== null) bad(`labModel.validation.${validationProblem.field}`, validationProblem.what);
      const cases = m['cases'];
      if (!Array.isArray(cases)) return bad('labModel.cases', 'must list the training cases');
      cases.forEach((c: unknown, i) => {
        const r = c as Record<string, unknown> | null;
        if (
          typeof r !== 'object' ||
          r === null ||
          typeof r['accession'] !== 'string' ||
          typeof r['cells'] !== 'number' ||
          !Number.isSafeInteger(r['cells']) ||
          !['train', 'calibration', 'test'].includes(r['fold'] as string)
        ) {
          bad(`labModel.cases[${i}]`, 'must be { accession, cells, fold }');
        }
      });
      const minimumPerClass = m['minimumPerClass'];
      if (typeof minimumPerClass !== 'number' || !Number.isSafeInteger(minimumPerClass) || minimumPerClass < 1) bad('labModel.minimumPerClass', 'must be a positive whole number');
      const trainedBy = text_('trainedBy');
      const trainedAt = text_('trainedAt');
      const importedBy = currentActor(ctx);
      const baseModel = baseRow(ctx, manifest, importedBy);
      const row = storeLabModel(ctx.db, {
        baseModelRowId: baseModel.id,
        registration: {
          modelId: `${baseModel.modelId}+lab`,
          version,
          sha256: modelSha,
          name: `${text_('name')} (imported)`,
          provisionalClasses: [],
        },
        head,
        headJson,
        headSha256: sha256Hex(headJson),
        cases: cases as LabModelRow['cases'],
        minimumPerClass: minimumPerClass as number,
        validation,
        trainedBy,
        trainedAt,
        imported: { by: importedBy },
      });
      return labModelDetailOf(row);
    },

    async saveLabModelCard(input: SaveLabModelCardInput): Promise<SavedFile> {
      const lab = getLabModel(ctx.db, input.labModelId);
      const path = outputPath(ctx, input.path, join(ctx.options.reportsDir, `${lab.baseModel.modelId}-${lab.model.version}-model-card.pdf`), '.pdf');
      return writeLabModelCard(labModelDetailOf(lab), path, { appVersion: ctx.options.appVersion });
    },
  };
}

