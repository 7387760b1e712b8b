import type { Settings } from '../../shared/api';
import { appendAudit } from './audit';
import { inTransaction, nowIso, read, sql, type MarrowDatabase } from './connection';

// reviewerName and reviewerRole (free text, before accounts) stay in old databases' rows but are no longer read:
// who acts comes from the session (issue 20).
const SETTING_KEYS = ['labName'] as const satisfies readonly (keyof Settings)[];

/** Defaults ('' everywhere) for what was never saved. */
export function getSettings(db: MarrowDatabase): Settings {
  return read('Reading the settings', () => readSettings(db));
}

function readSettings(db: MarrowDatabase): Settings {
  const settings: Settings = { labName: '' };
  for (const row of sql(db, 'SELECT key, value FROM settings').all() as { key: keyof Settings; value: string }[]) {
    if ((SETTING_KEYS as readonly string[]).includes(row.key)) settings[row.key] = row.value;
  }
  return settings;
}

/** Saves the settings; the audit log records which changed and by whom. */
export function saveSettings(db: MarrowDatabase, settings: Settings, actor: string): Settings {
  const next: Settings = { labName: settings.labName.trim() };
  return inTransaction(db, 'Saving the settings', () => {
    const before = readSettings(db);
    const changed = SETTING_KEYS.filter((k) => before[k] !== next[k]);
    if (changed.length === 0) return before;
    const at = nowIso();
    const upsert = sql(
      db,
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    for (const key of changed) upsert.run(key, next[key], at);
    const who = actor;
    appendAudit(
      db,
      {
        actor: who,
        action: 'settings_changed',
        caseId: null,
        detail: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: next[k] }])),
      },
      at,
    );
    return readSettings(db);
  });
}
