import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { ReviewLayout, Settings } from '../../../shared/api';
import { DEFAULT_REVIEW_LAYOUT } from '../../../shared/review-layout';
import { getApi } from '../api';
import { useMessages } from '../components/messages';
import { SettingsContext, type SettingsState } from './settings';

export function SettingsProvider({ children }: { children: ReactNode }) {
  const { reportError } = useMessages();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [reviewLayout, setReviewLayout] = useState<ReviewLayout | null>(null);

  useEffect(() => {
    let live = true;
    getApi()
      .getSettings()
      .then((loaded) => {
        if (live) setSettings(loaded);
      })
      .catch((error: unknown) => reportError(error, 'Loading settings'));
    getApi()
      .getReviewLayout()
      .then((loaded) => {
        if (live) setReviewLayout(loaded);
      })
      .catch((error: unknown) => reportError(error, 'Loading the review keys and classes'));
    return () => {
      live = false;
    };
  }, [reportError]);

  const save = useCallback(async (next: Settings) => {
    const saved = await getApi().saveSettings(next);
    setSettings(saved);
    return saved;
  }, []);

  const saveReviewLayout = useCallback(async (next: ReviewLayout) => {
    const saved = await getApi().saveReviewLayout(next);
    setReviewLayout(saved);
    return saved;
  }, []);

  const state = useMemo<SettingsState>(
    () => ({ settings, save, reviewLayout: reviewLayout ?? DEFAULT_REVIEW_LAYOUT, reviewLayoutLoaded: reviewLayout !== null, saveReviewLayout }),
    [settings, save, reviewLayout, saveReviewLayout],
  );
  return <SettingsContext.Provider value={state}>{children}</SettingsContext.Provider>;
}
