// Accounts, sessions and the security settings on PostgreSQL: the twin of ../users.ts (UserRepository of
// contract.ts). The rules, mappers and audit rows are ../users.ts's own pure functions; this module adds what several
// stations on one server need: each read-then-write locks the row it reads (FOR UPDATE), so two stations counting a
// failed login at once cannot both write "one failure", and two logins created at once give one account and a
// 'duplicate' refusal naming the login, not a raw unique-index error.
import type { UserRepository } from '../contract';
import { nowIso } from '../connection';
import { DatabaseError } from '../errors';
import {
  duplicateLoginError,
  failedLoginStep,
  newUserRecord,
  passwordChange,
  refusalEntry,
  requireOpenSession,
  securitySettingsChange,
  securitySettingsOf,
  SELECT_NAMED_SESSION,
  SELECT_SECURITY_SETTINGS,
  SELECT_USER,
  sessionEndEntry,
  sessionEntry,
  sessionLockable,
  toSession,
  toUser,
  UPSERT_SECURITY_SETTINGS,
  unknownLoginEntry,
  userActiveEntry,
  userCreatedEntry,
  userRolesChange,
  type NamedSessionDbRow,
  type SessionDbRow,
  type SessionEndReason,
  type UserDbRow,
  type UserRow,
} from '../users';
import { appendAuditPg } from './audit';
import { named } from './named';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

async function findByLogin(q: Queryable, login: string): Promise<UserRow | null> {
  // SQLite's COLLATE NOCASE: the unique index users_login_nocase is on lower(login).
  const { rows } = await q.query<UserDbRow>(`${SELECT_USER} WHERE lower(u.login) = lower($1)`, [login.trim()]);
  return rows[0] === undefined ? null : toUser(rows[0]);
}

/** The account; `forUpdate` locks its row until the unit ends, for the read-then-write changes. */
async function requireUser(q: Queryable, userId: number, forUpdate = false): Promise<UserRow> {
  const { rows } = await q.query<UserDbRow>(`${SELECT_USER} WHERE u.id = $1${forUpdate ? ' FOR UPDATE OF u' : ''}`, [userId]);
  if (rows[0] === undefined) throw new DatabaseError('not_found', `No account with id ${userId}.`);
  return toUser(rows[0]);
}

async function endSessionsOf(q: Queryable, userId: number, reason: SessionEndReason, at: string, keepSessionId?: number): Promise<void> {
  await q.query('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND ended_at IS NULL AND id IS DISTINCT FROM $4', [
    at,
    reason,
    userId,
    keepSessionId ?? null,
  ]);
}

async function namedSession(q: Queryable, sessionId: number): Promise<NamedSessionDbRow | undefined> {
  return (await q.query<NamedSessionDbRow>(`${SELECT_NAMED_SESSION} WHERE s.id = $1 FOR UPDATE OF s`, [sessionId])).rows[0];
}

async function readSecuritySettings(q: Queryable) {
  return securitySettingsOf((await q.query<{ idle_lock_minutes: number; pathologist_may_sign_alone: number }>(SELECT_SECURITY_SETTINGS)).rows[0]);
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}

