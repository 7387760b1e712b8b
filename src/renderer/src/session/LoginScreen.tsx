import { useState, type FormEvent } from 'react';
import type { SessionInfo } from '../../../shared/api';
import { getApi } from '../api';
import { ConnectToServer } from './ConnectToServer';
import { useSubmit } from './useSubmit';

export function LoginScreen({ onDone, labName }: { onDone: (session: SessionInfo) => void; labName: string }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useSubmit();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const session = await getApi().login({ login: login.trim(), password });
      setPassword('');
      onDone(session);
    });
  };
  return (
    <div className="gate" data-testid="login-screen">
      <form className="gate-box form" onSubmit={submit}>
        <h1 className="gate-title">MarrowCount</h1>
        {labName !== '' && <p className="gate-lab">{labName}</p>}
        <p className="gate-lead">Log in: every review and signature is recorded under your name.</p>
        <label className="field">
          <span className="field-label">Login name</span>
          <input autoFocus autoComplete="username" value={login} data-testid="login-name" onChange={(e) => setLogin(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input type="password" autoComplete="current-password" value={password} data-testid="login-password" onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error !== null && (
          <p className="form-error" role="alert" data-testid="login-error">
            {error.message}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || login.trim() === '' || password === ''} data-testid="login-submit">
            Log in
          </button>
        </div>
      </form>
      <ConnectToServer />
    </div>
  );
}
