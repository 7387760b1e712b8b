import { createContext, useContext } from 'react';
import type { ReviewLayout, Settings } from '../../../shared/api';
import { DEFAULT_REVIEW_LAYOUT } from '../../../shared/review-layout';

export interface SettingsState {
  /** null until loaded. */
  settings: Settings | null;
  save(settings: Settings): Promise<Settings>;
  /** The lab's review keys, class order and hidden classes; the built-in layout until the stored one has loaded. */
  reviewLayout: ReviewLayout;
  /** True once the stored layout has loaded (the dialog edits only what it has read). */
  reviewLayoutLoaded: boolean;
  saveReviewLayout(layout: ReviewLayout): Promise<ReviewLayout>;
}

export const SettingsContext = createContext<SettingsState | null>(null);

export function useSettings(): SettingsState {
  const state = useContext(SettingsContext);
  if (state === null) throw new Error('useSettings() is used outside <SettingsProvider>.');
  return state;
}

export { DEFAULT_REVIEW_LAYOUT };
