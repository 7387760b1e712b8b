// Typed errors across the worker boundary: structured clone keeps only message and name, so the fields a caller
// acts on (kind, field, file) are copied out and the same error class is rebuilt on the other side.
import { DatabaseError, type DatabaseErrorKind } from '../db/errors';
import { CaseFolderError, ImageDecodeError, ModelPackageError } from './errors';
import type { SerializedError } from './worker-protocol';

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ModelPackageError) {
    return { name: error.name, message: error.message, file: error.file, ...(error.field === undefined ? {} : { field: error.field }) };
  }
  if (error instanceof CaseFolderError) return { name: error.name, message: error.message, file: error.folder };
  if (error instanceof ImageDecodeError) return { name: error.name, message: error.message, file: error.file };
  if (error instanceof DatabaseError) {
    return { name: error.name, message: error.message, kind: error.kind, ...(error.detail === undefined ? {} : { detail: error.detail }) };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
  return { name: 'Error', message: String(error) };
}

export function deserializeError(error: SerializedError): Error {
  switch (error.name) {
    case 'ModelPackageError':
      return new ModelPackageError(error.message, error.file ?? '', error.field);
    case 'CaseFolderError':
      return new CaseFolderError(error.message, error.file ?? '');
    case 'ImageDecodeError':
      return new ImageDecodeError(error.message, error.file ?? '');
    case 'DatabaseError':
      return new DatabaseError((error.kind ?? 'io') as DatabaseErrorKind, error.message, error.detail === undefined ? undefined : { detail: error.detail });
    default: {
      const rebuilt = new Error(error.message);
      rebuilt.name = error.name;
      if (error.stack !== undefined) rebuilt.stack = error.stack;
      return rebuilt;
    }
  }
}
