// The names of MarrowCount's own files, for the two entry points that choose where they are (the desktop app,
// app-paths.ts, and the CLI, cli/paths.ts): written once here, so both open the same database and model.
import { join } from 'node:path';

export { DATABASE_FILE_NAME } from '../db';

/** The model package shipped with MarrowCount: resources/models/<id>. */
export const BUNDLED_MODEL_ID = 'marrowcount-ref';

/**
 * The model package folder: MARROWCOUNT_MODEL_DIR when set and not empty (an empty value, as a shell leaves
 * `MARROWCOUNT_MODEL_DIR=` behind, means not set), else the bundled model in `resourcesDir`.
 */
export function modelDirFrom(env: NodeJS.ProcessEnv, resourcesDir: string): string {
  const given = env['MARROWCOUNT_MODEL_DIR'];
  return given !== undefined && given !== '' ? given : join(resourcesDir, 'models', BUNDLED_MODEL_ID);
}
