import { useState, type FormEvent } from 'react';
import type { SessionInfo, UserSummary } from '../../../shared/api';
import { getApi } from '../api';
import { useSubmit } from './useSubmit';

/** The person's own password change; `forced` after an administrator's reset (nothing else is possible until then). */
export function PasswordChangeScreen({
  user,
  onDone,
  onCancel,
  forced = false,
}: {
  user: UserSummary;
  onDone: (session: SessionInfo) => void;
  onCancel?: () => void;
  forced?: boolean;
}) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const { busy, error, setError, run } = useSubmit();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (next !== repeat) {
      setError({ message: 'The two new passwords differ.', field: 'repeat' });
      return;
    }
    void run(async () => onDone(await getApi().changePassword({ currentPassword: current, newPassword: next })));
  };
  return (
    <div className={forced ? 'gate' : 'gate gate-overlay'} data-testid="password-change-screen">
      <form className="gate-box form" onSubmit={submit}>
        <h1 className="gate-title">Change password</h1>
        <p className="gate-lead">
          {forced ? `An administrator reset the password of ${user.displayName}: choose a new one to go on.` : `New password for ${user.displayName}.`}
        </p>
        <label className="field">
          <span className="field-label">{forced ? 'Temporary password' : 'Current password'}</span>
          <input
            type="password"
            autoFocus
            autoComplete="current-password"
            value={current}
            data-testid="password-current"
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label className="field">
          <span className="field-label">New password (at least 10 characters)</span>
          <input type="password" autoComplete="new-password" value={next} data-testid="password-new" onChange={(e) => setNext(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">New password again</span>
          <input type="password" autoComplete="new-password" value={repeat} data-testid="password-repeat" onChange={(e) => setRepeat(e.target.value)} />
        </label>
        {error !== null && (
          <p className="form-error" role="alert" data-testid="password-error">
            {error.message}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || current === '' || next === ''} data-testid="password-submit">
            Change password
          </button>
          {onCancel !== undefined && (
            <button type="button" onClick={onCancel} data-testid="password-cancel">
              Cancel
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
