import { createContext, useContext } from 'react';
import type { MarrowApiMethod, SessionInfo, UserSummary } from '../../../shared/api';

export interface SessionState {
  session: SessionInfo;
  /** The logged-in, unlocked person. */
  user: UserSummary;
  /** Whether the role table lets this person call `method`: the renderer hides what it forbids. */
  may(method: MarrowApiMethod): boolean;
  /** Takes a new session state (after login, logout, lock, password change). */
  setSession(session: SessionInfo): void;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === null) throw new Error('useSession() is used outside <SessionGate>.');
  return state;
}
