import { useState } from 'react';
import { errorText, isApiError } from '../api/errors';

/** A form's busy flag, its error message and the field the error names. */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError({ message: errorText(e), field: isApiError(e) ? (e.field ?? null) : null });
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
