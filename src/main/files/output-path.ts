// Where a file the caller asked for may be written. A named path must be absolute and carry the format's extension,
// so the renderer cannot be used to overwrite an arbitrary file such as a shell profile; with no name, the caller's
// default (in the reports folder) is used.
import { extname, isAbsolute, resolve } from 'node:path';

/** The path is refused; `field` is the argument at fault ('path'), so the form can show the message beside it. */
export class OutputPathError extends Error {
  readonly field = 'path';
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

export function outputPath(given: string | undefined, fallback: string, extension: string): string {
  if (given === undefined) return fallback;
  if (!isAbsolute(given)) throw new OutputPathError(`The file path must be a full path, not "${given}".`);
  if (extname(given).toLowerCase() !== extension) throw new OutputPathError(`The file name must end in ${extension} (got ${given}).`);
  return resolve(given);
}

/** A file-name-safe form of an accession number: letters, digits, dot, dash and underscore. */
export function safeFileStem(accession: string): string {
  const stem = accession.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return stem === '' ? 'case' : stem.slice(0, 80);
}
