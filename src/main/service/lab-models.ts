// Lab models (issue 14), the API's methods: training a head on the lab's reviewed cells (lab-training-runner.ts),
// listing, approval and retirement, re-analysis of a case with an approved one (lab-reanalysis.ts, in a worker), the
// package that carries one between PCs of a lab (lab-model-package.ts) and its model card.
import { join } from 'node:path';
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
  RetireLabModelInput,
  SaveLabModelCardInput,
  SavedFile,
  TrainLabModelInput,
} from '../../shared/api';
import type { CellClassCode } from '../../shared/cell-classes';
import { DEFAULT_MINIMUM_PER_CLASS, LabTrainingRefused, planLabTraining } from '../../shared/lab-training';
import { checkNamedPath, namedOutputPath } from './named-path-policy';
import { writeAtomically } from '../files/write-atomically';
import type { ServiceArea } from './combine';
import { caseStateOf, requireAllowed } from './lifecycle';
import { currentActor, modelCache, type ServiceContext } from './context';
import { ROLE_LABELS } from '../../shared/roles';
import { ServiceError } from './errors';
import { writeLabModelCard } from './save-lab-model-card';
import { labModelPackageText, readLabModelPackage } from './lab-model-package';
import type { LabReanalysis } from './lab-reanalysis';
import { baseRow, installedBase, labModelDetailOf, labModelRegistration, labModelSha256, labModelSummaryOf, sha256Hex } from './lab-model-records';
import { pack, type LabTrainingRunner } from './lab-training-runner';
import { caseDetail } from './views';

export { LabTrainingRunner } from './lab-training-runner';

