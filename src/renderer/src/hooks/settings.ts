import { createContext, useContext } from 'react';
import type { Settings } from '../../../shared/api';

export interface SettingsState {
  /** null until loaded. */
  settings: Settings | null;
  save(settings: Settings): Promise<Settings>;
}

export const SettingsContext = createContext<SettingsState | null>(null);

export function useSettings(): SettingsState {
  const state = useContext(SettingsContext);
  if (state === null) throw new Error('useSettings() is used outside <SettingsProvider>.');
  return state;
}
