// Accounts, sessions and the security settings (migration 0009). Password hashing is not done here: the service
// hashes (security/password.ts) and this module stores the hash it is given, never a password.
import type { Role } from '../../shared/roles';
import { appendAudit } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';
import { DatabaseError } from './errors';

export interface UserRow {
  id: number;
  login: string;
  displayName: string;
  roles: Role[];
  active: boolean;
  passwordHash: string;
  mustChangePassword: boolean;
  failedLogins: number;
  lockedOutUntil: string | null;
  createdAt: string;
  createdBy: number | null;
  createdByName: string | null;
}

interface UserDbRow {
  id: number;
  login: string;
  display_name: string;
  roles: string;
  active: number;
  password_hash: string;
  must_change_password: number;
  failed_logins: number;
  locked_out_until: string | null;
  created_at: string;
  created_by: number | null;
  created_by_name: string | null;
}

const SELECT_USER = `SELECT u.*, c.display_name AS created_by_name FROM users AS u LEFT JOIN users AS c ON c.id = u.created_by`;

function toUser(r: UserDbRow): UserRow {
  return {
    id: r.id,
    login: r.login,
    displayName: r.display_name,
    roles: JSON.parse(r.roles) as Role[],
    active: r.active === 1,
    passwordHash: r.password_hash,
    mustChangePassword: r.must_change_password === 1,
    failedLogins: r.failed_logins,
    lockedOutUntil: r.locked_out_until,
    createdAt: r.created_at,
    createdBy: r.created_by,
    createdByName: r.created_by_name,
  };
}

export function countUsers(db: MarrowDatabase): number {
  return read('Counting the accounts', () => (sql(db, 'SELECT count(*) AS n FROM users').get() as { n: number }).n);
}

export function listUsers(db: MarrowDatabase): UserRow[] {
  return read('Reading the accounts', () => (sql(db, `${SELECT_USER} ORDER BY u.login COLLATE NOCASE`).all() as UserDbRow[]).map(toUser));
}

export function findUserByLogin(db: MarrowDatabase, login: string): UserRow | null {
  return read('Reading an account', () => {
    const row = sql(db, `${SELECT_USER} WHERE u.login = ? COLLATE NOCASE`).get(login.trim()) as UserDbRow | undefined;
    return row === undefined ? null : toUser(row);
  });
}

export function getUser(db: MarrowDatabase, userId: number): UserRow {
  return read('Reading an account', () => {
    const row = sql(db, `${SELECT_USER} WHERE u.id = ?`).get(userId) as UserDbRow | undefined;
    if (row === undefined) throw new DatabaseError('not_found', `No account with id ${userId}.`);
    return toUser(row);
  });
}

export interface NewUser {
  login: string;
  displayName: string;
  roles: readonly Role[];
  passwordHash: string;
  mustChangePassword: boolean;
  /** The administrator creating it; null only for the first account. */
  createdBy: { id: number; displayName: string } | null;
}

