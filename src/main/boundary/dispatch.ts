// The one path a call from outside takes into the service, whatever the transport: check the arguments, call the
// method, and fold success or failure into an ApiResult. It never throws, so no error can cross IPC flattened or
// leave an HTTP request unanswered.
import type { ApiResult, MarrowApi, MarrowApiMethod } from '../../shared/api';
import { toApiError } from '../service/errors';
import { validateArgs } from './validate';

export async function dispatch(api: MarrowApi, method: MarrowApiMethod, rawArgs: unknown): Promise<ApiResult<unknown>> {
  try {
    const args = validateArgs(method, rawArgs);
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn.apply(api, args);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: toApiError(e) };
  }
}
