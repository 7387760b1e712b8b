import { isAbsolute, relative, sep } from 'node:path';

/**
 * True when `path` lies strictly inside `folder` (both already resolved, symlinks followed by the caller).
 * A name that merely starts with two dots ("..notes.jpg") is inside; "..", "../x" and another drive are not.
 */
export function isPathInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
