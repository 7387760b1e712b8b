import type { Settings } from '../../shared/api';
import type { MarrowDatabase } from './connection';
import { pending } from './pending';

/** Defaults ('' everywhere) when nothing was saved yet. */
export function getSettings(db: MarrowDatabase): Settings {
  return pending('getSettings', db);
}

export function saveSettings(db: MarrowDatabase, settings: Settings, actor?: string): Settings {
  return pending('saveSettings', db, settings, actor);
}
