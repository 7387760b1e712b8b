// Failures while producing a report or an export, sorted into what the person can do about them.

export type ReportErrorKind =
  | 'fonts_missing' // the app's embedded fonts are not where they ship: reinstall
  | 'not_analysed' // the case has no classified cells yet: analyse it first
  | 'write_failed'; // the output file could not be written: choose another folder

export class ReportError extends Error {
  readonly kind: ReportErrorKind;
  /** The file the failure concerns, when there is one. */
  readonly path: string | undefined;

  constructor(kind: ReportErrorKind, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReportError';
    this.kind = kind;
    this.path = options?.path;
  }
}