export function pgUserRepository(scope: PgScope): UserRepository {
  return {
    countUsers: () => pgRead(scope, 'Counting the accounts', async (q) => (await q.query<{ n: number }>('SELECT count(*) AS n FROM users')).rows[0]!.n),
    listUsers: () =>
      pgRead(scope, 'Reading the accounts', async (q) => (await q.query<UserDbRow>(`${SELECT_USER} ORDER BY lower(u.login), u.id`)).rows.map(toUser)),
    findUserByLogin: (login) => pgRead(scope, 'Reading an account', (q) => findByLogin(q, login)),
    getUser: (userId) => pgRead(scope, 'Reading an account', (q) => requireUser(q, userId)),

    createUser: (input) =>
      pgUnit(scope, `Creating the account ${input.login}`, async (client) => {
        // The insert trigger (migration 0009) locks the table SHARE ROW EXCLUSIVE to count accounts; taken only there,
        // two stations' inserts each hold ROW EXCLUSIVE and wait for the other's: a deadlock (seen in the race test).
        // Taken first, creations queue, and the second reads the first one's account and is refused by name.
        await client.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
        if ((await findByLogin(client, input.login)) !== null) throw duplicateLoginError(input.login);
        const at = nowIso();
        const r = newUserRecord(input);
        // Should another writer still reach the unique index first, the refusal names the login, not the index.
        await client.query('SAVEPOINT create_user');
        let id: number;
        try {
          ({ id } = (
            await client.query<{ id: number }>(
              `INSERT INTO users (login, display_name, roles, password_hash, must_change_password, created_at, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
              [r.login, r.displayName, JSON.stringify(r.roles), input.passwordHash, r.mustChange, at, r.createdBy],
            )
          ).rows[0]!);
        } catch (e) {
          await client.query('ROLLBACK TO SAVEPOINT create_user');
          throw isUniqueViolation(e) ? duplicateLoginError(input.login) : e;
        }
        await appendAuditPg(client, userCreatedEntry(input, id), at);
        return requireUser(client, id);
      }),

    setUserActive: (userId, active, by) =>
      pgUnit(scope, `Changing the account ${userId}`, async (client) => {
        const before = await requireUser(client, userId, true);
        if (before.active === active) return before;
        const at = nowIso();
        await client.query('UPDATE users SET active = $1 WHERE id = $2', [active ? 1 : 0, userId]);
        if (!active) await endSessionsOf(client, userId, 'disabled', at);
        await appendAuditPg(client, userActiveEntry(before, active, by), at);
        return requireUser(client, userId);
      }),

    setUserRoles: (userId, roles, by) =>
      pgUnit(scope, `Changing the roles of account ${userId}`, async (client) => {
        const change = userRolesChange(await requireUser(client, userId, true), roles, by);
        await client.query('UPDATE users SET roles = $1 WHERE id = $2', [JSON.stringify(change.roles), userId]);
        await appendAuditPg(client, change.entry, nowIso());
        return requireUser(client, userId);
      }),

    setPasswordHash: (userId, passwordHash, options) =>
      pgUnit(scope, `Changing the password of account ${userId}`, async (client) => {
        const change = passwordChange(await requireUser(client, userId, true), options);
        const at = nowIso();
        await client.query('UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_out_until = NULL WHERE id = $3', [
          passwordHash,
          options.mustChange ? 1 : 0,
          userId,
        ]);
        await endSessionsOf(client, userId, change.endReason, at, options.keepSessionId);
        await appendAuditPg(client, change.entry, at);
        return requireUser(client, userId);
      }),

    recordFailedLogin: (userId, options) =>
      pgUnit(scope, 'Recording a failed login', async (client) => {
        // Locked: two stations' wrong passwords at the same moment are two failures, not one.
        const step = failedLoginStep(await requireUser(client, userId, true), options);
        const at = nowIso();
        await client.query('UPDATE users SET failed_logins = $1, locked_out_until = $2 WHERE id = $3', [step.failedLogins, step.lockedOutUntil, userId]);
        await appendAuditPg(client, step.entries[0]!, at);
        if (step.lockedOut) {
          await endSessionsOf(client, userId, 'disabled', at);
          await appendAuditPg(client, step.entries[1]!, at);
        }
        return requireUser(client, userId);
      }),

    recordUnknownLogin: (login) => pgUnit(scope, 'Recording a failed login', (client) => appendAuditPg(client, unknownLoginEntry(login), nowIso())),

    clearFailedLogins: (userId) =>
      pgUnit(scope, 'Recording a login', async (client) => {
        await client.query(
          'UPDATE users SET failed_logins = 0, locked_out_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_out_until IS NOT NULL)',
          [userId],
        );
      }),

    createSession: (input) =>
      pgUnit(scope, 'Starting a session', async (client) => {
        const user = await requireUser(client, input.userId);
        const row = (
          await client.query<SessionDbRow>(
            'INSERT INTO sessions (user_id, token_sha256, transport, created_at, last_active_at) VALUES ($1, $2, $3, $4, $4) RETURNING *',
            [input.userId, input.tokenSha256, input.transport, input.at],
          )
        ).rows[0]!;
        await appendAuditPg(
          client,
          sessionEntry({ user_id: user.id, display_name: user.displayName }, 'login', { sessionId: row.id, transport: input.transport }),
          input.at,
        );
        return toSession(row);
      }),

    findSessionByTokenHash: (tokenSha256) =>
      pgRead(scope, 'Reading a session', async (q) => {
        const row = (await q.query<SessionDbRow>('SELECT * FROM sessions WHERE token_sha256 = $1', [tokenSha256])).rows[0];
        return row === undefined ? null : toSession(row);
      }),

    lockSession: (sessionId, at, reason) =>
      pgUnit(scope, 'Locking a session', async (client) => {
        const row = await namedSession(client, sessionId);
        if (!sessionLockable(row)) return;
        await client.query('UPDATE sessions SET locked_at = $1 WHERE id = $2', [at, sessionId]);
        await appendAuditPg(client, sessionEntry(row, 'session_locked', { sessionId, reason }), at);
      }),

    unlockSession: (sessionId, at) =>
      pgUnit(scope, 'Unlocking a session', async (client) => {
        const row = requireOpenSession(await namedSession(client, sessionId));
        await client.query('UPDATE sessions SET locked_at = NULL, last_active_at = $1 WHERE id = $2', [at, sessionId]);
        await client.query('UPDATE users SET failed_logins = 0 WHERE id = $1', [row.user_id]);
        await appendAuditPg(client, sessionEntry(row, 'session_unlocked', { sessionId }), at);
      }),

    endSession: (sessionId, reason, at) =>
      pgUnit(scope, 'Ending a session', async (client) => {
        const row = await namedSession(client, sessionId);
        if (row === undefined || row.ended_at !== null) return;
        await client.query('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3', [at, reason, sessionId]);
        const entry = sessionEndEntry(row, reason);
        if (entry !== null) await appendAuditPg(client, entry, at);
      }),

    getSecuritySettings: () => pgRead(scope, 'Reading the security settings', readSecuritySettings),

    saveSecuritySettings: (settings, by) =>
      pgUnit(scope, 'Saving the security settings', async (client) => {
        // The row may not exist yet, so there is nothing to lock: two administrators saving at once take turns here,
        // and each audit row's "from" is what the other saved.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('marrowcount security settings'))`);
        const at = nowIso();
        const change = securitySettingsChange(await readSecuritySettings(client), settings, by, at);
        const { text, values } = named(UPSERT_SECURITY_SETTINGS, change.params);
        await client.query(text, values);
        await appendAuditPg(client, change.entry, at);
        return readSecuritySettings(client);
      }),

    recordRefusal: (entry) => pgUnit(scope, 'Recording a refusal', (client) => appendAuditPg(client, refusalEntry(entry), nowIso())),
  };
}
