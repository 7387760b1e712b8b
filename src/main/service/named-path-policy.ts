// Where a caller may name a file for the service to write or read (a report, an export, a lab-model package), on the
// lab server. On the desktop the person names files on their own PC; on the server a station would otherwise name
// any path the server's account can write (the database itself, were its name to end in an allowed extension) or
// read. The server sets namedPathRoot (its reports folder): a named path must resolve, symlinks followed, inside it.
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { outputPath } from '../files/output-path';
import { isPathInside } from '../security/path-inside';
import type { ServiceContext } from './context';
import { validationError } from './errors';

/** The real path of `path`, or of its nearest existing ancestor with the rest appended (a file not written yet). */
function realpathNearest(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realpathNearest(parent), basename(path));
  }
}

export function checkNamedPath(ctx: ServiceContext, path: string, field = 'path'): void {
  const root = ctx.options.namedPathRoot;
  if (root === undefined) return;
  const realRoot = realpathNearest(resolve(root));
  if (!isPathInside(realRoot, realpathNearest(resolve(path)))) {
    throw validationError(field, `On the lab server files are kept under ${root}; ${path} is outside it. Give a path under it, or none for the default name.`);
  }
}

/** The file to write: the caller's named path (absolute, the format's extension, and on the server inside its root)
 *  or the default name. */
export function namedOutputPath(ctx: ServiceContext, given: string | undefined, fallback: string, extension: string): string {
  const path = outputPath(given, fallback, extension);
  if (given !== undefined) checkNamedPath(ctx, path);
  return path;
}
