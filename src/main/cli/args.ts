// Command-line parsing for `marrowcount`. Strict: an unknown flag or a missing value is a usage error (exit 1)
// naming it, never silently ignored, because a mistyped --db would otherwise analyse into the wrong database.
import { SERVER_USAGE } from './server-usage';

export const LAB_MODEL_USAGE = `  marrowcount lab-model train [--min-per-class <n>]
                                           train a lab model on the reviewed cells of signed cases (pending until approved)
  marrowcount lab-model evaluate <id> [--card <file.pdf>]
                                           print its validation on held-out cases beside the base model
  marrowcount lab-model list               list the lab models and their status
  marrowcount lab-model approve <id> --reason <text>     (--user: a pathologist)
  marrowcount lab-model retire <id> --reason <text>      (--user: a pathologist)
  marrowcount lab-model export <id> [--out <file.json>]
                                           write the lab model's package, to import on another PC of the lab
  marrowcount lab-model import <file.json>
                                           store a package exported on another PC, pending approval here
    (each also takes --db <file or URL>, --model <dir>, --json and, once the database has accounts, --user <login>)`;

export const USERS_USAGE = `  marrowcount users add <login> --name <display name> --role <role>[,<role>...]
                                           on a database without accounts: the first administrator (no --user)
  marrowcount users list [--json]
  marrowcount users disable <login> | users enable <login>
  marrowcount users reset-password <login>  the person must choose a new password at the next login
    (a new password comes from MARROWCOUNT_NEW_PASSWORD or a prompt; roles: technician, pathologist, admin)`;

export const USAGE = `Usage:
  marrowcount analyze <folder> [options]   classify every cell crop in <folder> and print the differential
  marrowcount lab-model <train|evaluate|list|approve|retire|export|import> ...   the lab's own model (below)
  marrowcount users <add|list|disable|enable|reset-password> ...   user accounts (below)
  marrowcount server ...                   the lab server for several stations (below)
  marrowcount db copy --from <file.sqlite> --to postgres://user@host:port/database [--json]
                                           copy a station's SQLite database into an empty PostgreSQL database
                                           (one transaction; every table's rows counted and hashed on both sides)
  marrowcount --help                       show this help

Options for analyze:
  --db <file or URL> the database: a SQLite file or a postgres:// URL (the lab's PostgreSQL database).
                     Default: env MARROWCOUNT_DATABASE_URL, else env MARROWCOUNT_DB, else the app's own
                     file in the per-user data folder
  --patient <id>     patient identifier (default: DEMO)
  --case <id>        accession / case number (default: the folder's name); re-running the same
                     folder and case resumes it: only cells without a prediction are classified
  --model <dir>      model package folder with model.onnx + model.json
                     (default: the bundled resources/models/marrowcount-ref; env MARROWCOUNT_MODEL_DIR)
  --json             print one JSON object instead of text
  --report <file>    also write the case's PDF report (DRAFT until signed in the app)
  --cells-csv <file> also write one CSV row per cell: file, the model's class and confidence, flag
                     and its reasons, the reviewer's decision if any, and the class that counts
  --batch-size <n>   cells per model run (default 32)
  --confirm-shared-crops <reason>
                     create the case although its crops (same content) are already another patient's
                     case; the reason is recorded with the user. Without it such a folder is refused
  --user <login>     who analyses (a technician); needed once the database has user accounts. The password
                     comes from MARROWCOUNT_PASSWORD or is asked on the terminal

Lab models (a head trained on the lab's reviewed cells of signed cases; usable once approved):
${LAB_MODEL_USAGE}

User accounts (each also takes --db <file or URL>; all but the first "users add" need --user <admin login>):
${USERS_USAGE}

Lab server:
${SERVER_USAGE}

Exit codes: 0 analysed, 1 bad usage, 2 analysed but some files failed (they are listed),
            3 the analysis could not run (model package, database), 4 login refused or role missing,
            130 cancelled (Ctrl-C).`;

export interface AnalyzeArgs {
  command: 'analyze';
  folder: string;
  db: string | null;
  patient: string;
  caseId: string | null;
  model: string | null;
  json: boolean;
  report: string | null;
  cellsCsv: string | null;
  batchSize: number | null;
  /** The technician the analysis is recorded against; required once the database has accounts. */
  user: string | null;
  /** The reason recorded when the folder's crops already belong to another patient's case; null: refuse such a folder. */
  confirmSharedCrops: string | null;
}

