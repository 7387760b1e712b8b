// The one place the role table is enforced (issue 20). Every transport gets the API through forSession(holder):
// each method first finds the caller's session (none, ended, idle-locked, active), then asks METHOD_ACCESS whether
// the person's roles allow the method, and only then runs it as that person (runAsUser), so that every row it writes
// records the session's user and no request field can name someone else. No method of the service is reachable
// without passing here.
import { API_METHODS, type MarrowApi, type MarrowApiMethod } from '../../shared/api';
import { METHOD_ACCESS, PASSIVE_METHODS, mayCall, requiredRolesText, ROLE_LABELS } from '../../shared/roles';
import { runAsUser, type UserRow } from '../db';
import { runAtStation } from '../db/acting-user';
import { accountMethods, lookUpSession, touch, type AccountMethodName, type SessionHolder } from './accounts';
import type { ServiceContext } from './context';
import { ServiceError } from './errors';

/** Every method but the account ones, implemented once by the service's areas (cases, review, sign-off, …). */
export type AreaMethods = Omit<MarrowApi, AccountMethodName>;

export interface SessionApiOptions {
  /**
   * The demo CLI's allowance: while the database has no account at all, calls without a session run under the
   * system's name. Only the CLI sets it; the desktop app and the HTTP host always ask for a first administrator.
   */
  allowWithoutAccounts: boolean;
}

function rolesText(user: UserRow): string {
  return user.roles.map((r) => ROLE_LABELS[r].toLowerCase()).join(', ');
}

/** Finds the session's person and checks the role table; throws the refusal a person can act on. */
async function authorise(ctx: ServiceContext, holder: SessionHolder, method: MarrowApiMethod, options: SessionApiOptions): Promise<UserRow | null> {
  const access = METHOD_ACCESS[method];
  if (access === 'no_session') return null;
  if (options.allowWithoutAccounts && holder.token === null && (await ctx.store.users.countUsers()) === 0) return null;
  const found = await lookUpSession(ctx, holder);
  if (found.state === 'none') throw new ServiceError('unauthenticated', 'Log in first: MarrowCount records who does what.');
  if (found.state === 'ended') throw new ServiceError('unauthenticated', `Your session has ended (${found.reason}). Log in again.`);
  const { user, session } = found;
  if (found.state === 'locked') {
    throw new ServiceError('session_locked', `The screen is locked. ${user.displayName}, give your password to go on, or log in as another person.`);
  }
  if (user.mustChangePassword && method !== 'changePassword') {
    throw new ServiceError('forbidden', 'An administrator reset your password: choose a new one before going on.', { field: 'newPassword' });
  }
  if (!mayCall(method, user.roles)) {
    await ctx.store.users.recordRefusal({
      action: 'access_refused',
      by: { id: user.id, displayName: user.displayName },
      caseId: null,
      detail: { method, roles: user.roles },
    });
    throw new ServiceError(
      'forbidden',
      `${describeMethod(method)} needs ${requiredRolesText(method)}; ${user.displayName} is logged in as ${rolesText(user)}.`,
    );
  }
  if (!PASSIVE_METHODS.has(method)) touch(ctx, session.id);
  return user;
}

/** "authoriseCase" → "Authorise case": the method's name as the refusal's subject. */
function describeMethod(method: MarrowApiMethod): string {
  const words = method
    .replace(/([A-Z])/g, ' $1')
    .toLowerCase()
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The API as one session sees it: the role table checked, then the method run as the session's person. */
export function sessionApi(ctx: ServiceContext, areas: AreaMethods, holder: SessionHolder, options: SessionApiOptions): MarrowApi {
  const implementation: MarrowApi = { ...areas, ...accountMethods(ctx, holder) };
  const bound = API_METHODS.map((method) => {
    const fn = implementation[method] as (...args: unknown[]) => Promise<unknown>;
    const guarded = (...args: unknown[]): Promise<unknown> =>
      runAtStation(holder.station, async () => {
        const user = await authorise(ctx, holder, method, options);
        if (user === null) return fn.apply(implementation, args);
        return runAsUser({ id: user.id, displayName: user.displayName, roles: user.roles }, () => fn.apply(implementation, args));
      });
    return [method, guarded] as const;
  });
  // Sound: every method of API_METHODS (checked against keyof MarrowApi in the contract) is bound to a guarded
  // function forwarding its arguments unchanged.
  return Object.fromEntries(bound) as unknown as MarrowApi;
}
