// Accounts, sessions and the security settings (migration 0009). Password hashing is not done here: the service
// hashes (security/password.ts) and this module stores the hash it is given, never a password.
import type { Role } from '../../shared/roles';
import { appendAudit, type AuditEntry } from './audit';
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

/** A users row as both engines return it (integer flags, the roles as JSON text). */
export interface UserDbRow {
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

export const SELECT_USER = `SELECT u.*, c.display_name AS created_by_name FROM users AS u LEFT JOIN users AS c ON c.id = u.created_by`;

export function toUser(r: UserDbRow): UserRow {
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

/** The values a new account is stored with (trimmed, each role once), shared by both engines. */
export function newUserRecord(input: NewUser): { login: string; displayName: string; roles: Role[]; mustChange: 0 | 1; createdBy: number | null } {
  return {
    login: input.login.trim(),
    displayName: input.displayName.trim(),
    roles: [...new Set(input.roles)],
    mustChange: input.mustChangePassword ? 1 : 0,
    createdBy: input.createdBy?.id ?? null,
  };
}

export function duplicateLoginError(login: string): DatabaseError {
  return new DatabaseError('duplicate', `An account with the login "${login}" already exists (logins ignore upper and lower case).`);
}

/** The audit row of a new account: by its creator, or by itself when it is the first (an administrator). */
export function userCreatedEntry(input: NewUser, id: number): AuditEntry {
  const record = newUserRecord(input);
  return {
    actor: input.createdBy?.displayName ?? record.displayName,
    userId: input.createdBy?.id ?? id,
    action: 'user_created',
    caseId: null,
    detail: { userId: id, login: record.login, displayName: record.displayName, roles: record.roles, firstAdministrator: input.createdBy === null },
  };
}

export function createUser(db: MarrowDatabase, input: NewUser): UserRow {
  return inTransaction(db, `Creating the account ${input.login}`, () => {
    if (findUserByLogin(db, input.login) !== null) throw duplicateLoginError(input.login);
    const at = nowIso();
    const r = newUserRecord(input);
    const { id } = sql(
      db,
      `INSERT INTO users (login, display_name, roles, password_hash, must_change_password, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ).get(r.login, r.displayName, JSON.stringify(r.roles), input.passwordHash, r.mustChange, at, r.createdBy) as { id: number };
    appendAudit(db, userCreatedEntry(input, id), at);
    return getUser(db, id);
  });
}

/** Who performs an account change (for the audit log): the acting administrator or the person themself. */
export interface AccountActor {
  id: number;
  displayName: string;
}

/** The audit row of enabling or disabling an account. */
export function userActiveEntry(before: UserRow, active: boolean, by: AccountActor): AuditEntry {
  return {
    actor: by.displayName,
    userId: by.id,
    action: active ? 'user_enabled' : 'user_disabled',
    caseId: null,
    detail: { userId: before.id, login: before.login },
  };
}

export function setUserActive(db: MarrowDatabase, userId: number, active: boolean, by: AccountActor): UserRow {
  return inTransaction(db, `Changing the account ${userId}`, () => {
    const before = getUser(db, userId);
    if (before.active === active) return before;
    const at = nowIso();
    sql(db, 'UPDATE users SET active = ? WHERE id = ?').run(active ? 1 : 0, userId);
    if (!active) endSessionsOf(db, userId, 'disabled', at);
    appendAudit(db, userActiveEntry(before, active, by), at);
    return getUser(db, userId);
  });
}

/** The roles an account is given (each once) and the audit row of the change. */
export function userRolesChange(before: UserRow, roles: readonly Role[], by: AccountActor): { roles: Role[]; entry: AuditEntry } {
  const next = [...new Set(roles)];
  return {
    roles: next,
    entry: {
      actor: by.displayName,
      userId: by.id,
      action: 'user_roles_changed',
      caseId: null,
      detail: { userId: before.id, login: before.login, from: before.roles, to: next },
    },
  };
}

export function setUserRoles(db: MarrowDatabase, userId: number, roles: readonly Role[], by: AccountActor): UserRow {
  return inTransaction(db, `Changing the roles of account ${userId}`, () => {
    const change = userRolesChange(getUser(db, userId), roles, by);
    sql(db, 'UPDATE users SET roles = ? WHERE id = ?').run(JSON.stringify(change.roles), userId);
    appendAudit(db, change.entry, nowIso());
    return getUser(db, userId);
  });
}

export interface PasswordChangeOptions {
  mustChange: boolean;
  by: AccountActor;
  keepSessionId?: number;
}

/**
 * Why the person's sessions end and the audit row of a new password. A reset ends the person's sessions (someone
 * else may have been using the old password); a change of one's own password keeps the session it was made in and
 * ends the others.
 */
export function passwordChange(before: UserRow, options: PasswordChangeOptions): { endReason: SessionEndReason; entry: AuditEntry } {
  const action = options.mustChange ? 'password_reset' : 'password_changed';
  return {
    endReason: action,
    entry: { actor: options.by.displayName, userId: options.by.id, action, caseId: null, detail: { userId: before.id, login: before.login } },
  };
}

/** A new password hash: the person's own change (mustChange false) or an administrator's reset (mustChange true). */
export function setPasswordHash(db: MarrowDatabase, userId: number, passwordHash: string, options: PasswordChangeOptions): UserRow {
  return inTransaction(db, `Changing the password of account ${userId}`, () => {
    const change = passwordChange(getUser(db, userId), options);
    const at = nowIso();
    sql(db, 'UPDATE users SET password_hash = ?, must_change_password = ?, failed_logins = 0, locked_out_until = NULL WHERE id = ?').run(
      passwordHash,
      options.mustChange ? 1 : 0,
      userId,
    );
    endSessionsOf(db, userId, change.endReason, at, options.keepSessionId);
    appendAudit(db, change.entry, at);
    return getUser(db, userId);
  });
}

export interface FailedLoginOptions {
  maxFailures: number;
  lockUntil: string;
  action: 'login_failed' | 'unlock_failed' | 'signature_refused';
  caseId?: number;
  detail?: Record<string, unknown>;
}

/**
 * The lockout arithmetic, one place for both engines: one more failure; at `maxFailures` the count starts again and
 * the account is locked out until `lockUntil` (its sessions end). The audit rows say which attempt it was.
 */
export function failedLoginStep(
  before: UserRow,
  options: FailedLoginOptions,
): { failedLogins: number; lockedOutUntil: string | null; lockedOut: boolean; entries: AuditEntry[] } {
  const failures = before.failedLogins + 1;
  const lockedOut = failures >= options.maxFailures;
  const entries: AuditEntry[] = [
    {
      actor: before.displayName,
      userId: before.id,
      action: options.action,
      caseId: options.caseId ?? null,
      detail: { ...options.detail, login: before.login, failures },
    },
  ];
  if (lockedOut) {
    entries.push({
      actor: before.displayName,
      userId: before.id,
      action: 'account_locked_out',
      caseId: null,
      detail: { login: before.login, until: options.lockUntil },
    });
  }
  return { failedLogins: lockedOut ? 0 : failures, lockedOutUntil: lockedOut ? options.lockUntil : before.lockedOutUntil, lockedOut, entries };
}

/** Counts a failed login; at `maxFailures` the account is locked out until `lockUntil`. Returns the updated row. */
export function recordFailedLogin(db: MarrowDatabase, userId: number, options: FailedLoginOptions): UserRow {
  return inTransaction(db, 'Recording a failed login', () => {
    const step = failedLoginStep(getUser(db, userId), options);
    const at = nowIso();
    sql(db, 'UPDATE users SET failed_logins = ?, locked_out_until = ? WHERE id = ?').run(step.failedLogins, step.lockedOutUntil, userId);
    appendAudit(db, step.entries[0]!, at);
    if (step.lockedOut) {
      endSessionsOf(db, userId, 'disabled', at);
      appendAudit(db, step.entries[1]!, at);
    }
    return getUser(db, userId);
  });
}

/** The audit row of a login name that matches no account: as typed, trimmed and cut, so guessing shows in the log. */
export function unknownLoginEntry(login: string): AuditEntry {
  return { actor: 'unknown', userId: null, action: 'login_failed', caseId: null, detail: { login: login.trim().slice(0, 64), knownAccount: false } };
}

/** A login name that matches no account: recorded (as typed, trimmed) so a guessing attempt shows in the log. */
export function recordUnknownLogin(db: MarrowDatabase, login: string): void {
  inTransaction(db, 'Recording a failed login', () => appendAudit(db, unknownLoginEntry(login), nowIso()));
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

export interface SessionDbRow {
  id: number;
  user_id: number;
  transport: SessionTransport;
  created_at: string;
  last_active_at: string;
  locked_at: string | null;
  ended_at: string | null;
  end_reason: SessionEndReason | null;
}

export function toSession(r: SessionDbRow): SessionRow {
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

export interface NewSession {
  userId: number;
  tokenSha256: string;
  transport: SessionTransport;
  at: string;
}

/** A session row with its person's name, as lock, unlock and end read it. */
export type NamedSessionDbRow = SessionDbRow & { display_name: string };

export const SELECT_NAMED_SESSION = 'SELECT s.*, u.display_name FROM sessions AS s JOIN users AS u ON u.id = s.user_id';

/** The audit rows of the session's life: who, which session, and why. */
export function sessionEntry(
  row: Pick<NamedSessionDbRow, 'user_id' | 'display_name'>,
  action: 'login' | 'session_locked' | 'session_unlocked' | 'logout',
  detail: Record<string, unknown>,
): AuditEntry {
  return { actor: row.display_name, userId: row.user_id, action, caseId: null, detail };
}

/** What lock, unlock and end do with the session they read: null when there is nothing to do. */
export function sessionLockable(row: NamedSessionDbRow | undefined): row is NamedSessionDbRow {
  return row !== undefined && row.ended_at === null && row.locked_at === null;
}

export function requireOpenSession(row: NamedSessionDbRow | undefined): NamedSessionDbRow {
  if (row === undefined || row.ended_at !== null) throw new DatabaseError('not_found', 'The session has ended; log in again.');
  return row;
}

/** Logging out and being replaced are the person's own acts and are logged; other ends are logged where they happen. */
export function sessionEndEntry(row: NamedSessionDbRow, reason: SessionEndReason): AuditEntry | null {
  return reason === 'logout' || reason === 'replaced' ? sessionEntry(row, 'logout', { sessionId: row.id, reason }) : null;
}

export function createSession(db: MarrowDatabase, input: NewSession): SessionRow {
  return inTransaction(db, 'Starting a session', () => {
    const user = getUser(db, input.userId);
    const row = sql(db, 'INSERT INTO sessions (user_id, token_sha256, transport, created_at, last_active_at) VALUES (?, ?, ?, ?, ?) RETURNING *').get(
      input.userId,
      input.tokenSha256,
      input.transport,
      input.at,
      input.at,
    ) as SessionDbRow;
    appendAudit(db, sessionEntry({ user_id: user.id, display_name: user.displayName }, 'login', { sessionId: row.id, transport: input.transport }), input.at);
    return toSession(row);
  });
}

export function findSessionByTokenHash(db: MarrowDatabase, tokenSha256: string): SessionRow | null {
  return read('Reading a session', () => {
    const row = sql(db, 'SELECT * FROM sessions WHERE token_sha256 = ?').get(tokenSha256) as SessionDbRow | undefined;
    return row === undefined ? null : toSession(row);
  });
}

function namedSession(db: MarrowDatabase, sessionId: number): NamedSessionDbRow | undefined {
  return sql(db, `${SELECT_NAMED_SESSION} WHERE s.id = ?`).get(sessionId) as NamedSessionDbRow | undefined;
}

export function lockSession(db: MarrowDatabase, sessionId: number, at: string, reason: 'idle' | 'requested'): void {
  inTransaction(db, 'Locking a session', () => {
    const row = namedSession(db, sessionId);
    if (!sessionLockable(row)) return;
    sql(db, 'UPDATE sessions SET locked_at = ? WHERE id = ?').run(at, sessionId);
    appendAudit(db, sessionEntry(row, 'session_locked', { sessionId, reason }), at);
  });
}

export function unlockSession(db: MarrowDatabase, sessionId: number, at: string): void {
  inTransaction(db, 'Unlocking a session', () => {
    const row = requireOpenSession(namedSession(db, sessionId));
    sql(db, 'UPDATE sessions SET locked_at = NULL, last_active_at = ? WHERE id = ?').run(at, sessionId);
    sql(db, 'UPDATE users SET failed_logins = 0 WHERE id = ?').run(row.user_id);
    appendAudit(db, sessionEntry(row, 'session_unlocked', { sessionId }), at);
  });
}

export function endSession(db: MarrowDatabase, sessionId: number, reason: SessionEndReason, at: string): void {
  inTransaction(db, 'Ending a session', () => {
    const row = namedSession(db, sessionId);
    if (row === undefined || row.ended_at !== null) return;
    sql(db, 'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?').run(at, reason, sessionId);
    const entry = sessionEndEntry(row, reason);
    if (entry !== null) appendAudit(db, entry, at);
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

/** The stored row as settings, or the defaults when the lab never saved its own. */
export function securitySettingsOf(row: { idle_lock_minutes: number; pathologist_may_sign_alone: number } | undefined): SecuritySettingsRow {
  return row === undefined
    ? { ...DEFAULT_SECURITY_SETTINGS }
    : { idleLockMinutes: row.idle_lock_minutes, pathologistMaySignAlone: row.pathologist_may_sign_alone === 1 };
}

export const SELECT_SECURITY_SETTINGS = 'SELECT idle_lock_minutes, pathologist_may_sign_alone FROM security_settings WHERE id = 1';
/** Parameters: the idle minutes, 0/1 for signing alone, the time (portable SQL: the same text on both engines). */
export const UPSERT_SECURITY_SETTINGS = `INSERT INTO security_settings (id, idle_lock_minutes, pathologist_may_sign_alone, updated_at) VALUES (1, @minutes, @alone, @at)
       ON CONFLICT (id) DO UPDATE SET idle_lock_minutes = excluded.idle_lock_minutes, pathologist_may_sign_alone = excluded.pathologist_may_sign_alone, updated_at = excluded.updated_at`;

export function securitySettingsChange(
  before: SecuritySettingsRow,
  settings: SecuritySettingsRow,
  by: AccountActor,
  at: string,
): { params: { minutes: number; alone: 0 | 1; at: string }; entry: AuditEntry } {
  return {
    params: { minutes: settings.idleLockMinutes, alone: settings.pathologistMaySignAlone ? 1 : 0, at },
    entry: { actor: by.displayName, userId: by.id, action: 'security_settings_changed', caseId: null, detail: { from: before, to: settings } },
  };
}

export function getSecuritySettings(db: MarrowDatabase): SecuritySettingsRow {
  return read('Reading the security settings', () =>
    securitySettingsOf(sql(db, SELECT_SECURITY_SETTINGS).get() as { idle_lock_minutes: number; pathologist_may_sign_alone: number } | undefined),
  );
}

export function saveSecuritySettings(db: MarrowDatabase, settings: SecuritySettingsRow, by: AccountActor): SecuritySettingsRow {
  return inTransaction(db, 'Saving the security settings', () => {
    const at = nowIso();
    const change = securitySettingsChange(getSecuritySettings(db), settings, by, at);
    sql(db, UPSERT_SECURITY_SETTINGS).run(change.params);
    appendAudit(db, change.entry, at);
    return getSecuritySettings(db);
  });
}

export interface Refusal {
  action: 'access_refused' | 'signature_refused';
  by: AccountActor;
  caseId: number | null;
  detail: Record<string, unknown>;
}

export function refusalEntry(entry: Refusal): AuditEntry {
  return { actor: entry.by.displayName, userId: entry.by.id, action: entry.action, caseId: entry.caseId, detail: entry.detail };
}

/** A refusal worth keeping: a call without the role it needs, a signature with a wrong password. */
export function recordRefusal(db: MarrowDatabase, entry: Refusal): void {
  inTransaction(db, 'Recording a refusal', () => appendAudit(db, refusalEntry(entry), nowIso()));
}
