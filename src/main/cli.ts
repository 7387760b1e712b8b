// The headless entry point (bin/marrowcount → out/main/cli.js): a thin adapter over the application service, like
// the IPC handlers and the loopback HTTP host. Usage and exit codes: src/main/cli/args.ts.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeCommand, EXIT, type CliIo } from './cli/analyze';
import { parseArgs, USAGE, UsageError } from './cli/args';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    return await analyzeCommand(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`marrowcount: ${error.message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`marrowcount: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
