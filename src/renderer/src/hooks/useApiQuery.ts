import { useCallback, useEffect, useRef, useState } from 'react';
import { useMessages } from '../components/messages';

export interface Query<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  /** Fetches again, keeping the current data on screen until the new data arrives; true when fresh data arrived. */
  reload: () => Promise<boolean>;
}

interface Settled<T> {
  key: string;
  data: T | null;
  error: unknown;
}

/**
 * Runs `load` when `key` changes and on reload(). Answers to superseded requests are dropped, so a slow answer
 * for an old filter never overwrites a newer one. Errors go to the banner and stay in `error`.
 */
export function useApiQuery<T>(load: () => Promise<T>, key: string, context: string): Query<T> {
  const { reportError } = useMessages();
  const [settled, setSettled] = useState<Settled<T> | null>(null);
  const [reloading, setReloading] = useState(false);
  const generation = useRef(0);
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });

  const fetchFor = useCallback(
    async (forKey: string): Promise<boolean> => {
      const mine = ++generation.current;
      try {
        const value = await loadRef.current();
        if (mine !== generation.current) return false;
        setSettled({ key: forKey, data: value, error: null });
        return true;
      } catch (caught) {
        if (mine !== generation.current) return false;
        setSettled((current) => ({ key: forKey, data: current?.data ?? null, error: caught }));
        reportError(caught, context);
        return false;
      }
    },
    [reportError, context],
  );

  useEffect(() => {
    void fetchFor(key);
    return () => {
      // Superseded or unmounted: ignore answers still in flight.
      generation.current += 1;
    };
  }, [fetchFor, key]);

  const reload = useCallback(async () => {
    setReloading(true);
    try {
      return await fetchFor(key);
    } finally {
      setReloading(false);
    }
  }, [fetchFor, key]);

  const current = settled !== null && settled.key === key ? settled : null;
  return {
    // Data of a previous key stays visible while the new key loads (no flash of an empty table on each keystroke).
    data: current?.data ?? settled?.data ?? null,
    error: current?.error ?? null,
    loading: current === null || reloading,
    reload,
  };
}