export function createUser(db: MarrowDatabase, input: NewUser): UserRow {
  return inTransaction(db, `Creating the account ${input.login}`, () => {
    if (findUserByLogin(db, input.login) !== null) {
      throw new DatabaseError('duplicate', `An account with the login "${input.login}" already exists (logins ignore upper and lower case).`);
    }
    const at = nowIso();
    const { id } = sql(
      db,
      `INSERT INTO users (login, display_name, roles, password_hash, must_change_password, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ).get(
      input.login.trim(),
      input.displayName.trim(),
      JSON.stringify([...new Set(input.roles)]),
      input.passwordHash,
      input.mustChangePassword ? 1 : 0,
      at,
      input.createdBy?.id ?? null,
    ) as { id: number };
    appendAudit(
      db,
      {
        actor: input.createdBy?.displayName ?? input.displayName.trim(),
        userId: input.createdBy?.id ?? id,
        action: 'user_created',
        caseId: null,
        detail: {
          userId: id,
          login: input.login.trim(),
          displayName: input.displayName.trim(),
          roles: [...new Set(input.roles)],
          firstAdministrator: input.createdBy === null,
        },
      },
      at,
    );
    return getUser(db, id);
  });
}

/** Who performs an account change (for the audit log): the acting administrator or the person themself. */
export interface AccountActor {
  id: number;
  displayName: string;
}

export function setUserActive(db: MarrowDatabase, userId: number, active: boolean, by: AccountActor): UserRow {
  return inTransaction(db, `Changing the account ${userId}`, () => {
    const before = getUser(db, userId);
    if (before.active === active) return before;
    const at = nowIso();
    sql(db, 'UPDATE users SET active = ? WHERE id = ?').run(active ? 1 : 0, userId);
    if (!active) endSessionsOf(db, userId, 'disabled', at);
    appendAudit(
      db,
      { actor: by.displayName, userId: by.id, action: active ? 'user_enabled' : 'user_disabled', caseId: null, detail: { userId, login: before.login } },
      at,
    );
    return getUser(db, userId);
  });
}

export function setUserRoles(db: MarrowDatabase, userId: number, roles: readonly Role[], by: AccountActor): UserRow {
  return inTransaction(db, `Changing the roles of account ${userId}`, () => {
    const before = getUser(db, userId);
    const next = [...new Set(roles)];
    const at = nowIso();
    sql(db, 'UPDATE users SET roles = ? WHERE id = ?').run(JSON.stringify(next), userId);
    appendAudit(
      db,
      {
        actor: by.displayName,
        userId: by.id,
        action: 'user_roles_changed',
        caseId: null,
        detail: { userId, login: before.login, from: before.roles, to: next },
      },
      at,
    );
    return getUser(db, userId);
  });
}

/** A new password hash: the person's own change (mustChange false) or an administrator's reset (mustChange true). */
export function setPasswordHash(
  db: MarrowDatabase,
  userId: number,
  passwordHash: string,
  options: { mustChange: boolean; by: AccountActor; keepSessionId?: number },
): UserRow {
  return inTransaction(db, `Changing the password of account ${userId}`, () => {
    const before = getUser(db, userId);
    const at = nowIso();
    sql(db, 'UPDATE users SET password_hash = ?, must_change_password = ?, failed_logins = 0, locked_out_until = NULL WHERE id = ?').run(
      passwordHash,
      options.mustChange ? 1 : 0,
      userId,
    );
    // A reset ends the person's sessions (someone else may have been using the old password); a change of one's own
    // password keeps the session it was made in and ends the others.
    endSessionsOf(db, userId, options.mustChange ? 'password_reset' : 'password_changed', at, options.keepSessionId);
    appendAudit(
      db,
      {
        actor: options.by.displayName,
        userId: options.by.id,
        action: options.mustChange ? 'password_reset' : 'password_changed',
        caseId: null,
        detail: { userId, login: before.login },
      },
      at,
    );
    return getUser(db, userId);
  });
}

/** Counts a failed login; at `maxFailures` the account is locked out until `lockUntil`. Returns the updated row. */
export function recordFailedLogin(
  db: MarrowDatabase,
  userId: number,
  options: {
    maxFailures: number;
    lockUntil: string;
    action: 'login_failed' | 'unlock_failed' | 'signature_refused';
    caseId?: number;
    detail?: Record<string, unknown>;
  },
): UserRow {
  return inTransaction(db, 'Recording a failed login', () => {
    const before = getUser(db, userId);
    const failures = before.failedLogins + 1;
    const lockedOut = failures >= options.maxFailures;
    const at = nowIso();
    sql(db, 'UPDATE users SET failed_logins = ?, locked_out_until = ? WHERE id = ?').run(
      lockedOut ? 0 : failures,
      lockedOut ? options.lockUntil : before.lockedOutUntil,
      userId,
    );
    appendAudit(
      db,
      {
        actor: before.displayName,
        userId,
        action: options.action,
        caseId: options.caseId ?? null,
        detail: { ...options.detail, login: before.login, failures },
      },
      at,
    );
    if (lockedOut) {
      endSessionsOf(db, userId, 'disabled', at);
      appendAudit(
        db,
        { actor: before.displayName, userId, action: 'account_locked_out', caseId: null, detail: { login: before.login, until: options.lockUntil } },
        at,
      );
    }
    return getUser(db, userId);
  });
}

/** A login name that matches no account: recorded (as typed, trimmed) so a guessing attempt shows in the log. */
export function recordUnknownLogin(db: MarrowDatabase, login: string): void {
  inTransaction(db, 'Recording a failed login', () => {
    appendAudit(
      db,
      { actor: 'unknown', userId: null, action: 'login_failed', caseId: null, detail: { login: login.trim().slice(0, 64), knownAccount: false } },
      nowIso(),
    );
  });
}

export function clearFailedLogins(db: MarrowDatabase, userId: number): void {
  inTransaction(db, 'Recording a login', () => {
    sql(db, 'UPDATE users SET failed_logins = 0, locked_out_until = NULL WHERE id = ? AND (failed_logins <> 0 OR locked_out_until IS NOT NULL)').run(userId);
  });
}

// --- sessions -------------------------------------------------------------------------------------------------

export type SessionTransport = 'desktop' | 'http' | 'cli';
export type SessionEndReason = 'logout' | 'replaced' | 'disabled' | 'password_changed' | 'password_reset';

export interface SessionRow {
  id: number;
  userId: number;
  transport: SessionTransport;
  createdAt: string;
  lastActiveAt: string;
  lockedAt: string | null;
  endedAt: string | null;
  endReason: SessionEndReason | null;
}

interface SessionDbRow {
  id: number;
  user_id: number;
  transport: SessionTransport;
  created_at: string;
  last_active_at: string;
  locked_at: string | null;
  ended_at: string | null;
  end_reason: SessionEndReason | null;
}

function toSession(r: SessionDbRow): SessionRow {
  return {
    id: r.id,
    userId: r.user_id,
    transport: r.transport,
    createdAt: r.created_at,
    lastActiveAt: r.last_active_at,
    lockedAt: r.locked_at,
    endedAt: r.ended_at,
    endReason: r.end_reason,
  };
}

export function createSession(db: MarrowDatabase, input: { userId: number; tokenSha256: string; transport: SessionTransport; at: string }): SessionRow {
  return inTransaction(db, 'Starting a session', () => {
    const user = getUser(db, input.userId);
    const row = sql(db, 'INSERT INTO sessions (user_id, token_sha256, transport, created_at, last_active_at) VALUES (?, ?, ?, ?, ?) RETURNING *').get(
      input.userId,
      input.tokenSha256,
      input.transport,
      input.at,
      input.at,
    ) as SessionDbRow;
    appendAudit(
      db,
      { actor: user.displayName, userId: user.id, action: 'login', caseId: null, detail: { sessionId: row.id, transport: input.transport } },
      input.at,
    );
    return toSession(row);
  });
}

export function findSessionByTokenHash(db: MarrowDatabase, tokenSha256: string): SessionRow | null {
  return read('Reading a session', () => {
    const row = sql(db, 'SELECT * FROM sessions WHERE token_sha256 = ?').get(tokenSha256) as SessionDbRow | undefined;
    return row === undefined ? null : toSession(row);
  });
}

export function lockSession(db: MarrowDatabase, sessionId: number, at: string, reason: 'idle' | 'requested'): void {
  inTransaction(db, 'Locking a session', () => {
    const row = sql(db, 'SELECT s.*, u.display_name FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = ?').get(sessionId) as
      (SessionDbRow & { display_name: string }) | undefined;
    if (row === undefined || row.ended_at !== null || row.locked_at !== null) return;
    sql(db, 'UPDATE sessions SET locked_at = ? WHERE id = ?').run(at, sessionId);
    appendAudit(db, { actor: row.display_name, userId: row.user_id, action: 'session_locked', caseId: null, detail: { sessionId, reason } }, at);
  });
}

export function unlockSession(db: MarrowDatabase, sessionId: number, at: string): void {
  inTransaction(db, 'Unlocking a session', () => {
    const row = sql(db, 'SELECT s.*, u.display_name FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = ?').get(sessionId) as
      (SessionDbRow & { display_name: string }) | undefined;
    if (row === undefined || row.ended_at !== null) throw new DatabaseError('not_found', 'The session has ended; log in again.');
    sql(db, 'UPDATE sessions SET locked_at = NULL, last_active_at = ? WHERE id = ?').run(at, sessionId);
    sql(db, 'UPDATE users SET failed_logins = 0 WHERE id = ?').run(row.user_id);
    appendAudit(db, { actor: row.display_name, userId: row.user_id, action: 'session_unlocked', caseId: null, detail: { sessionId } }, at);
  });
}

export function endSession(db: MarrowDatabase, sessionId: number, reason: SessionEndReason, at: string): void {
  inTransaction(db, 'Ending a session', () => {
    const row = sql(db, 'SELECT s.*, u.display_name FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = ?').get(sessionId) as
      (SessionDbRow & { display_name: string }) | undefined;
    if (row === undefined || row.ended_at !== null) return;
    sql(db, 'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?').run(at, reason, sessionId);
    if (reason === 'logout' || reason === 'replaced') {
      appendAudit(db, { actor: row.display_name, userId: row.user_id, action: 'logout', caseId: null, detail: { sessionId, reason } }, at);
    }
  });
}

function endSessionsOf(db: MarrowDatabase, userId: number, reason: SessionEndReason, at: string, keepSessionId?: number): void {
  sql(db, 'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL AND id IS NOT ?').run(
    at,
    reason,
    userId,
    keepSessionId ?? null,
  );
}

// --- security settings ----------------------------------------------------------------------------------------

export interface SecuritySettingsRow {
  idleLockMinutes: number;
  pathologistMaySignAlone: boolean;
}

/** The default: lock after 15 minutes idle; two people sign unless the lab allows one pathologist alone. */
export const DEFAULT_SECURITY_SETTINGS: SecuritySettingsRow = Object.freeze({ idleLockMinutes: 15, pathologistMaySignAlone: false });

export function getSecuritySettings(db: MarrowDatabase): SecuritySettingsRow {
  return read('Reading the security settings', () => {
    const row = sql(db, 'SELECT idle_lock_minutes, pathologist_may_sign_alone FROM security_settings WHERE id = 1').get() as
      { idle_lock_minutes: number; pathologist_may_sign_alone: number } | undefined;
    return row === undefined
      ? { ...DEFAULT_SECURITY_SETTINGS }
      : { idleLockMinutes: row.idle_lock_minutes, pathologistMaySignAlone: row.pathologist_may_sign_alone === 1 };
  });
}

export function saveSecuritySettings(db: MarrowDatabase, settings: SecuritySettingsRow, by: AccountActor): SecuritySettingsRow {
  return inTransaction(db, 'Saving the security settings', () => {
    const before = getSecuritySettings(db);
    const at = nowIso();
    sql(
      db,
      `INSERT INTO security_settings (id, idle_lock_minutes, pathologist_may_sign_alone, updated_at) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET idle_lock_minutes = excluded.idle_lock_minutes, pathologist_may_sign_alone = excluded.pathologist_may_sign_alone, updated_at = excluded.updated_at`,
    ).run(settings.idleLockMinutes, settings.pathologistMaySignAlone ? 1 : 0, at);
    appendAudit(db, { actor: by.displayName, userId: by.id, action: 'security_settings_changed', caseId: null, detail: { from: before, to: settings } }, at);
    return getSecuritySettings(db);
  });
}

/** A refusal worth keeping: a call without the role it needs, a signature with a wrong password. */
export function recordRefusal(
  db: MarrowDatabase,
  entry: { action: 'access_refused' | 'signature_refused'; by: AccountActor; caseId: number | null; detail: Record<string, unknown> },
): void {
  inTransaction(db, 'Recording a refusal', () => {
    appendAudit(db, { actor: entry.by.displayName, userId: entry.by.id, action: entry.action, caseId: entry.caseId, detail: entry.detail }, nowIso());
  });
}
