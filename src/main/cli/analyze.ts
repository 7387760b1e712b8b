// `marrowcount analyze <folder>`: a thin adapter over the application service, doing what the desktop app does
// (create or reopen the case, start the analysis, poll its progress, read the differential) through MarrowApi.
import { canDo } from '../../shared/case-lifecycle';
import { CLI_ACTOR_NAME } from '../../shared/actors';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AnalysisProgress, CaseDetail, ImportFailure } from '../../shared/api';
import { openCliService } from './database';
import type { MarrowApi } from '../../shared/api';
import { CliAuthError, cliSession } from './session';
import { ServiceError, toApiError } from '../service/errors';
import type { AnalyzeArgs } from './args';
import { UsageError } from './args';
import { appVersion, defaultModelDir } from './paths';
import { progressText, renderJson, renderText, type AnalysisSummary } from './render';

export const EXIT = { ok: 0, usage: 1, someFilesFailed: 2, failed: 3, unauthenticated: 4, cancelled: 130 } as const;

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Registers a Ctrl-C handler; returns its remover. */
  onInterrupt: (handler: () => void) => () => void;
  /** Asks for a password on the terminal without echoing it; absent when there is no terminal. */
  readSecret?: (prompt: string) => Promise<string>;
}

/** Thrown for a failure that is reported as a message and exit code 3 (model, database, I/O). */
class AnalysisFailed extends Error {}

const POLL_MS = 200;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

const FOLDER_HINT =
  "Hint: give the folder that holds the case's cell images, e.g. `marrowcount analyze resources/demo/case-001`; `marrowcount --help` lists the options.";

function checkFolder(folder: string): string {
  const path = resolve(folder);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `The folder ${path} does not exist.` : `The folder ${path} cannot be read: ${(error as Error).message}`,
      FOLDER_HINT,
    );
  }
  if (!isDirectory) throw new UsageError(`${path} is a file, not a folder of cell images.`, FOLDER_HINT);
  return path;
}

async function openOrCreateCase(service: MarrowApi, args: AnalyzeArgs, folder: string): Promise<CaseDetail> {
  const accession = args.caseId ?? folder.split(/[\\/]/).filter(Boolean).pop() ?? 'case';
  const existing = (await service.listCases({ search: accession, limit: 1000 })).find((c) => c.accession === accession);
  if (!existing) {
    try {
      return await service.createCase({
        patient: { labId: args.patient },
        accession,
        specimen: 'bone_marrow_aspirate',
        folder,
        ...(args.confirmSharedCrops === null ? {} : { confirmSharedCrops: { reason: args.confirmSharedCrops } }),
      });
    } catch (error) {
      // The folder's crops are another patient's case's: the message names it; the hint says how to confirm.
      if (error instanceof ServiceError && error.kind === 'shared_crops') {
        throw new UsageError(error.message, 'Hint: if they belong to this patient too, run again with --confirm-shared-crops "<reason>".');
      }
      // A folder without crops or a patient on record under other details: the command was wrong, not the system (exit 1).
      if (error instanceof ServiceError && (error.kind === 'validation' || error.kind === 'conflict')) throw new UsageError(error.message);
      throw error;
    }
  }
  const detail = await service.getCase(existing.id);
  if (detail.patientLabId !== args.patient) {
    throw new UsageError(
      `Case ${accession} already exists for patient ${detail.patientLabId}, not ${args.patient}. Pass --patient ${detail.patientLabId} to resume it, or another --case.`,
    );
  }
  if (resolve(detail.folder) !== folder) {
    throw new UsageError(`Case ${accession} already exists for the folder ${detail.folder}. Pass another --case for ${folder}.`);
  }
  return detail;
}

