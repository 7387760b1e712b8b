// What the window shows before and around the app: the first-start screen (no account yet), the login screen, the
// forced password change, and the lock screen laid over the app (which stays mounted underneath, so a locked
// screen comes back as it was left). The app itself is rendered only for an active session and is keyed by the
// person, so another person logging in at the lock screen starts from a clean app.
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { MarrowApiMethod, SessionInfo } from '../../../shared/api';
import { mayCall } from '../../../shared/roles';
import { getApi, onSessionProblem } from '../api';
import { errorText } from '../api/errors';
import { Loading } from '../components/Loading';
import { SessionContext, type SessionState } from '../hooks/session';
import { FirstStartScreen } from './FirstStartScreen';
import { LockScreen } from './LockScreen';
import { LoginScreen } from './LoginScreen';
import { PasswordChangeScreen } from './PasswordChangeScreen';
import { useIdleLock } from './useIdleLock';

export function SessionGate({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    getApi()
      .getSession()
      .then(setSession, (e: unknown) => setLoadError(errorText(e)));
  }, []);

  useEffect(refresh, [refresh]);
  useEffect(() => onSessionProblem(refresh), [refresh]);

  const active = session?.state === 'active' && session.user !== null && !session.user.mustChangePassword;

  const lock = useCallback(() => {
    getApi()
      .lockSession()
      .then(setSession, (e: unknown) => console.warn('MarrowCount: locking the session failed', e));
  }, []);
  useIdleLock(active ? session.idleLockMinutes : null, lock);

  const state = useMemo<SessionState | null>(() => {
    if (session === null || session.user === null) return null;
    const user = session.user;
    return { session, user, setSession, may: (method: MarrowApiMethod) => mayCall(method, user.roles) };
  }, [session]);

  if (loadError !== null)
    return (
      <p className="form-error" role="alert">
        {loadError}
      </p>
    );
  if (session === null) return <Loading what="MarrowCount" />;
  if (session.state === 'first_start') return <FirstStartScreen onDone={setSession} labName={session.labName} />;
  if (session.state === 'logged_out' || session.user === null) return <LoginScreen onDone={setSession} labName={session.labName} />;
  if (session.user.mustChangePassword) return <PasswordChangeScreen user={session.user} onDone={setSession} forced />;
  // Keyed by the person: unchanged while locked (the app stays as it was), new when another person logs in.
  return (
    <>
      {state !== null && (
        <SessionContext.Provider value={state} key={session.user.id}>
          <div aria-hidden={session.state === 'locked'} className={session.state === 'locked' ? 'app-locked' : undefined}>
            {children}
          </div>
        </SessionContext.Provider>
      )}
      {session.state === 'locked' && <LockScreen user={session.user} labName={session.labName} onDone={setSession} />}
    </>
  );
}
