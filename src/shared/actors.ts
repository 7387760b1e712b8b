// Who a change is recorded against when no person is named. Until accounts exist (the session will say who acts),
// these are the only defaults: the renderer, the service and the CLI all write these names, never their own.

/** A change made in the app with no reviewer name configured. */
export const DEFAULT_ACTOR_NAME = 'MarrowCount user';
/** A change made by the command-line tool when no --by is given. */
export const CLI_ACTOR_NAME = 'marrowcount CLI';

/** The name given, or the app's default when it is blank. */
export function actorNameOr(name: string | null | undefined, fallback: string = DEFAULT_ACTOR_NAME): string {
  const trimmed = name?.trim() ?? '';
  return trimmed === '' ? fallback : trimmed;
}
