// The API's analysis methods over the analysis runner (analysis-runner.ts), which does the work in a worker
// thread: the main thread only starts, polls and cancels. The model package is checked before a worker starts so
// that a missing or broken model is reported at once as a 'model' error, not as a failed run.
import type { AnalysisProgress } from '../../shared/api';
import { readModelManifest } from '../inference/model-package';
import type { ServiceContext } from './context';
import { isRunning } from './analysis-runner';
import { caseStateOf, requireAllowed } from './lifecycle';
import type { ServiceArea } from './combine';

export function analysisMethods(ctx: ServiceContext) {
  return {
    async startAnalysis(caseId: number): Promise<AnalysisProgress> {
      const row = await ctx.store.cases.getCase(caseId);
      const progress = ctx.runner.getProgress(caseId);
      requireAllowed('analyse', caseStateOf(row, { running: progress !== null && isRunning(progress) }));
      await readModelManifest(ctx.options.modelDir);
      return ctx.runner.start(caseId);
    },

    async cancelAnalysis(caseId: number): Promise<AnalysisProgress> {
      await ctx.store.cases.getCase(caseId);
      return ctx.runner.cancel(caseId);
    },

    async getAnalysisProgress(caseId: number): Promise<AnalysisProgress | null> {
      await ctx.store.cases.getCase(caseId);
      return ctx.runner.getProgress(caseId);
    },
  } satisfies ServiceArea;
}
