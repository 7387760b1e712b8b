// `marrowcount users add|list|disable|enable|reset-password`: account administration from the command line, through
// the same session API (and role table) as the app's Users screen. The acting administrator is --user; on a
// database with no account, `users add` creates the first administrator without a login.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MarrowApi, UserSummary } from '../../shared/api';
import { isRole, ROLES, type Role } from '../../shared/roles';
import { ServiceError, toApiError } from '../service/errors';
import { openCliService } from './database';
import { EXIT, type CliIo } from './analyze';
import { parseSubcommand, UsageError } from './args';
import { appVersion, defaultModelDir } from './paths';
import { CliAuthError, cliSession, readSecret } from './session';

const SUBCOMMANDS = ['add', 'list', 'disable', 'enable', 'reset-password'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];
const VALUE_FLAGS = new Set(['--db', '--name', '--role', '--user']);

interface UsersArgs {
  sub: Subcommand;
  login: string | null;
  values: Map<string, string>;
  json: boolean;
}

export function parseUsersArgs(argv: readonly string[]): UsersArgs {
  const { sub, values, positional, json } = parseSubcommand('users', SUBCOMMANDS, argv, VALUE_FLAGS);
  const needsLogin = sub !== 'list';
  if (needsLogin && positional.length !== 1) throw new UsageError(`users ${sub} needs one login name.`);
  if (!needsLogin && positional.length > 0) throw new UsageError(`users list takes no ${positional[0]}.`);
  if (sub === 'add') {
    if (!values.has('--name')) throw new UsageError('users add needs --name <display name>.');
    if (!values.has('--role')) throw new UsageError(`users add needs --role <role>[,<role>...] (roles: ${ROLES.join(', ')}).`);
    parseRoles(values.get('--role')!);
  } else if (values.has('--name') || values.has('--role')) {
    throw new UsageError(`--name and --role belong to users add, not users ${sub}.`);
  }
  return { sub: sub as Subcommand, login: needsLogin ? positional[0]! : null, values, json };
}

function parseRoles(text: string): Role[] {
  const roles = text.split(',').map((r) => r.trim().toLowerCase());
  for (const role of roles) if (!isRole(role)) throw new UsageError(`Unknown role "${role}"; roles are ${ROLES.join(', ')}.`);
  return roles as Role[];
}

function userLine(u: UserSummary): string {
  const state = !u.active
    ? 'disabled'
    : u.lockedOutUntil !== null
      ? `locked out until ${u.lockedOutUntil}`
      : u.mustChangePassword
        ? 'must change password'
        : 'active';
  return `${u.login.padEnd(16)} ${u.displayName.padEnd(28)} ${u.roles.join(',').padEnd(30)} ${state}`;
}

async function findUser(api: MarrowApi, login: string): Promise<UserSummary> {
  const user = (await api.listUsers()).find((u) => u.login.toLowerCase() === login.toLowerCase());
  if (user === undefined) throw new UsageError(`There is no account with the login "${login}" (see marrowcount users list).`);
  return user;
}

export async function usersCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseUsersArgs(argv);
  const service = await openCliService(io, `users ${args.sub}`, args.values.get('--db'), {
    modelDir: resolve(defaultModelDir(io.env)),
    reportsDir: join(homedir(), 'Documents', 'MarrowCount reports'),
    cellImageUrl: (caseId, imageId) => `marrowcell://cell/${caseId}/${imageId}`,
    appVersion: appVersion(),
  });
  if (service === null) return EXIT.failed;
  const out = (value: unknown, text: string): void => {
    io.stdout.write(args.json ? `${JSON.stringify(value, null, 2)}\n` : text);
  };
  try {
    const anonymous = service.forSession({ transport: 'cli', token: null });
    if ((await anonymous.getSession()).state === 'first_start') {
      if (args.sub !== 'add')
        throw new CliAuthError(
          'This database has no user accounts yet. Create the first administrator with: marrowcount users add <login> --name <name> --role admin',
        );
      const roles = parseRoles(args.values.get('--role')!);
      if (!roles.includes('admin')) throw new UsageError('The first account must be an administrator: give --role admin (it can create the others).');
      const password = await readSecret(io, 'MARROWCOUNT_NEW_PASSWORD', `New password for ${args.login!}: `);
      const session = await anonymous.createFirstAdmin({ login: args.login!, displayName: args.values.get('--name')!, password });
      let user = session.user!;
      // The first account is made an administrator; further roles it was given are added by itself, logged in.
      if (roles.some((r) => r !== 'admin')) user = await anonymous.setUserRoles({ userId: user.id, roles });
      out(user, `Created the first administrator ${user.login} (${user.displayName}; ${user.roles.join(', ')}).\n`);
      return EXIT.ok;
    }
    const api = await cliSession(service, io, args.values.get('--user') ?? null, `users ${args.sub}`);
    switch (args.sub) {
      case 'list': {
        const users = await api.listUsers();
        out(users, `${users.map(userLine).join('\n')}\n`);
        return EXIT.ok;
      }
      case 'add': {
        const password = await readSecret(io, 'MARROWCOUNT_NEW_PASSWORD', `New password for ${args.login!}: `);
        const user = await api.createUser({
          login: args.login!,
          displayName: args.values.get('--name')!,
          roles: parseRoles(args.values.get('--role')!),
          password,
        });
        out(user, `Created ${user.login} (${user.displayName}; ${user.roles.join(', ')}).\n`);
        return EXIT.ok;
      }
      case 'disable':
      case 'enable': {
        const target = await findUser(api, args.login!);
        const user = await api.setUserActive({ userId: target.id, active: args.sub === 'enable' });
        out(user, `${user.login} is ${user.active ? 'enabled' : 'disabled; its records keep its name'}.\n`);
        return EXIT.ok;
      }
      case 'reset-password': {
        const target = await findUser(api, args.login!);
        const password = await readSecret(io, 'MARROWCOUNT_NEW_PASSWORD', `Temporary password for ${target.login}: `);
        const user = await api.resetUserPassword({ userId: target.id, newPassword: password });
        out(user, `The password of ${user.login} was reset; ${user.displayName} must choose a new one at the next login.\n`);
        return EXIT.ok;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof CliAuthError || (error instanceof ServiceError && (error.kind === 'forbidden' || error.kind === 'unauthenticated'))) {
      io.stderr.write(`marrowcount: ${error.message}\n`);
      return EXIT.unauthenticated;
    }
    if (error instanceof ServiceError && (error.kind === 'validation' || error.kind === 'conflict')) {
      io.stderr.write(`marrowcount: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`marrowcount: ${toApiError(error).message}\n`);
    return EXIT.failed;
  } finally {
    await service.close();
  }
}
