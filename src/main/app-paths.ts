// Where MarrowCount keeps its files. The database lives in the per-user data folder (never next to the program,
// which may be read-only); the bundled model is found beside the app in development and in resources/ when packaged.
import { join } from 'node:path';
import { app } from 'electron';
import { DATABASE_FILE_NAME, modelDirFrom } from './files/locations';

export interface AppPaths {
  databasePath: string;
  modelDir: string;
  reportsDir: string;
  rendererIndex: string;
  preload: string;
}

export function appPaths(): AppPaths {
  const resources = app.isPackaged ? join(process.resourcesPath, 'resources') : join(app.getAppPath(), 'resources');
  return {
    databasePath: join(app.getPath('userData'), DATABASE_FILE_NAME),
    modelDir: modelDirFrom(process.env, resources),
    reportsDir: join(app.getPath('documents'), 'MarrowCount reports'),
    rendererIndex: join(import.meta.dirname, '../renderer/index.html'),
    preload: join(import.meta.dirname, '../preload/index.cjs'),
  };
}
