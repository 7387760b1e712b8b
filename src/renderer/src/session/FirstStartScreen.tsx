import { useState, type FormEvent } from 'react';
import type { SessionInfo } from '../../../shared/api';
import { getApi } from '../api';
import { useSubmit } from './useSubmit';

/** A new installation has no account and no default password: the first person creates the administrator. */
export function FirstStartScreen({ onDone, labName }: { onDone: (session: SessionInfo) => void; labName: string }) {
  const [login, setLogin] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const { busy, error, setError, run } = useSubmit();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== repeat) {
      setError({ message: 'The two passwords differ.', field: 'repeat' });
      return;
    }
    void run(async () => onDone(await getApi().createFirstAdmin({ login: login.trim(), displayName: displayName.trim(), password })));
  };
  return (
    <div className="gate" data-testid="first-start-screen">
      <form className="gate-box form" onSubmit={submit}>
        <h1 className="gate-title">Welcome to MarrowCount</h1>
        {labName !== '' && <p className="gate-lab">{labName}</p>}
        <p className="gate-lead">
          No account exists yet. Create the administrator, who then adds the technicians and pathologists (Users). There is no default password.
        </p>
        <label className="field">
          <span className="field-label">Login name</span>
          <input autoFocus autoComplete="username" value={login} data-testid="first-login" onChange={(e) => setLogin(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Full name (printed on records)</span>
          <input value={displayName} data-testid="first-name" onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Password (at least 10 characters)</span>
          <input type="password" autoComplete="new-password" value={password} data-testid="first-password" onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Password again</span>
          <input type="password" autoComplete="new-password" value={repeat} data-testid="first-password-repeat" onChange={(e) => setRepeat(e.target.value)} />
        </label>
        {error !== null && (
          <p className="form-error" role="alert" data-testid="first-error">
            {error.message}
          </p>
        )}
        <div className="form-actions">
          <button
            type="submit"
            className="button-primary"
            disabled={busy || login.trim() === '' || displayName.trim() === '' || password === ''}
            data-testid="first-submit"
          >
            Create administrator
          </button>
        </div>
      </form>
    </div>
  );
}
