import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { Settings } from '../../../shared/api';
import { getApi } from '../api';
import { useMessages } from '../components/messages';
import { SettingsContext, type SettingsState } from './settings';

export function SettingsProvider({ children }: { children: ReactNode }) {
  const { reportError } = useMessages();
  const [settings, setSettings] = useState<Settings | null>(null);

  useEffect(() => {
    let live = true;
    getApi()
      .getSettings()
      .then((loaded) => {
        if (live) setSettings(loaded);
      })
      .catch((error: unknown) => reportError(error, 'Loading settings'));
    return () => {
      live = false;
    };
  }, [reportError]);

  const save = useCallback(async (next: Settings) => {
    const saved = await getApi().saveSettings(next);
    setSettings(saved);
    return saved;
  }, []);

  const state = useMemo<SettingsState>(() => ({ settings, save }), [settings, save]);
  return <SettingsContext.Provider value={state}>{children}</SettingsContext.Provider>;
}
