// Where MarrowCount keeps its files. The database lives in the per-user data folder (never next to the program,
// which may be read-only); the bundled model is found beside the app in development and in resources/ when packaged.
import { join } from 'node:path';
import { app } from 'electron';

export interface AppPaths {
  databasePath: string;
  modelDir: string;
  reportsDir: string;
  rendererIndex: string;
  preload: string;
}

export const BUNDLED_MODEL_ID = 'marrowcount-ref';

export function appPaths(): AppPaths {
  const resources = app.isPackaged ? join(process.resourcesPath, 'resources') : join(app.getAppPath(), 'resources');
  return {
    databasePath: join(app.getPath('userData'), 'marrowcount.sqlite'),
    modelDir: process.env['MARROWCOUNT_MODEL_DIR'] ?? join(resources, 'models', BUNDLED_MODEL_ID),
    reportsDir: join(app.getPath('documents'), 'MarrowCount reports'),
    rendererIndex: join(import.meta.dirname, '../renderer/index.html'),
    preload: join(import.meta.dirname, '../preload/index.cjs'),
  };
}
