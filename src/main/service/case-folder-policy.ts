// Where a case's crops may be read from, on the lab server. A station names a folder by path; without a limit a
// station could make the server read (and show as cells) any image its account can read. The server is started
// with --cases-root (the lab's share) and keeps uploads in its own folder; a folder that resolves, symlinks
// followed, outside every allowed root is refused. The desktop app has no limit: its person is at the machine.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { isPathInside } from '../security/path-inside';
import { validationError } from './errors';

/**
 * Present in an upload's folder while files are still missing (written by the server's upload handler, removed
 * when the last file is stored and verified): a case cannot be made from a part of its crops.
 */
export const UPLOAD_INCOMPLETE_MARKER = '.marrowcount-upload-incomplete.json';

/** Throws a validation error naming the folder when it lies outside every root (after following symlinks). */
export function checkFolderUnderRoots(folder: string, roots: readonly string[]): void {
  let real: string;
  try {
    real = realpathSync(folder);
  } catch {
    return; // a missing folder is refused by the existence check, with its own message
  }
  const realRoots = roots.flatMap((root) => {
    try {
      return [realpathSync(root)];
    } catch {
      return [];
    }
  });
  if (!realRoots.some((root) => real === root || isPathInside(root, real))) {
    throw validationError(
      'folder',
      `${folder} is outside the folders this server reads cases from (${roots.join(', ')})${real !== folder ? `; it leads to ${real}` : ''}. Put the case under the cases root, or upload its crops from the station.`,
    );
  }
}

/** Throws when the folder is an upload still missing files. */
export function checkUploadComplete(folder: string): void {
  const marker = join(folder, UPLOAD_INCOMPLETE_MARKER);
  if (!existsSync(marker)) return;
  let missing = '';
  try {
    const state = JSON.parse(readFileSync(marker, 'utf8')) as { expected?: number; stored?: number };
    if (typeof state.expected === 'number' && typeof state.stored === 'number') missing = ` (${state.stored} of ${state.expected} files stored)`;
  } catch {
    // the marker's presence is what counts; its count is only for the message
  }
  throw validationError('folder', `The upload of ${folder} is not complete${missing}. Send the remaining files, then create the case.`);
}
