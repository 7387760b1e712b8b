import { useState } from 'react';
import type { AnalysisProgress, CaseDetail } from '../../../shared/api';
import { isAnalysisUnderway } from '../../../shared/case-lifecycle';
import { getApi } from '../api';
import { usePolling } from './usePolling';

/** Once a second is enough for a notice on another tab; the Analysis tab polls faster itself. */
const WATCH_MS = 1000;

/**
 * While the case is importing or analysing, follows the run from any tab and calls `onEnded` when it stops (done,
 * cancelled, failed, or no run at all), so the header, the review grid and the sign-off panel show the case's new
 * status and counts without a reload. Returns the latest progress, for a live notice.
 */
export function useAnalysisWatch(detail: CaseDetail, active: boolean, onEnded: () => void): AnalysisProgress | null {
  const [progress, setProgress] = useState<AnalysisProgress | null>(null);
  // No run in this session (a case left 'analysing' by a crash): nothing to follow until one starts.
  const [noRunFor, setNoRunFor] = useState<number | null>(null);
  usePolling(
    async () => {
      const next = await getApi()
        .getAnalysisProgress(detail.id)
        .catch(() => null);
      setProgress(next);
      if (next === null) setNoRunFor(detail.id);
      else if (next.phase !== 'importing' && next.phase !== 'classifying') onEnded();
    },
    WATCH_MS,
    active && isAnalysisUnderway(detail.status) && noRunFor !== detail.id,
  );
  return progress;
}
