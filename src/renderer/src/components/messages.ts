import { createContext, useContext } from 'react';
import { MarrowApiError } from '../../../shared/api';

export interface Messages {
  /** Shows an error in the banner until dismissed. `context` says what was being done ("Saving the review"). */
  reportError(error: unknown, context?: string): void;
  /** Shows a short success message. */
  notify(text: string): void;
}

export const MessagesContext = createContext<Messages | null>(null);

export function useMessages(): Messages {
  const messages = useContext(MessagesContext);
  if (messages === null) throw new Error('useMessages() is used outside <MessagesProvider>.');
  return messages;
}

/** Readable text for any thrown value; API errors carry a message written for the user already. */
export function errorText(error: unknown): string {
  if (error instanceof MarrowApiError) return error.message;
  if (error instanceof Error) return error.message.length > 0 ? error.message : error.name;
  return `Unexpected error: ${String(error)}`;
}

export function isApiError(error: unknown, kind?: MarrowApiError['kind']): error is MarrowApiError {
  // Errors from the preload cross a context bridge and may lose their prototype; recognise them by shape too.
  const shaped =
    error instanceof MarrowApiError ||
    (typeof error === 'object' && error !== null && 'kind' in error && 'message' in error);
  return shaped && (kind === undefined || (error as MarrowApiError).kind === kind);
}
