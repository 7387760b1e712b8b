// Errors as the renderer meets them. Over HTTP they are MarrowApiError instances; from the Electron preload they
// are plain objects of the same shape (contextBridge copies objects, not prototypes), so both are recognised by shape.
import { MarrowApiError, type ApiErrorKind } from '../../../shared/api';

export interface ApiErrorLike {
  kind: ApiErrorKind;
  message: string;
  field?: string | undefined;
  detail?: string | undefined;
}

export function isApiError(error: unknown, kind?: ApiErrorKind): error is ApiErrorLike {
  const shaped =
    error instanceof MarrowApiError ||
    (typeof error === 'object' &&
      error !== null &&
      typeof (error as { kind?: unknown }).kind === 'string' &&
      typeof (error as { message?: unknown }).message === 'string');
  return shaped && (kind === undefined || (error as ApiErrorLike).kind === kind);
}

/** Readable text for any thrown value; API errors carry a message written for the user already. */
export function errorText(error: unknown): string {
  if (isApiError(error)) return error.message;
  if (error instanceof Error) return error.message.length > 0 ? error.message : error.name;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  if (typeof error === 'string' && error.length > 0) return error;
  if (typeof error === 'object' && error !== null) {
    let text: string;
    try {
      text = JSON.stringify(error);
    } catch {
      text = Object.prototype.toString.call(error);
    }
    return `Unexpected error: ${text}`;
  }
  return `Unexpected error: ${String(error)}`;
}

/** The technical detail of an API error, shown small under its message; null when there is none. */
export function errorDetail(error: unknown): string | null {
  return isApiError(error) && typeof error.detail === 'string' && error.detail.length > 0 ? error.detail : null;
}
