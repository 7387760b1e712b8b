import { useCallback, useState } from 'react';
import { errorText, isApiError, useMessages } from '../components/messages';

/** What a failed action left to show: its text, and the form field it names (a validation error's `field`). */
export interface ActionError {
  field: string | null;
  text: string;
}

export interface ApiAction {
  /** True while an action runs: buttons that would start another are disabled. */
  busy: boolean;
  /** The last failure, shown beside the form until the next run (or setError(null)). */
  error: ActionError | null;
  setError: (error: ActionError | null) => void;
  /**
   * Runs `work` with `busy` set and the previous error cleared. A failure is given to `onError` first (return true
   * when it was handled, e.g. shown in a panel of its own); else, with `report`, it goes to the banner with that
   * context; else it is kept in `error`. Resolves to whether the work succeeded; never rejects.
   */
  run: (work: () => Promise<unknown>, options?: { onError?: (caught: unknown) => boolean; report?: string }) => Promise<boolean>;
}

/** The busy / error / finally block every form and button that calls the API needs, in one place (beside useApiQuery). */
export function useApiAction(): ApiAction {
  const { reportError } = useMessages();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ActionError | null>(null);
  const run = useCallback<ApiAction['run']>(
    async (work, options = {}) => {
      setBusy(true);
      setError(null);
      try {
        await work();
        return true;
      } catch (caught) {
        if (options.onError?.(caught) === true) return false;
        if (options.report !== undefined) reportError(caught, options.report);
        else setError({ field: isApiError(caught, 'validation') ? (caught.field ?? null) : null, text: errorText(caught) });
        return false;
      } finally {
        setBusy(false);
      }
    },
    [reportError],
  );
  return { busy, error, setError, run };
}
