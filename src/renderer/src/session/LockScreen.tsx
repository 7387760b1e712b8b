import { useState, type FormEvent } from 'react';
import type { SessionInfo, UserSummary } from '../../../shared/api';
import { getApi } from '../api';
import { LoginScreen } from './LoginScreen';
import { useSubmit } from './useSubmit';

/** Laid over the app after the idle time: the same person unlocks with the password, or another person logs in. */
export function LockScreen({ user, labName, onDone }: { user: UserSummary; labName: string; onDone: (session: SessionInfo) => void }) {
  const [password, setPassword] = useState('');
  const [otherPerson, setOtherPerson] = useState(false);
  const { busy, error, run } = useSubmit();
  if (otherPerson) {
    return (
      <div className="gate-overlay">
        <LoginScreen onDone={onDone} labName={labName} />
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const session = await getApi().unlockSession({ password });
      setPassword('');
      onDone(session);
    });
  };
  return (
    <div className="gate gate-overlay" data-testid="lock-screen">
      <form className="gate-box form" onSubmit={submit}>
        <h1 className="gate-title">Screen locked</h1>
        <p className="gate-lead">
          Locked for <strong data-testid="lock-user">{user.displayName}</strong> (idle, or locked on leaving). Your work is kept as it was.
        </p>
        <label className="field">
          <span className="field-label">Password</span>
          <input
            type="password"
            autoFocus
            autoComplete="current-password"
            value={password}
            data-testid="lock-password"
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error !== null && (
          <p className="form-error" role="alert" data-testid="lock-error">
            {error.message}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || password === ''} data-testid="lock-submit">
            Unlock
          </button>
          <button type="button" data-testid="lock-other-person" onClick={() => setOtherPerson(true)}>
            Log in as another person
          </button>
        </div>
      </form>
    </div>
  );
}
