// How a CLI command acts as a person (issue 20): `--user <login>` with the password from MARROWCOUNT_PASSWORD (for
// scripts) or a prompt on the terminal, logged in through the same session API as the desktop app. Without --user
// the command runs only on a database with no account yet (the demo); once an account exists it is refused.
import type { MarrowApi } from '../../shared/api';
import { ServiceError } from '../service/errors';
import type { MarrowService } from '../service/types';
import type { CliIo } from './analyze';

/** A login or password problem: the message is printed and the command exits with EXIT.unauthenticated. */
export class CliAuthError extends Error {}

export async function readSecret(io: CliIo, envName: string, prompt: string): Promise<string> {
  const fromEnv = io.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (io.readSecret === undefined)
    throw new CliAuthError(`${prompt.replace(/: $/, '')} is needed: set ${envName} or run the command in a terminal to be asked.`);
  return io.readSecret(prompt);
}

/** The API as the --user person (or, on a database without accounts and with no --user, as nobody). */
export async function cliSession(service: MarrowService, io: CliIo, login: string | null, purpose: string): Promise<MarrowApi> {
  const api = service.forSession({ transport: 'cli', token: null });
  const session = await api.getSession();
  if (login === null) {
    if (session.state === 'first_start') return api;
    throw new CliAuthError(`This database has user accounts: ${purpose} needs --user <login> (the password comes from MARROWCOUNT_PASSWORD or a prompt).`);
  }
  if (session.state === 'first_start')
    throw new CliAuthError(
      `This database has no user accounts yet, so there is no ${login} to log in as. Create the first administrator with: marrowcount users add <login> --name <name> --role admin`,
    );
  const password = await readSecret(io, 'MARROWCOUNT_PASSWORD', `Password for ${login}: `);
  try {
    const after = await api.login({ login, password });
    if (after.user?.mustChangePassword)
      throw new CliAuthError(`${login} must choose a new password first (an administrator reset it): log in to the app and change it.`);
  } catch (e) {
    if (e instanceof ServiceError && (e.kind === 'unauthenticated' || e.kind === 'validation'))
      throw new CliAuthError(`Login as ${login} refused: ${e.message}`);
    throw e;
  }
  return api;
}
