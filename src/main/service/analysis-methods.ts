// The API's analysis methods over the analysis runner (analysis-runner.ts), which does the work in a worker
// thread: the main thread only starts, polls and cancels. The model package is checked before a worker starts so
// that a missing or broken model is reported at once as a 'model' error, not as a failed run.
import type { AnalysisProgress } from '../../shared/api';
import { getCase } from '../db';
import { readModelManifest } from '../inference/model-package';
import type { ServiceContext } from './context';
import type { ServiceArea } from './combine';
import { ServiceError } from './errors';

export function analysisMethods(ctx: ServiceContext) {
  return {
    async startAnalysis(caseId: number): Promise<AnalysisProgress> {
      const row = getCase(ctx.db, caseId);
      if (row.status === 'signed') {
        throw new ServiceError('locked', `Case ${row.accession} is signed; amend it before analysing it again.`, { field: 'caseId' });
      }
      await readModelManifest(ctx.options.modelDir);
      return ctx.runner.start(caseId);
    },

    async cancelAnalysis(caseId: number): Promise<AnalysisProgress> {
      getCase(ctx.db, caseId);
      return ctx.runner.cancel(caseId);
    },

    async getAnalysisProgress(caseId: number): Promise<AnalysisProgress | null> {
      getCase(ctx.db, caseId);
      return ctx.runner.getProgress(caseId);
    },
  } satisfies ServiceArea;
}