export function labModelMethods(ctx: ServiceContext, runner: LabTrainingRunner, reanalysis: LabReanalysis) {
  const modelOf = modelCache(ctx);

  return {
    async getLabTrainingMaterial(query: { minimumPerClass?: number } = {}): Promise<LabTrainingMaterial> {
      const minimumPerClass = query.minimumPerClass ?? DEFAULT_MINIMUM_PER_CLASS;
      const { manifest } = await installedBase(ctx);
      const base = await ctx.store.models.findModelBySha256(manifest.sha256);
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
        return {
          ...empty,
          missing: [`The installed model ${manifest.id} ${manifest.version} stores no per-cell embeddings: no lab model can be trained on it.`],
        };
      }
      const reviewed =
        base === null ? { cells: [], signedCases: 0, reviewedInUnsignedCases: 0 } : await ctx.store.labModels.reviewedCellsOfSignedCases(base.id);
      const perClass = new Map<CellClassCode, number>();
      for (const cell of reviewed.cells) perClass.set(cell.label, (perClass.get(cell.label) ?? 0) + 1);
      const cases = new Set(reviewed.cells.map((c) => c.caseId)).size;
      // The very plan training would make (same split), so "learned" and "missing" here are what Train will do.
      let plan: ReturnType<typeof planLabTraining> | null = null;
      const missing: string[] = [];
      if (reviewed.cells.length === 0) {
        missing.push(
          `No signed case has reviewed cells analysed with ${manifest.id} ${manifest.version}` +
            (reviewed.reviewedInUnsignedCases > 0
              ? ` (${reviewed.reviewedInUnsignedCases} reviewed cells are in cases not signed yet).`
              : '. Review and sign cases.'),
        );
      } else {
        try {
          plan = planLabTraining(
            reviewed.cells.map((c) => ({ caseKey: c.accession, label: c.label })),
            minimumPerClass,
          );
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
      return {
        ...empty,
        signedCasesWithReviewedCells: cases,
        reviewedCells: reviewed.cells.length,
        reviewedInUnsignedCases: reviewed.reviewedInUnsignedCases,
        classes,
        missing,
      };
    },

    async trainLabModel(input: TrainLabModelInput): Promise<LabModelTrainingProgress> {
      if (runner.running) throw new ServiceError('conflict', 'A lab model is already being trained; wait for it to finish or cancel it.');
      const minimumPerClass = input.minimumPerClass ?? DEFAULT_MINIMUM_PER_CLASS;
      // Who trains is the session's person, taken now: the model is stored later, when the worker finishes.
      const trainedBy = currentActor(ctx);
      const { manifest, openSet } = await installedBase(ctx);
      if (manifest.embedding === null) {
        throw new ServiceError(
          'model',
          `The installed model ${manifest.id} ${manifest.version} stores no per-cell embeddings, so no lab model can be trained on it.`,
        );
      }
      const base = await ctx.store.models.findModelBySha256(manifest.sha256);
      const reviewed =
        base === null ? { cells: [], signedCases: 0, reviewedInUnsignedCases: 0 } : await ctx.store.labModels.reviewedCellsOfSignedCases(base.id);
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
        planLabTraining(
          reviewed.cells.map((c) => ({ caseKey: c.accession, label: c.label })),
          minimumPerClass,
        );
      } catch (error) {
        if (error instanceof LabTrainingRefused) throw new ServiceError('conflict', error.message, { field: 'minimumPerClass' });
        throw error;
      }
      const baseModel = base!;
      const cases = new Set(reviewed.cells.map((c) => c.caseId)).size;
      return runner.start(pack(reviewed.cells, baseModel.classes), { minimumPerClass, openSetThreshold: openSet?.threshold ?? null, cases }, async (result) => {
        const headJson = JSON.stringify(result.head);
        // Counted and stored as one unit: a lab model imported meanwhile cannot take the same version.
        return ctx.store.transaction(async (tx) => {
          const version = `lab-${(await tx.labModels.countLabModels()) + 1}`;
          const row = await tx.labModels.storeLabModel({
            baseModelRowId: baseModel.id,
            registration: labModelRegistration(baseModel, {
              version,
              sha256: labModelSha256(baseModel.sha256, headJson),
              name: `Lab model ${version} (${baseModel.modelId} ${baseModel.version} + head on ${result.validation.training.cells} reviewed cells)`,
            }),
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
      });
    },

    async cancelLabModelTraining(): Promise<LabModelTrainingProgress> {
      return runner.cancel();
    },

    async getLabModelTrainingProgress(): Promise<LabModelTrainingProgress | null> {
      return runner.progress();
    },

    async listLabModels(): Promise<LabModelSummary[]> {
      return (await ctx.store.labModels.listLabModels()).map(labModelSummaryOf);
    },

    async getLabModel(labModelId: number): Promise<LabModelDetail> {
      return labModelDetailOf(await ctx.store.labModels.getLabModel(labModelId));
    },

    async approveLabModel(input: ApproveLabModelInput): Promise<LabModelDetail> {
      return labModelDetailOf(
        await ctx.store.labModels.approveLabModel({ labModelId: input.labModelId, by: currentActor(ctx), role: ROLE_LABELS.pathologist, reason: input.reason }),
      );
    },

    async retireLabModel(input: RetireLabModelInput): Promise<LabModelDetail> {
      return labModelDetailOf(await ctx.store.labModels.retireLabModel({ labModelId: input.labModelId, by: currentActor(ctx), reason: input.reason }));
    },

    async analyseWithLabModel(input: AnalyseWithLabModelInput): Promise<CaseDetail> {
      const lab = await ctx.store.labModels.getLabModel(input.labModelId);
      const row = await ctx.store.cases.getCase(input.caseId);
      if (lab.status !== 'approved') {
        throw new ServiceError('conflict', `Lab model ${lab.model.version} is ${lab.status}; only an approved lab model analyses cases.`, {
          field: 'labModelId',
        });
      }
      requireAllowed('reanalyse_lab_model', caseStateOf(row));
      await reanalysis.run(lab, row, currentActor(ctx));
      return caseDetail(ctx, row.id, modelOf);
    },

    async exportLabModel(input: ExportLabModelInput): Promise<SavedFile> {
      const lab = await ctx.store.labModels.getLabModel(input.labModelId);
      const path = namedOutputPath(ctx, input.path, join(ctx.options.reportsDir, `${lab.baseModel.modelId}-${lab.model.version}.labmodel.json`), '.json');
      return writeAtomically(path, Buffer.from(labModelPackageText(lab), 'utf8'));
    },

    async importLabModel(input: ImportLabModelInput): Promise<LabModelDetail> {
      checkNamedPath(ctx, input.path);
      const pkg = await readLabModelPackage(input.path, async () => (await installedBase(ctx)).manifest);
      const importedBy = currentActor(ctx);
      const baseModel = await baseRow(ctx, pkg.baseManifest, importedBy);
      const row = await ctx.store.labModels.storeLabModel({
        baseModelRowId: baseModel.id,
        registration: labModelRegistration(baseModel, { version: pkg.version, sha256: pkg.modelSha256, name: `${pkg.name} (imported)` }),
        head: pkg.head,
        headJson: pkg.headJson,
        headSha256: sha256Hex(pkg.headJson),
        cases: pkg.cases,
        minimumPerClass: pkg.minimumPerClass,
        validation: pkg.validation,
        trainedBy: pkg.trainedBy,
        trainedAt: pkg.trainedAt,
        imported: { by: importedBy },
      });
      return labModelDetailOf(row);
    },

    async saveLabModelCard(input: SaveLabModelCardInput): Promise<SavedFile> {
      const lab = await ctx.store.labModels.getLabModel(input.labModelId);
      const path = namedOutputPath(ctx, input.path, join(ctx.options.reportsDir, `${lab.baseModel.modelId}-${lab.model.version}-model-card.pdf`), '.pdf');
      return writeLabModelCard(labModelDetailOf(lab), path, { appVersion: ctx.options.appVersion });
    },
  } satisfies ServiceArea;
}