export type CliArgs = AnalyzeArgs | { command: 'help' };

export class UsageError extends Error {
  /**
   * Set for a command that was well formed but named something wrong (a folder that does not exist): the message and
   * this hint are printed instead of the whole usage, which would bury the one line that matters.
   */
  readonly hint: string | null;

  constructor(message: string, hint: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

/**
 * A subcommand's words (`users add …`, `lab-model approve …`): which subcommand, `--json`, each known value flag as
 * `--flag value` or `--flag=value` (once, not empty), and the remaining words in order. Unknown flags are refused.
 */
export function parseSubcommand<S extends string>(
  command: string,
  subcommands: readonly S[],
  argv: readonly string[],
  valueFlags: ReadonlySet<string>,
): { sub: S; values: Map<string, string>; positional: string[]; json: boolean } {
  const [sub, ...rest] = argv;
  if (sub === undefined || !(subcommands as readonly string[]).includes(sub)) {
    throw new UsageError(`${command} needs one of ${subcommands.join(', ')}${sub === undefined ? '' : `, not "${sub}"`}.`);
  }
  const values = new Map<string, string>();
  const positional: string[] = [];
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (token === '--json') json = true;
    else if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq < 0 ? token : token.slice(0, eq);
      if (!valueFlags.has(name)) throw new UsageError(`Unknown option "${name}".`);
      const value = eq >= 0 ? token.slice(eq + 1) : rest[++i];
      if (value === undefined || value.trim() === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${name} needs a value.`);
      if (values.has(name)) throw new UsageError(`${name} is given twice.`);
      values.set(name, value);
    } else positional.push(token);
  }
  return { sub: sub as S, values, positional, json };
}

const VALUE_FLAGS = new Set(['--db', '--patient', '--case', '--model', '--report', '--cells-csv', '--batch-size', '--user', '--confirm-shared-crops']);
const BOOLEAN_FLAGS = new Set(['--json']);

export function parseArgs(argv: readonly string[]): CliArgs {
  if (argv.length === 0) throw new UsageError('No command given.');
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { command: 'help' };
  const [command, ...rest] = argv;
  if (command !== 'analyze' && command !== 'analyse') throw new UsageError(`Unknown command "${command}".`);

  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq < 0 ? token : token.slice(0, eq);
      if (BOOLEAN_FLAGS.has(name)) {
        if (eq >= 0) throw new UsageError(`${name} takes no value.`);
        flags.add(name);
      } else if (VALUE_FLAGS.has(name)) {
        const value = eq >= 0 ? token.slice(eq + 1) : rest[++i];
        if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${name} needs a value.`);
        if (values.has(name)) throw new UsageError(`${name} is given twice.`);
        values.set(name, value);
      } else {
        throw new UsageError(`Unknown option "${name}".`);
      }
    } else {
      positional.push(token);
    }
  }
  if (positional.length === 0) throw new UsageError('analyze needs the folder of cell images.');
  if (positional.length > 1) throw new UsageError(`analyze takes one folder; got ${positional.length}: ${positional.join(', ')}.`);

  let batchSize: number | null = null;
  const batchText = values.get('--batch-size');
  if (batchText !== undefined) {
    batchSize = Number(batchText);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024)
      throw new UsageError(`--batch-size must be a whole number from 1 to 1024, not "${batchText}".`);
  }
  const patient = values.get('--patient') ?? 'DEMO';
  const caseId = values.get('--case') ?? null;
  if (patient.trim() === '') throw new UsageError('--patient must not be blank.');
  if (caseId !== null && caseId.trim() === '') throw new UsageError('--case must not be blank.');
  const confirmSharedCrops = values.get('--confirm-shared-crops') ?? null;
  if (confirmSharedCrops !== null && confirmSharedCrops.trim() === '') throw new UsageError('--confirm-shared-crops needs the reason, not a blank.');

  return {
    command: 'analyze',
    folder: positional[0]!,
    db: values.get('--db') ?? null,
    patient,
    caseId,
    model: values.get('--model') ?? null,
    json: flags.has('--json'),
    report: values.get('--report') ?? null,
    cellsCsv: values.get('--cells-csv') ?? null,
    batchSize,
    user: values.get('--user') ?? null,
    confirmSharedCrops: confirmSharedCrops === null ? null : confirmSharedCrops.trim(),
  };
}
