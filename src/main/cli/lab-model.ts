// `marrowcount lab-model train|evaluate|list|approve|retire|export|import`: the lab model (issue 14) for labs that script, over
// the same application service as the app. Strict parsing like `analyze`: an unknown flag is a usage error.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LabModelDetail, LabModelSummary, LabModelTrainingProgress } from '../../shared/api';
import { labModelBelowBaseWarning, labModelScoresBelowBase, MINIMUM_PER_CLASS_FLOOR } from '../../shared/lab-training';
import { openCliService } from './database';
import type { MarrowService } from '../service/types';
import { ServiceError, toApiError } from '../service/errors';
import type { MarrowApi } from '../../shared/api';
import { CliAuthError, cliSession } from './session';
import { EXIT, type CliIo } from './analyze';
import { parseSubcommand, UsageError } from './args';
export { LAB_MODEL_USAGE } from './args';
import { appVersion, defaultModelDir } from './paths';

const SUBCOMMANDS = ['train', 'evaluate', 'list', 'approve', 'retire', 'export', 'import'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];
const VALUE_FLAGS = new Set(['--db', '--model', '--user', '--reason', '--min-per-class', '--card', '--out']);

interface LabModelArgs {
  sub: Subcommand;
  id: number | null;
  /** The package file of `import`. */
  file: string | null;
  values: Map<string, string>;
  json: boolean;
}

export function parseLabModelArgs(argv: readonly string[]): LabModelArgs {
  const { sub, values, positional, json } = parseSubcommand('lab-model', SUBCOMMANDS, argv, VALUE_FLAGS);
  const needsId = sub === 'evaluate' || sub === 'approve' || sub === 'retire' || sub === 'export';
  const needsFile = sub === 'import';
  if (needsId && positional.length !== 1) throw new UsageError(`lab-model ${sub} needs the lab model's id (see lab-model list).`);
  if (needsFile && positional.length !== 1) throw new UsageError('lab-model import needs the package file (.json) exported on the other PC.');
  if (!needsId && !needsFile && positional.length > 0) throw new UsageError(`lab-model ${sub} takes no ${positional[0]}.`);
  const id = needsId ? Number(positional[0]) : null;
  if (id !== null && (!Number.isSafeInteger(id) || id < 1)) throw new UsageError(`The lab model id must be a positive whole number, not "${positional[0]}".`);
  const required = sub === 'approve' || sub === 'retire' ? ['--reason'] : [];
  for (const flag of required) if (!values.has(flag)) throw new UsageError(`lab-model ${sub} needs ${flag}.`);
  const min = values.get('--min-per-class');
  if (min !== undefined && (!/^\d+$/.test(min) || Number(min) < MINIMUM_PER_CLASS_FLOOR)) {
    throw new UsageError(`--min-per-class must be a whole number of at least ${MINIMUM_PER_CLASS_FLOOR}, not "${min}".`);
  }
  return { sub: sub as Subcommand, id, file: needsFile ? positional[0]! : null, values, json };
}

const f3 = (x: number): string => x.toFixed(3);

function listText(models: readonly LabModelSummary[]): string {
  if (models.length === 0) return 'No lab models yet. Train one with: marrowcount lab-model train\n';
  return `${models
    .map(
      (m) =>
        `${String(m.id).padStart(3)}  ${m.version.padEnd(8)} ${m.status.padEnd(9)} macro-F1 lab ${f3(m.labMacroF1)} / base ${f3(m.baseMacroF1)}  ` +
        `classes ${m.classes.join(',')}  trained by ${m.trainedBy} ${m.trainedAt}${m.approvedBy ? `  approved by ${m.approvedBy} (${m.approvedRole})` : ''}`,
    )
    .join('\n')}\n`;
}

function evaluationText(m: LabModelDetail): string {
  const v = m.validation;
  const lines = [
    `${m.name} — ${m.status}`,
    `Base model ${m.baseModel.modelId} ${m.baseModel.version}; model SHA-256 ${m.sha256}`,
    `Cases: ${m.cases.map((c) => `${c.accession} (${c.fold}, ${c.cells})`).join(', ')}`,
    `Held-out test cells: ${v.lab.cells} (+${v.testCellsOfUnlearnedClasses} of classes not learned: in no recall, against precision)`,
    `Macro-F1: lab ${f3(v.lab.macroF1)}, base ${f3(v.base.macroF1)}; accuracy: lab ${f3(v.lab.accuracy)}, base ${f3(v.base.accuracy)}`,
    '',
    'class  train  test   base P/R/F1          lab P/R/F1',
    ...v.lab.perClass.map((l, i) => {
      const b = v.base.perClass[i]!;
      const train = v.classes.find((c) => c.code === l.code)?.train ?? 0;
      return `${l.code.padEnd(5)} ${String(train).padStart(6)} ${String(l.support).padStart(5)}   ${f3(b.precision)}/${f3(b.recall)}/${f3(b.f1)}   ${f3(l.precision)}/${f3(l.recall)}/${f3(l.f1)}`;
    }),
    '',
    `Calibration: temperature ${v.calibration.temperature.toFixed(2)} (on ${v.calibration.fittedOnCells} calibration cells); ECE ${f3(v.calibration.eceBefore)} -> ${f3(v.calibration.eceAfter)} (base ${f3(v.calibration.baseEce)})`,
  ];
  if (v.openSet) lines.push(`Open-set flag (distance > ${v.openSet.threshold.toFixed(1)}): ${(100 * v.openSet.flaggedShare).toFixed(1)}% of test cells`);
  if (labModelScoresBelowBase(v)) lines.push('', `Warning: ${labModelBelowBaseWarning(v)}`);
  return `${lines.join('\n')}\n`;
}

