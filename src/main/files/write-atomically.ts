// Every file MarrowCount hands to someone else (a report, an export, a lab-model package, a message in the LIS
// outbox) is written to a temporary file beside the target and renamed into place, so a reader (the PDF viewer, a
// LIS file watcher) never sees half a file, and a failed write leaves any earlier file of that name untouched.
import { mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface WrittenFile {
  path: string;
  bytes: number;
}

/** The write failed; nothing was left behind. `reason` is the system's own words, the message says what to do. */
export class FileWriteError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    options: { cause: unknown },
  ) {
    super(`Could not write ${path}: ${reason}. Choose a folder you can write to.`, options);
    this.name = 'FileWriteError';
  }
}

export function writeAtomically(outPath: string, content: string | Buffer): WrittenFile {
  const temporary = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.partial`);
  try {
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(temporary, content);
    renameSync(temporary, outPath);
    return { path: outPath, bytes: statSync(outPath).size };
  } catch (e) {
    try {
      unlinkSync(temporary);
    } catch (cleanup) {
      // Nothing was written, or it is already gone: the write error is the one to report.
      void cleanup;
    }
    throw new FileWriteError(outPath, e instanceof Error ? e.message : String(e), { cause: e });
  }
}
