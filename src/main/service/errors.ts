// One place that turns whatever a layer below throws into the ApiErrorBody every transport carries. The kind is
// what the renderer acts on (show a field error, offer "amend", offer "override"); the message is what a person
// reads, so it is passed through from the layer that knew which file or field was at fault.
import type { ApiErrorBody, ApiErrorKind } from '../../shared/api';
import { DatabaseError, type DatabaseErrorKind } from '../db/errors';
import { OutputPathError } from '../files/output-path';
import { FileWriteError } from '../files/write-atomically';
import { CaseFolderError, ImageDecodeError, ModelPackageError } from '../inference/errors';

/** An error raised by the service itself (business rules, argument checks at the boundary). */
export class ServiceError extends Error {
  readonly kind: ApiErrorKind;
  readonly field: string | undefined;
  readonly detail: string | undefined;

  constructor(kind: ApiErrorKind, message: string, options?: { field?: string; detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.kind = kind;
    this.field = options?.field;
    this.detail = options?.detail;
  }
}

export function validationError(field: string, message: string): ServiceError {
  return new ServiceError('validation', message, { field });
}

const DATABASE_KIND_TO_API: Record<DatabaseErrorKind, ApiErrorKind> = {
  corrupt: 'database',
  newer_schema: 'database',
  migration_history: 'database',
  locked: 'database',
  read_only: 'database',
  constraint: 'conflict',
  not_found: 'not_found',
  signed_case: 'locked',
  duplicate: 'conflict',
  unknown_class: 'validation',
  io: 'io',
};

/** Node's system errors (fs, net) carry a string code such as ENOENT; they are I/O failures a person can act on. */
function systemErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

function body(kind: ApiErrorKind, message: string, field?: string, detail?: string): ApiErrorBody {
  const result: ApiErrorBody = { kind, message };
  if (field !== undefined) result.field = field;
  if (detail !== undefined) result.detail = detail;
  return result;
}

/** Maps any thrown value to the body every transport returns. Unexpected errors are logged: they are bugs. */
export function toApiError(e: unknown): ApiErrorBody {
  if (e instanceof ServiceError) return body(e.kind, e.message, e.field, e.detail);
  if (e instanceof DatabaseError) return body(DATABASE_KIND_TO_API[e.kind], e.message, undefined, e.detail);
  if (e instanceof ModelPackageError) return body('model', e.message, e.field, e.file);
  if (e instanceof OutputPathError) return body('validation', e.message, e.field);
  if (e instanceof FileWriteError) return body('io', e.message, 'path');
  if (e instanceof CaseFolderError) return body('io', e.message, 'folder', e.folder);
  if (e instanceof ImageDecodeError) return body('io', e.message, undefined, e.file);
  const code = systemErrorCode(e);
  if (code !== undefined && e instanceof Error) return body('io', e.message, undefined, code);
  console.error('MarrowCount: unexpected error', e);
  const message = e instanceof Error ? e.message : String(e);
  return body('internal', `Something went wrong inside MarrowCount: ${message}`, undefined, e instanceof Error ? e.stack : undefined);
}
