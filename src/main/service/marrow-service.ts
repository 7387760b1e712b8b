// The application service: the one implementation of MarrowApi, used by the IPC handlers, the loopback HTTP host,
// the CLI and the integration tests. It owns the database connection and the analysis runner; the business rules
// live in the per-area modules it assembles with combineAreas (cases, analysis, review, sign-off, saved files,
// settings, LIS, lab models, patient history).
import { dirname, join } from 'node:path';
import { DatabaseError } from '../db';
import { openStore } from '../db/store';
import { LisDelivery, type LisDeliveryOptions } from '../lis/delivery';
import { AnalysisRunner } from './analysis-runner';
import { caseMethods } from './cases';
import { combineAreas } from './combine';
import { LabReanalysis } from './lab-reanalysis';
import { LabTrainingRunner, labModelMethods } from './lab-models';
import { analysisMethods } from './analysis-methods';
import { buildPendingLisMessages, lisMethods } from './lis';
import type { ServiceContext } from './context';
import type { SessionHolder } from './accounts';
import { sessionApi, type AreaMethods } from './session-api';
import { patientHistoryMethods } from './patient-history';
import { reviewMethods } from './review';
import { savedFileMethods } from './saved-files';
import { settingsAboutMethods } from './settings-about';
import { signOffMethods } from './sign-off';
import type { CellImageLocation, MarrowService, MarrowServiceOptions } from './types';
import type { AnalysisRunnerOptions } from './analysis-runner';
import type { WorkerEntry } from '../inference/worker-client';

export type { MarrowService, MarrowServiceOptions } from './types';

export interface CreateServiceExtras {
  /** Passed to the analysis runner (tests pin batch size and threads; the worker entry when not next to the bundle). */
  analysis?: Omit<AnalysisRunnerOptions, 'databaseLocation' | 'modelDir'>;
  /** Timeouts and retry policy of the LIS delivery loop (tests shorten them). */
  lis?: Omit<LisDeliveryOptions, 'defaultOutboxDir' | 'buildPending'>;
  /** Where the lab-model training worker's code is; found next to the bundle (or its sources) when absent. */
  labTrainingWorkerEntry?: WorkerEntry;
  /** The clock of sessions (idle lock, lockout); tests move it. Default: the real time. */
  now?: () => Date;
  /** Only the CLI: while the database has no account, calls without a session run (the demo). See session-api.ts. */
  allowWithoutAccounts?: boolean;
  /** Where the lab-model re-analysis worker's code is; found next to the bundle (or its sources) when absent. */
  labReanalysisWorkerEntry?: WorkerEntry;
}

/** Opens the store at options.databaseLocation (either engine) and assembles the service over it. */
export async function createMarrowService(options: MarrowServiceOptions, extras: CreateServiceExtras = {}): Promise<MarrowService> {
  const store = await openStore(options.databaseLocation, { createFolder: true });
  const runner = new AnalysisRunner({ ...extras.analysis, databaseLocation: options.databaseLocation, modelDir: options.modelDir });
  // The delivery loop builds messages through the service context, and the context wakes the loop: made in turn.
  const wake = { lis: (): void => undefined };
  const ctx: ServiceContext = { store, options, runner, wakeLis: () => wake.lis(), now: extras.now ?? (() => new Date()) };
  const labTraining = new LabTrainingRunner(extras.labTrainingWorkerEntry);
  const labReanalysis = new LabReanalysis(ctx, extras.labReanalysisWorkerEntry);
  // A new case is counted with the approved lab model, if there is one, once the base model has classified it.
  runner.setAfterAnalysis(labReanalysis.afterAnalysis(extras.analysis?.actor ?? 'analysis'));
  const delivery = new LisDelivery(store, {
    ...extras.lis,
    defaultOutboxDir: options.lisOutboxDir ?? join(store.engine === 'sqlite' ? dirname(store.where) : options.reportsDir, 'lis-outbox'),
    buildPending: () => buildPendingLisMessages(ctx),
  });
  wake.lis = () => delivery.wake();
  let closed = false;

  // Typed as the contract less the account methods (accounts.ts, bound per session): an area missing from the list,
  // or a method no area defines, fails to compile; a method two areas define is refused when the service is made.
  // No transport reaches the areas except through sessionApi, which checks the session and the role table on every
  // call and runs the method as the session's person.
  const areas: AreaMethods = combineAreas(
    caseMethods(ctx),
    analysisMethods(ctx),
    reviewMethods(ctx),
    signOffMethods(ctx),
    savedFileMethods(ctx),
    settingsAboutMethods(ctx),
    lisMethods(ctx),
    labModelMethods(ctx, labTraining, labReanalysis),
    patientHistoryMethods(ctx),
  );

  const sessionOptions = { allowWithoutAccounts: extras.allowWithoutAccounts === true };

  return {
    forSession: (holder: SessionHolder) => sessionApi(ctx, areas, holder, sessionOptions),
    lisDelivery: delivery,

    whenLabModelTrained: () => labTraining.whenFinished(),

    databaseWhere: store.where,

    async locateCellImage(caseId: number, imageId: number): Promise<CellImageLocation | null> {
      try {
        const image = await store.images.getImage(caseId, imageId);
        const { folder } = await store.cases.getCase(caseId);
        return { folder, file: image.relativePath, sha256: image.sha256, copies: await store.images.listCopiesOf(caseId, imageId) };
      } catch (e) {
        if (e instanceof DatabaseError && e.kind === 'not_found') return null;
        throw e;
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await delivery.stop();
      await Promise.all([runner.close(), labTraining.close()]);
      await store.close();
    },
  };
}
