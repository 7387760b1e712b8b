import { createContext, useContext } from 'react';

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

export { errorDetail, errorText, isApiError } from '../api/errors';
