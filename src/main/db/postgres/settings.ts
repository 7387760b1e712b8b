// The settings on PostgreSQL: the twin of ../settings.ts (SettingsRepository of contract.ts), same rules and audit.
import type { Settings } from '../../../shared/api';
import { nowIso } from '../connection';
import type { SettingsRepository } from '../contract';
import { appendAuditPg } from './audit';
import { pgRead, pgUnit, type PgScope, type Queryable } from './scope';

// As ../settings.ts: reviewerName/reviewerRole rows of old databases are no longer read (identity from the session).
const SETTING_KEYS = ['labName'] as const satisfies readonly (keyof Settings)[];

async function readSettings(q: Queryable): Promise<Settings> {
  const settings: Settings = { labName: '' };
  const { rows } = await q.query<{ key: keyof Settings; value: string }>('SELECT key, value FROM settings');
  for (const row of rows) {
    if ((SETTING_KEYS as readonly string[]).includes(row.key)) settings[row.key] = row.value;
  }
  return settings;
}

export function pgSettingsRepository(scope: PgScope): SettingsRepository {
  return {
    getSettings: () => pgRead(scope, 'Reading the settings', readSettings),
    saveSettings: (settings, actor) => {
      const next: Settings = { labName: settings.labName.trim() };
      return pgUnit(scope, 'Saving the settings', async (client) => {
        // Two stations saving at once: the second waits here and compares with what the first saved.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('marrowcount settings'))`);
        const before = await readSettings(client);
        const changed = SETTING_KEYS.filter((k) => before[k] !== next[k]);
        if (changed.length === 0) return before;
        const at = nowIso();
        for (const key of changed) {
          await client.query(
            'INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
            [key, next[key], at],
          );
        }
        await appendAuditPg(
          client,
          {
            actor,
            action: 'settings_changed',
            caseId: null,
            detail: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: next[k] }])),
          },
          at,
        );
        return readSettings(client);
      });
    },
  };
}
