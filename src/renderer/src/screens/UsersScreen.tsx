// The administrator's screen: accounts (add, roles, disable/enable, reset password) and the lab's session rules
// (idle lock, whether a pathologist who counted may sign alone). Accounts are never deleted, only disabled.
import { useEffect, useState, type FormEvent } from 'react';
import type { SecuritySettings, UserSummary } from '../../../shared/api';
import { ROLE_LABELS, ROLES, type Role } from '../../../shared/roles';
import { getApi } from '../api';
import { Dialog } from '../components/Dialog';
import { errorText, useMessages } from '../components/messages';
import { useSession } from '../hooks/session';

function RolePicker({ value, onChange, testId }: { value: Role[]; onChange: (roles: Role[]) => void; testId: string }) {
  return (
    <span className="role-picker" data-testid={testId}>
      {ROLES.map((role) => (
        <label key={role} className="checkbox">
          <input
            type="checkbox"
            checked={value.includes(role)}
            data-testid={`${testId}-${role}`}
            onChange={(e) => onChange(e.target.checked ? [...value, role] : value.filter((r) => r !== role))}
          />
          {ROLE_LABELS[role]}
        </label>
      ))}
    </span>
  );
}

export function UsersScreen({ onClose }: { onClose: () => void }) {
  const { user: me } = useSession();
  const { notify } = useMessages();
  const [users, setUsers] = useState<UserSummary[] | null>(null);
  const [security, setSecurity] = useState<SecuritySettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState({ login: '', displayName: '', password: '', roles: ['technician'] as Role[] });
  const [resetFor, setResetFor] = useState<UserSummary | null>(null);
  const [resetPassword, setResetPassword] = useState('');

  const reload = () => {
    getApi()
      .listUsers()
      .then(setUsers, (e: unknown) => setError(errorText(e)));
  };
  useEffect(() => {
    reload();
    getApi()
      .getSecuritySettings()
      .then(setSecurity, (e: unknown) => setError(errorText(e)));
  }, []);

  const act = async (work: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await work();
      notify(done);
      reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const add = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      await getApi().createUser({ ...draft, login: draft.login.trim(), displayName: draft.displayName.trim() });
      setDraft({ login: '', displayName: '', password: '', roles: ['technician'] });
    }, `Account ${draft.login.trim()} created.`);
  };

  return (
    <Dialog title="Users" testId="users-screen" onClose={onClose} wide>
      {error !== null && (
        <p className="form-error" role="alert" data-testid="users-error">
          {error}
        </p>
      )}
      <table className="users-table" data-testid="users-table">
        <thead>
          <tr>
            <th>Login</th>
            <th>Name</th>
            <th>Roles</th>
            <th>State</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(users ?? []).map((u) => (
            <tr key={u.id} data-testid={`user-row-${u.login}`} className={u.active ? undefined : 'user-disabled'}>
              <td>{u.login}</td>
              <td>{u.displayName}</td>
              <td>
                <RolePicker
                  value={u.roles}
                  testId={`user-roles-${u.login}`}
                  onChange={(roles) => void act(() => getApi().setUserRoles({ userId: u.id, roles }), `Roles of ${u.login} saved.`)}
                />
              </td>
              <td data-testid={`user-state-${u.login}`}>
                {!u.active
                  ? 'Disabled'
                  : u.lockedOutUntil !== null
                    ? `Locked out until ${u.lockedOutUntil.slice(11, 16)} UTC`
                    : u.mustChangePassword
                      ? 'Must change password'
                      : 'Active'}
              </td>
              <td>
                {u.createdAt.slice(0, 10)}
                {u.createdBy !== null ? ` by ${u.createdBy}` : ' (first administrator)'}
              </td>
              <td className="user-actions">
                {u.id !== me.id && (
                  <button
                    type="button"
                    data-testid={`user-toggle-${u.login}`}
                    onClick={() =>
                      void act(() => getApi().setUserActive({ userId: u.id, active: !u.active }), `${u.login} ${u.active ? 'disabled' : 'enabled'}.`)
                    }
                  >
                    {u.active ? 'Disable' : 'Enable'}
                  </button>
                )}
                <button type="button" data-testid={`user-reset-${u.login}`} onClick={() => setResetFor(u)}>
                  Reset password
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      {resetFor !== null && (
        <form
          className="form form-row"
          data-testid="user-reset-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              await getApi().resetUserPassword({ userId: resetFor.id, newPassword: resetPassword });
              setResetFor(null);
              setResetPassword('');
            }, `Password of ${resetFor.login} reset; ${resetFor.displayName} must change it at the next login.`);
          }}
        >
          <label className="field">
            <span className="field-label">Temporary password for {resetFor.displayName}</span>
            <input
              type="password"
              autoComplete="new-password"
              value={resetPassword}
              data-testid="user-reset-password"
              onChange={(e) => setResetPassword(e.target.value)}
            />
          </label>
          <div className="form-actions">
            <button type="submit" className="button-primary" data-testid="user-reset-submit" disabled={resetPassword === ''}>
              Reset
            </button>
            <button type="button" onClick={() => setResetFor(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}

      <h3>Add an account</h3>
      <form className="form" onSubmit={add} data-testid="user-add-form">
        <div className="form-row">
          <label className="field">
            <span className="field-label">Login name</span>
            <input value={draft.login} data-testid="user-add-login" onChange={(e) => setDraft({ ...draft, login: e.target.value })} />
          </label>
          <label className="field">
            <span className="field-label">Full name (printed on records)</span>
            <input value={draft.displayName} data-testid="user-add-name" onChange={(e) => setDraft({ ...draft, displayName: e.target.value })} />
          </label>
          <label className="field">
            <span className="field-label">First password (10+ characters)</span>
            <input
              type="password"
              autoComplete="new-password"
              value={draft.password}
              data-testid="user-add-password"
              onChange={(e) => setDraft({ ...draft, password: e.target.value })}
            />
          </label>
        </div>
        <RolePicker value={draft.roles} testId="user-add-roles" onChange={(roles) => setDraft({ ...draft, roles })} />
        <div className="form-actions">
          <button
            type="submit"
            className="button-primary"
            data-testid="user-add-submit"
            disabled={draft.login.trim() === '' || draft.displayName.trim() === '' || draft.password === '' || draft.roles.length === 0}
          >
            Add account
          </button>
        </div>
      </form>

      {security !== null && (
        <>
          <h3>Sessions and signatures</h3>
          <form
            className="form"
            data-testid="security-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => setSecurity(await getApi().saveSecuritySettings(security)), 'Session settings saved.');
            }}
          >
            <label className="field">
              <span className="field-label">Lock the screen after this many idle minutes</span>
              <input
                type="number"
                min={1}
                max={240}
                value={security.idleLockMinutes}
                data-testid="security-idle-minutes"
                onChange={(e) => setSecurity({ ...security, idleLockMinutes: Number(e.target.value) })}
              />
            </label>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={security.pathologistMaySignAlone}
                data-testid="security-sign-alone"
                onChange={(e) => setSecurity({ ...security, pathologistMaySignAlone: e.target.checked })}
              />
              A pathologist who counted a case may validate and authorise it in one signature
            </label>
            <div className="form-actions">
              <button type="submit" data-testid="security-save">
                Save
              </button>
            </div>
          </form>
        </>
      )}
    </Dialog>
  );
}
