import { useEffect, useRef } from 'react';

/**
 * Calls `tick` every `intervalMs` while `active`, never overlapping: the next call is scheduled only after the
 * previous one settled, so a slow service is not flooded with requests.
 */
export function usePolling(tick: () => Promise<void>, intervalMs: number, active: boolean): void {
  const tickRef = useRef(tick);
  useEffect(() => {
    tickRef.current = tick;
  });

  useEffect(() => {
    if (!active) return undefined;
    let stopped = false;
    let timer: number | undefined;
    const loop = async () => {
      try {
        await tickRef.current();
      } finally {
        if (!stopped) timer = window.setTimeout(() => void loop(), intervalMs);
      }
    };
    timer = window.setTimeout(() => void loop(), 0);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [intervalMs, active]);
}
