import { useEffect, useRef, useState } from 'react';
import { onLiveCaseChange, onLiveState, type LiveCaseChange, type LiveState } from '../api/live';

/**
 * Runs `refresh` when another station changes case `caseId` (or, with 'any', any case), at most once per 250 ms:
 * a burst of decisions re-reads the case once.
 */
export function useLiveCase(caseId: number | 'any', refresh: (change: LiveCaseChange | null) => void): void {
  const refreshRef = useRef(refresh);
  useEffect(() => {
    refreshRef.current = refresh;
  });
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last: LiveCaseChange | null = null;
    const off = onLiveCaseChange((change) => {
      if (change !== null && caseId !== 'any' && change.caseId !== caseId) return;
      last = change;
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        refreshRef.current(last);
      }, 250);
    });
    return () => {
      off();
      if (timer !== null) clearTimeout(timer);
    };
  }, [caseId]);
}

export function useLiveState(): LiveState {
  const [state, setState] = useState<LiveState>('idle');
  useEffect(() => onLiveState(setState), []);
  return state;
}
