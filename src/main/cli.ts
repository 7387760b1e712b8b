// The headless entry point (bin/marrowcount → out/main/cli.js): a thin adapter over the application service, like
// the IPC handlers and the loopback HTTP host. Usage and exit codes: src/main/cli/args.ts.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeCommand, EXIT, type CliIo } from './cli/analyze';
import { parseArgs, USAGE, UsageError } from './cli/args';
import { dbCommand } from './cli/db';
import { labModelCommand } from './cli/lab-model';
import { serverCommand } from './cli/server';
import { usersCommand } from './cli/users';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv[0] === 'lab-model' && !argv.includes('--help') && !argv.includes('-h')) return await labModelCommand(argv.slice(1), io);
    if (argv[0] === 'server' && !argv.includes('--help') && !argv.includes('-h')) return await serverCommand(argv.slice(1), io);
    if (argv[0] === 'db' && !argv.includes('--help') && !argv.includes('-h')) return await dbCommand(argv.slice(1), io);
    if (argv[0] === 'users' && !argv.includes('--help') && !argv.includes('-h')) return await usersCommand(argv.slice(1), io);
    const args = parseArgs(argv);
    if (args.command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    return await analyzeCommand(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(error.hint !== null ? `marrowcount: ${error.message}\n${error.hint}\n` : `marrowcount: ${error.message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** Reads a line from the terminal without echoing it (a password). */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolvePrompt, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let typed = '';
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolvePrompt(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
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
      // The first Ctrl-C stops after the batch in hand (every stored batch is whole); a second one quits at once,
      // which SQLite's transactions make safe too.
      let interrupts = 0;
      const listener = (): void => {
        interrupts += 1;
        if (interrupts > 1) process.exit(EXIT.cancelled);
        handler();
      };
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
    ...(process.stdin.isTTY ? { readSecret: promptHidden } : {}),
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
