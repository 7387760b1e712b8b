// Accounts and sessions: first start, login, idle lock, unlock, logout, password change and the administrator's
// account methods. The session methods act on the caller's own session, which the transport holds (SessionHolder):
// IPC one per window (in main), the loopback HTTP host an HttpOnly cookie, the CLI its login for the run.
import { createHash, randomBytes } from 'node:crypto';
import type { MarrowApi, SecuritySettings, SessionInfo, UserSummary } from '../../shared/api';
import type { Role } from '../../shared/roles';
import type { Repositories } from '../db/contract';
import { actingUser, type AccountActor, type SessionRow, type SessionTransport, type UserRow } from '../db';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from '../security/password';
import type { ServiceContext } from './context';
import { ServiceError, validationError } from './errors';

/** The transport's hold on one session: set by login, cleared by logout. The token is opaque; only its hash is stored. */
export interface SessionHolder {
  readonly transport: SessionTransport;
  token: string | null;
  /** The station's network address (the lab server): recorded in the audit log beside the person. */
  readonly station?: string;
}

/** 21 CFR 11.300(d)-style limits from the issue: 5 wrong passwords lock the account for 15 minutes. */
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MINUTES = 15;

export type AccountMethodName =
  | 'getSession'
  | 'createFirstAdmin'
  | 'login'
  | 'logout'
  | 'lockSession'
  | 'unlockSession'
  | 'changePassword'
  | 'listUsers'
  | 'createUser'
  | 'setUserActive'
  | 'setUserRoles'
  | 'resetUserPassword'
  | 'getSecuritySettings'
  | 'saveSecuritySettings';

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function userSummary(row: UserRow, now: Date): UserSummary {
  const lockedOut = row.lockedOutUntil !== null && Date.parse(row.lockedOutUntil) > now.getTime() ? row.lockedOutUntil : null;
  return {
    id: row.id,
    login: row.login,
    displayName: row.displayName,
    roles: [...row.roles],
    active: row.active,
    mustChangePassword: row.mustChangePassword,
    lockedOutUntil: lockedOut,
    createdAt: row.createdAt,
    createdBy: row.createdByName,
  };
}

/** What a transport's token stands for right now. */
export type SessionLookup =
  | { state: 'none' }
  | { state: 'ended'; reason: string }
  | { state: 'locked'; session: SessionRow; user: UserRow }
  | { state: 'active'; session: SessionRow; user: UserRow };

const END_REASON_TEXT: Record<string, string> = {
  logout: 'you logged out',
  replaced: 'another person logged in at this screen',
  disabled: 'the account was disabled or locked',
  password_changed: 'the password was changed in another session',
  password_reset: 'an administrator reset the password',
};

/**
 * The last activity of each session, in memory: activity is every call, and a call that only reads must not write
 * to the database (reads would otherwise change the file, and each would cost a synchronous commit). The database
 * keeps when a session started, locked, unlocked and ended; a session is only valid in the process that made it.
 */
const lastActivity = new WeakMap<ServiceContext, Map<number, number>>();

function activityOf(ctx: ServiceContext): Map<number, number> {
  let map = lastActivity.get(ctx);
  if (map === undefined) {
    map = new Map();
    lastActivity.set(ctx, map);
  }
  return map;
}

/** Records activity of the session now (the role check calls it for every call that is not a mere poll). */
export function touch(ctx: ServiceContext, sessionId: number): void {
  activityOf(ctx).set(sessionId, ctx.now().getTime());
}

/** Looks the holder's token up; a session idle longer than the lab's idle-lock time is locked here (and recorded). */
export async function lookUpSession(ctx: ServiceContext, holder: SessionHolder): Promise<SessionLookup> {
  if (holder.token === null) return { state: 'none' };
  const session = await ctx.store.users.findSessionByTokenHash(tokenHash(holder.token));
  if (session === null) return { state: 'none' };
  if (session.endedAt !== null) return { state: 'ended', reason: END_REASON_TEXT[session.endReason ?? 'logout'] ?? 'it ended' };
  const user = await ctx.store.users.getUser(session.userId);
  if (!user.active) return { state: 'ended', reason: END_REASON_TEXT.disabled! };
  if (session.lockedAt !== null) return { state: 'locked', session, user };
  const idleMs = (await ctx.store.users.getSecuritySettings()).idleLockMinutes * 60_000;
  const last = Math.max(Date.parse(session.lastActiveAt), activityOf(ctx).get(session.id) ?? 0);
  if (ctx.now().getTime() - last >= idleMs) {
    await ctx.store.users.lockSession(session.id, ctx.now().toISOString(), 'idle');
    return { state: 'locked', session, user };
  }
  return { state: 'active', session, user };
}

function actorOf(user: UserRow): AccountActor {
  return { id: user.id, displayName: user.displayName };
}

