// Where the CLI finds its files when the command line does not say: the same per-user database the desktop app
// uses (Electron's userData folder for an app named "MarrowCount"), and the model bundled beside the program.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DATABASE_FILE_NAME, modelDirFrom } from '../files/locations';

/** Electron's app.getPath('userData') after app.setName('MarrowCount'), computed without Electron. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), 'MarrowCount');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'MarrowCount');
  const config = env['XDG_CONFIG_HOME'];
  return join(config !== undefined && config !== '' ? config : join(homedir(), '.config'), 'MarrowCount');
}

/** The SQLite file when nothing names a database: MARROWCOUNT_DB, else the app's own (see cli/database.ts for --db and the URL). */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  return env['MARROWCOUNT_DB'] || join(userDataDir(env), DATABASE_FILE_NAME);
}

/** The project root: the folder holding package.json above this file (src/main/cli or out/main). */
export function appRoot(start: string = import.meta.dirname): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start, '..', '..');
    dir = parent;
  }
}

export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return modelDirFrom(env, join(appRoot(), 'resources'));
}

export function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch (error) {
    // The version only labels output; a missing package.json must not stop an analysis.
    return `unknown (${(error as Error).message})`;
  }
}