export async function labModelCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseLabModelArgs(argv);
  const service = await openCliService(
    io,
    `lab-model ${args.sub}`,
    args.values.get('--db'),
    {
      modelDir: resolve(args.values.get('--model') ?? defaultModelDir(io.env)),
      reportsDir: join(homedir(), 'Documents', 'MarrowCount reports'),
      cellImageUrl: (caseId, imageId) => `marrowcell://cell/${caseId}/${imageId}`,
      appVersion: appVersion(),
    },
    { allowWithoutAccounts: true },
  );
  if (service === null) return EXIT.failed;
  try {
    const api = await cliSession(service, io, args.values.get('--user') ?? null, `lab-model ${args.sub}`);
    return await run(service, api, args, io);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof CliAuthError || (error instanceof ServiceError && (error.kind === 'forbidden' || error.kind === 'unauthenticated'))) {
      io.stderr.write(`marrowcount: ${error.message}\n`);
      return EXIT.unauthenticated;
    }
    io.stderr.write(`marrowcount: ${toApiError(error).message}\n`);
    return EXIT.failed;
  } finally {
    await service.close();
  }
}

async function run(host: MarrowService, service: MarrowApi, args: LabModelArgs, io: CliIo): Promise<number> {
  const out = (value: unknown, text: string): void => {
    io.stdout.write(args.json ? `${JSON.stringify(value, null, 2)}\n` : text);
  };
  switch (args.sub) {
    case 'list':
      out(await service.listLabModels(), listText(await service.listLabModels()));
      return EXIT.ok;
    case 'evaluate': {
      const detail = await service.getLabModel(args.id!);
      const card = args.values.get('--card');
      if (card !== undefined) await service.saveLabModelCard({ labModelId: detail.id, path: resolve(card) });
      out(detail, evaluationText(detail));
      return EXIT.ok;
    }
    case 'approve': {
      const detail = await service.approveLabModel({ labModelId: args.id!, reason: args.values.get('--reason')! });
      out(detail, `Lab model ${detail.version} approved by ${detail.approvedBy} (${detail.approvedRole}); it can now analyse cases.\n`);
      return EXIT.ok;
    }
    case 'retire': {
      const detail = await service.retireLabModel({ labModelId: args.id!, reason: args.values.get('--reason')! });
      out(detail, `Lab model ${detail.version} retired by ${detail.retiredBy}; its predictions stay on record.\n`);
      return EXIT.ok;
    }
    case 'export': {
      const file = args.values.get('--out');
      const saved = await service.exportLabModel({ labModelId: args.id!, ...(file === undefined ? {} : { path: resolve(file) }) });
      out(saved, `Lab model package written to ${saved.path} (${saved.bytes} bytes). On the other PC: marrowcount lab-model import <file> --user <login>\n`);
      return EXIT.ok;
    }
    case 'import': {
      const detail = await service.importLabModel({ path: resolve(args.file!) });
      out(detail, `Lab model ${detail.version} (id ${detail.id}) imported by ${detail.importedBy}; pending approval on this PC.\n`);
      return EXIT.ok;
    }
    case 'train': {
      const min = args.values.get('--min-per-class');
      let progress: LabModelTrainingProgress = await service.trainLabModel({
        ...(min === undefined ? {} : { minimumPerClass: Number(min) }),
      });
      io.stderr.write(`Training a lab model on ${progress.cells} reviewed cells of ${progress.cases} signed cases…\n`);
      const removeInterrupt = io.onInterrupt(() => {
        io.stderr.write('\nCancelling the training; nothing will be stored.\n');
        void service.cancelLabModelTraining();
      });
      try {
        progress = await host.whenLabModelTrained();
      } finally {
        removeInterrupt();
      }
      if (progress.phase === 'cancelled') {
        io.stderr.write('Training cancelled; nothing was stored.\n');
        return EXIT.cancelled;
      }
      if (progress.phase !== 'done') throw new Error(progress.message ?? 'The training failed.');
      const detail = await service.getLabModel(progress.labModelId!);
      out(
        detail,
        `Lab model ${detail.version} (id ${detail.id}) trained in ${progress.seconds.toFixed(1)} s; pending approval.\n${evaluationText(detail)}` +
          `Approve it with: marrowcount lab-model approve ${detail.id} --user <pathologist login> --reason <text>\n`,
      );
      return EXIT.ok;
    }
  }
}