/** The caller's own account; the session check has already run (these methods are not 'no_session'). */
async function self(ctx: ServiceContext): Promise<UserRow> {
  const acting = actingUser();
  if (acting === undefined) throw new ServiceError('unauthenticated', 'Log in first.');
  return await ctx.store.users.getUser(acting.id);
}

function checkPassword(password: string, user: { login: string; displayName: string }, field: string): void {
  const problem = passwordProblem(password, user);
  if (problem !== null) throw validationError(field, problem);
}

function checkRoles(roles: readonly Role[]): void {
  if (roles.length === 0) throw validationError('roles', 'Give the account at least one role.');
}

export function accountMethods(ctx: ServiceContext, holder: SessionHolder): Pick<MarrowApi, AccountMethodName> {
  const sessionInfo = async (): Promise<SessionInfo> => {
    const base = { idleLockMinutes: (await ctx.store.users.getSecuritySettings()).idleLockMinutes, labName: (await ctx.store.settings.getSettings()).labName };
    if ((await ctx.store.users.countUsers()) === 0) return { state: 'first_start', user: null, ...base };
    const found = await lookUpSession(ctx, holder);
    if (found.state === 'none' || found.state === 'ended') return { state: 'logged_out', user: null, ...base };
    return { state: found.state, user: userSummary(found.user, ctx.now()), ...base };
  };

  const startSession = async (user: UserRow): Promise<void> => {
    // One session per holder: logging in over another person's (locked) session ends it.
    const previous = await lookUpSession(ctx, holder);
    if (previous.state === 'active' || previous.state === 'locked') await ctx.store.users.endSession(previous.session.id, 'replaced', ctx.now().toISOString());
    const token = randomBytes(32).toString('base64url');
    await ctx.store.users.createSession({ userId: user.id, tokenSha256: tokenHash(token), transport: holder.transport, at: ctx.now().toISOString() });
    holder.token = token;
  };

  /** Checks a password for `user`, counting a failure toward the lockout; throws 'unauthenticated' when wrong. */
  const verifyOrCount = async (user: UserRow, password: string, action: 'login_failed' | 'unlock_failed'): Promise<void> => {
    const now = ctx.now();
    if (user.lockedOutUntil !== null && Date.parse(user.lockedOutUntil) > now.getTime()) {
      throw new ServiceError('unauthenticated', lockedOutMessage(user.lockedOutUntil));
    }
    if (await verifyPassword(password, user.passwordHash)) return;
    const after = await ctx.store.users.recordFailedLogin(user.id, {
      maxFailures: MAX_FAILED_LOGINS,
      lockUntil: new Date(now.getTime() + LOCKOUT_MINUTES * 60_000).toISOString(),
      action,
    });
    if (after.lockedOutUntil !== null && Date.parse(after.lockedOutUntil) > now.getTime()) {
      throw new ServiceError('unauthenticated', `Wrong password. ${lockedOutMessage(after.lockedOutUntil)}`, { field: 'password' });
    }
    const left = MAX_FAILED_LOGINS - after.failedLogins;
    throw new ServiceError(
      'unauthenticated',
      `Wrong login name or password. ${left} more wrong ${left === 1 ? 'try locks' : 'tries lock'} the account for ${LOCKOUT_MINUTES} minutes.`,
      { field: 'password' },
    );
  };

  return {
    async getSession() {
      return sessionInfo();
    },

    async createFirstAdmin(input) {
      if ((await ctx.store.users.countUsers()) > 0) {
        throw new ServiceError('forbidden', 'MarrowCount already has accounts: the first administrator is created only on a new database. Log in instead.');
      }
      checkPassword(input.password, input, 'password');
      const created = await ctx.store.users.createUser({
        login: input.login,
        displayName: input.displayName,
        roles: ['admin'],
        passwordHash: await hashPassword(input.password),
        mustChangePassword: false,
        createdBy: null,
      });
      await startSession(created);
      return sessionInfo();
    },

    async login(input) {
      const user = await ctx.store.users.findUserByLogin(input.login);
      if (user === null) {
        // Same work as for a real account, so the answer's timing does not tell which logins exist.
        await verifyPassword(input.password, await decoyHash());
        await ctx.store.users.recordUnknownLogin(input.login);
        throw new ServiceError('unauthenticated', 'Wrong login name or password.', { field: 'password' });
      }
      if (!user.active) {
        await verifyPassword(input.password, await decoyHash());
        throw new ServiceError('unauthenticated', `The account ${user.login} is disabled. Ask an administrator.`, { field: 'login' });
      }
      await verifyOrCount(user, input.password, 'login_failed');
      await ctx.store.users.clearFailedLogins(user.id);
      await startSession(user);
      return sessionInfo();
    },

    async logout() {
      const found = await lookUpSession(ctx, holder);
      if (found.state === 'active' || found.state === 'locked') await ctx.store.users.endSession(found.session.id, 'logout', ctx.now().toISOString());
      holder.token = null;
      return sessionInfo();
    },

    async lockSession() {
      const found = await lookUpSession(ctx, holder);
      if (found.state === 'active') await ctx.store.users.lockSession(found.session.id, ctx.now().toISOString(), 'requested');
      return sessionInfo();
    },

    async unlockSession(input) {
      const found = await lookUpSession(ctx, holder);
      if (found.state === 'none' || found.state === 'ended') throw new ServiceError('unauthenticated', 'There is no session to unlock; log in.');
      if (found.state === 'active') return sessionInfo();
      try {
        await verifyOrCount(found.user, input.password, 'unlock_failed');
      } catch (e) {
        if (e instanceof ServiceError && e.kind === 'unauthenticated' && !/locked/.test(e.message)) {
          throw new ServiceError(
            'session_locked',
            `Wrong password for ${found.user.displayName}. ${e.message.replace(/^Wrong login name or password\. /, '')}`,
            { field: 'password' },
          );
        }
        throw e;
      }
      await ctx.store.users.unlockSession(found.session.id, ctx.now().toISOString());
      return sessionInfo();
    },

    async changePassword(input) {
      const user = await self(ctx);
      if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
        throw new ServiceError('unauthenticated', 'The current password is wrong; the password was not changed.', { field: 'currentPassword' });
      }
      checkPassword(input.newPassword, user, 'newPassword');
      if (input.newPassword === input.currentPassword) throw validationError('newPassword', 'Choose a password different from the current one.');
      const found = await lookUpSession(ctx, holder);
      await ctx.store.users.setPasswordHash(user.id, await hashPassword(input.newPassword), {
        mustChange: false,
        by: actorOf(user),
        ...(found.state === 'active' ? { keepSessionId: found.session.id } : {}),
      });
      return sessionInfo();
    },

    async listUsers() {
      return (await ctx.store.users.listUsers()).map((u) => userSummary(u, ctx.now()));
    },

    async createUser(input) {
      const admin = await self(ctx);
      checkRoles(input.roles);
      checkPassword(input.password, input, 'password');
      const created = await ctx.store.users.createUser({
        ...input,
        passwordHash: await hashPassword(input.password),
        mustChangePassword: false,
        createdBy: actorOf(admin),
      });
      return userSummary(created, ctx.now());
    },

    async setUserActive(input) {
      const admin = await self(ctx);
      if (!input.active && input.userId === admin.id) throw validationError('userId', 'You cannot disable your own account; ask another administrator.');
      // The check and the change as one unit, so that two administrators disabling each other cannot both pass it.
      const changed = await ctx.store.transaction(async (tx) => {
        if (!input.active) await refuseLosingLastAdmin(tx, input.userId, 'disable');
        return tx.users.setUserActive(input.userId, input.active, actorOf(admin));
      });
      return userSummary(changed, ctx.now());
    },

    async setUserRoles(input) {
      const admin = await self(ctx);
      checkRoles(input.roles);
      const changed = await ctx.store.transaction(async (tx) => {
        if (!input.roles.includes('admin')) await refuseLosingLastAdmin(tx, input.userId, 'remove the administrator role of');
        return tx.users.setUserRoles(input.userId, input.roles, actorOf(admin));
      });
      return userSummary(changed, ctx.now());
    },

    async resetUserPassword(input) {
      const admin = await self(ctx);
      const user = await ctx.store.users.getUser(input.userId);
      checkPassword(input.newPassword, user, 'newPassword');
      return userSummary(
        await ctx.store.users.setPasswordHash(user.id, await hashPassword(input.newPassword), { mustChange: true, by: actorOf(admin) }),
        ctx.now(),
      );
    },

    async getSecuritySettings(): Promise<SecuritySettings> {
      return ctx.store.users.getSecuritySettings();
    },

    async saveSecuritySettings(settings) {
      return ctx.store.users.saveSecuritySettings(settings, actorOf(await self(ctx)));
    },
  };
}

function lockedOutMessage(until: string): string {
  return `The account is locked after ${MAX_FAILED_LOGINS} wrong passwords until ${until.slice(11, 16)} UTC (${LOCKOUT_MINUTES} minutes). Try again then, or ask an administrator to reset the password.`;
}

/** Without an active administrator nobody could manage accounts again. */
async function refuseLosingLastAdmin(tx: Repositories, userId: number, what: string): Promise<void> {
  const admins = (await tx.users.listUsers()).filter((u) => u.active && u.roles.includes('admin'));
  if (admins.length === 1 && admins[0]!.id === userId) {
    throw validationError('userId', `You cannot ${what} the last active administrator.`);
  }
}
