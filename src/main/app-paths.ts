// Where MarrowCount keeps its files. The database lives in the per-user data folder (never next to the program,
// which may be read-only) unless the launch names another: `--db <file or postgres:// URL>` on the command line,
// else MARROWCOUNT_DATABASE_URL in the environment. Neither can be a setting inside the database it selects, so
// the desktop app reads them from how it was launched (a shortcut's arguments, the lab's environment). The bundled
// model is found beside the app in development and in resources/ when packaged.
import { join } from 'node:path';
import { app } from 'electron';
import { resolveDatabaseLocation } from './db/store';
import { DATABASE_FILE_NAME, modelDirFrom } from './files/locations';

export interface AppPaths {
  modelDir: string;
  reportsDir: string;
  rendererIndex: string;
  preload: string;
}

export function appPaths(): AppPaths {
  const resources = app.isPackaged ? join(process.resourcesPath, 'resources') : join(app.getAppPath(), 'resources');
  return {
    modelDir: modelDirFrom(process.env, resources),
    reportsDir: join(app.getPath('documents'), 'MarrowCount reports'),
    rendererIndex: join(import.meta.dirname, '../renderer/index.html'),
    preload: join(import.meta.dirname, '../preload/index.cjs'),
  };
}

/**
 * The database this launch uses: a SQLite file or a PostgreSQL URL (db/store.ts openStore). Throws
 * StoreLocationError for a location no build can open (an unknown URL scheme).
 */
export function appDatabaseLocation(): string {
  return resolveDatabaseLocation({
    cliOption: launchOption(process.argv, '--db'),
    env: process.env,
    default: join(app.getPath('userData'), DATABASE_FILE_NAME),
  }).location;
}

/** `--name value` or `--name=value` among the app's launch arguments; null when absent. */
export function launchOption(argv: readonly string[], name: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === name) return argv[i + 1] ?? null;
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return null;
}
