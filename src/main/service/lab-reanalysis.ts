// Analysing a case with an approved lab model: on request (analyseWithLabModel) and, when a lab model is approved
// for the installed base model, at the end of every analysis of a new case, so that a new case is counted with
// the lab's model while the base model's predictions stay stored beside (lab-model/reanalyse.ts). The arithmetic
// and the writes run in a worker with its own connection, never on the main thread.
import type { CaseRow, LabModelRow } from '../db';
import type { WorkerEntry } from '../inference/worker-client';
import { ReanalysisRefused } from '../lab-model/reanalyse';
import { runReanalysisInWorker } from '../lab-model/reanalyse-client';
import type { AfterAnalysis } from './analysis-runner';
import type { ServiceContext } from './context';
import { ServiceError, toApiError } from './errors';
import { installedBase } from './lab-model-records';

export class LabReanalysis {
  // Cases being re-analysed now: the work runs in a worker, so a second request for the same case could overlap it.
  private readonly running = new Set<number>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly workerEntry?: WorkerEntry,
  ) {}

  /** Adds the lab model's predictions of the case and makes it the case's model. The caller has checked both. */
  async run(lab: LabModelRow, row: CaseRow, actor: string): Promise<void> {
    const { manifest, openSet } = await installedBase(this.ctx);
    if (manifest.sha256 !== lab.baseModel.sha256) {
      throw new ServiceError(
        'model',
        `Lab model ${lab.model.version} was trained on ${lab.baseModel.modelId} ${lab.baseModel.version} (${lab.baseModel.sha256.slice(0, 12)}…), but the installed ` +
          `model is ${manifest.id} ${manifest.version} (${manifest.sha256.slice(0, 12)}…). Install its base model to use it.`,
      );
    }
    if (this.running.has(row.id)) {
      throw new ServiceError('conflict', `Case ${row.accession} is already being analysed with a lab model; wait for it to finish.`, { field: 'caseId' });
    }
    this.running.add(row.id);
    try {
      const job = {
        caseId: row.id,
        accession: row.accession,
        caseModelRowId: row.modelRowId,
        lab: { modelRowId: lab.model.id, head: lab.head },
        base: { modelRowId: lab.baseModel.id, label: `${lab.baseModel.modelId} ${lab.baseModel.version}`, classes: lab.baseModel.classes },
        flagging: manifest.flagging,
        openSetThreshold: openSet?.threshold ?? null,
        actor,
      };
      await runReanalysisInWorker(this.ctx.options.databaseLocation, job, ...(this.workerEntry === undefined ? [] : [this.workerEntry]));
    } catch (error) {
      if (error instanceof ReanalysisRefused) throw new ServiceError('conflict', error.message, { field: error.field });
      throw error;
    } finally {
      this.running.delete(row.id);
    }
  }

  /** For the analysis runner: after a case's cells are classified, the approved lab model of that base model, if any. */
  afterAnalysis(actor: string): AfterAnalysis {
    return async (caseId) => {
      const row = await this.ctx.store.cases.getCase(caseId);
      if (row.modelRowId === null || row.status !== 'in_review') return;
      const lab = (await this.ctx.store.labModels.listLabModels()).find((l) => l.status === 'approved' && l.baseModel.id === row.modelRowId);
      if (lab === undefined) return;
      try {
        await this.run(lab, row, actor);
      } catch (error) {
        throw new ServiceError(
          toApiError(error).kind,
          `The cells of case ${row.accession} were classified by the base model, but the approved lab model ${lab.model.version} could not be applied: ` +
            `${toApiError(error).message} Apply it from the Lab model screen.`,
          { field: 'caseId', cause: error },
        );
      }
    };
  }
}