function mergeFailures(stored: ImportFailure[], thisRun: ImportFailure[]): ImportFailure[] {
  const byFile = new Map<string, ImportFailure>();
  for (const failure of [...stored, ...thisRun]) if (!byFile.has(failure.file)) byFile.set(failure.file, failure);
  return [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export async function analyzeCommand(args: AnalyzeArgs, io: CliIo): Promise<number> {
  const folder = checkFolder(args.folder);
  const modelDir = resolve(args.model ?? defaultModelDir(io.env));
  const service = await openCliService(
    io,
    'analyze',
    args.db,
    {
      modelDir,
      reportsDir: join(homedir(), 'Documents', 'MarrowCount reports'),
      cellImageUrl: (caseId, imageId) => `marrowcell://cell/${caseId}/${imageId}`,
      appVersion: appVersion(),
    },
    { analysis: { actor: CLI_ACTOR_NAME, ...(args.batchSize === null ? {} : { batchSize: args.batchSize }) }, allowWithoutAccounts: true },
  );
  if (service === null) return EXIT.failed;
  try {
    const api = await cliSession(service, io, args.user, 'analyze');
    return await analyzeWithService(api, args, folder, io, service.databaseWhere);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof CliAuthError || (error instanceof ServiceError && (error.kind === 'forbidden' || error.kind === 'unauthenticated'))) {
      io.stderr.write(`marrowcount: ${error.message}\n`);
      return EXIT.unauthenticated;
    }
    const message = error instanceof AnalysisFailed ? error.message : toApiError(error).message;
    io.stderr.write(`marrowcount: ${message}\n`);
    return EXIT.failed;
  } finally {
    await service.close();
  }
}

async function analyzeWithService(service: MarrowApi, args: AnalyzeArgs, folder: string, io: CliIo, databaseWhere: string): Promise<number> {
  let detail = await openOrCreateCase(service, args, folder);
  const started = performance.now();
  let progress: AnalysisProgress | null = null;
  let note: string | null = null;
  let cancelled = false;

  const analyse = canDo('analyse', { status: detail.status, accession: detail.accession });
  if (!analyse.allowed) {
    note = `${analyse.why} It is not analysed again; showing its differential.`;
  } else {
    const display = progressDisplay(io, args.json);
    const removeInterrupt = io.onInterrupt(() => {
      cancelled = true;
      io.stderr.write('\nStopping after the current batch; run the same command again to resume.\n');
      void service.cancelAnalysis(detail.id);
    });
    try {
      progress = await service.startAnalysis(detail.id);
      while (progress.phase === 'importing' || progress.phase === 'classifying') {
        display.update(progress);
        await sleep(POLL_MS);
        progress = (await service.getAnalysisProgress(detail.id)) ?? progress;
      }
      display.finish(progress);
    } finally {
      removeInterrupt();
    }
    if (progress.phase === 'failed') throw new AnalysisFailed(progress.message ?? 'The analysis failed.');
    detail = await service.getCase(detail.id);
  }
  const seconds = (performance.now() - started) / 1000;
  if (progress?.phase === 'cancelled' || cancelled) {
    io.stderr.write(
      `Analysis of case ${detail.accession} cancelled after ${progress?.done ?? 0} of ${progress?.total ?? 0} cells; run the same command again to resume.\n`,
    );
    return EXIT.cancelled;
  }

  const differential = await service.getDifferential(detail.id);
  let reportPath: string | null = null;
  if (args.report !== null) {
    const saved = await service.saveReport({ caseId: detail.id, path: resolve(args.report) });
    reportPath = saved.path;
  }
  let cellsCsvPath: string | null = null;
  if (args.cellsCsv !== null) {
    const saved = await service.exportCase({ caseId: detail.id, format: 'csv-cells', path: resolve(args.cellsCsv) });
    cellsCsvPath = saved.path;
  }
  const failures = mergeFailures(detail.importFailures, progress?.failures ?? []);
  const summary: AnalysisSummary = {
    caseDetail: detail,
    differential,
    progress,
    seconds,
    failures,
    reportPath,
    cellsCsvPath,
    note,
    databasePath: databaseWhere,
  };
  io.stdout.write(args.json ? renderJson(summary) : renderText(summary));
  return failures.length > 0 ? EXIT.someFilesFailed : EXIT.ok;
}

function progressDisplay(io: CliIo, json: boolean): { update: (p: AnalysisProgress) => void; finish: (p: AnalysisProgress) => void } {
  const tty = io.stderr.isTTY === true;
  let lastDecile = -1;
  let lastPhase = '';
  return {
    update(p) {
      if (tty) {
        io.stderr.write(`\r${progressText(p).padEnd(Math.min(io.stderr.columns ?? 80, 100) - 1)}`);
        return;
      }
      if (json) return;
      // Plain output (a log file, a pipe): one line per phase change and per tenth of the cells.
      const decile = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 0;
      if (p.phase !== lastPhase || decile !== lastDecile) io.stderr.write(`${progressText(p)}\n`);
      lastPhase = p.phase;
      lastDecile = decile;
    },
    finish(p) {
      if (tty) io.stderr.write(`\r${progressText(p).padEnd(Math.min(io.stderr.columns ?? 80, 100) - 1)}\n`);
      else if (!json) io.stderr.write(`${progressText(p)}\n`);
    },
  };
}
