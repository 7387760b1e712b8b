// The first aggregates behind the asynchronous contract on both engines (settings, audit): the same calls give the
// same results and the same audit trail on SQLite (sqliteStore over the existing functions) and on PostgreSQL
// (db/postgres/settings.ts, audit.ts). The pattern the remaining aggregates follow (src/main/db/README.md).
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRepository, SettingsRepository } from '../../../src/main/db/contract';
import { closePostgresDatabase, openPostgresDatabase, pgTransaction, type PostgresDatabase } from '../../../src/main/db/postgres/connection';
import { pgAuditRepository } from '../../../src/main/db/postgres/audit';
import { pgSettingsRepository } from '../../../src/main/db/postgres/settings';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';
import { ENGINES, usePostgres, type EngineName } from './engines';
import { openTemp } from './helpers';

const setup = usePostgres();
const pgDatabases: PostgresDatabase[] = [];
afterEach(async () => {
  for (const db of pgDatabases.splice(0)) await closePostgresDatabase(db);
});

interface Repos {
  settings: SettingsRepository;
  audit: AuditRepository;
  /** Runs fn in one transaction of the engine and rolls it back by throwing. */
  abandoned(fn: (repos: { settings: SettingsRepository }) => Promise<void>): Promise<void>;
}

async function reposFor(engine: EngineName): Promise<Repos> {
  if (engine === 'sqlite') {
    const store = sqliteStore(openTemp().db);
    return {
      settings: store.settings,
      audit: store.audit,
      abandoned: (fn) =>
        store.transaction(async (tx) => {
          await fn(tx);
          throw new Error('abandoned');
        }),
    };
  }
  const db = await openPostgresDatabase(await setup.freshUrl());
  pgDatabases.push(db);
  const scope = { db, client: null };
  return {
    settings: pgSettingsRepository(scope),
    audit: pgAuditRepository(scope),
    abandoned: (fn) =>
      pgTransaction(db, 'test', async (client) => {
        await fn({ settings: pgSettingsRepository({ db, client }) });
        throw new Error('abandoned');
      }),
  };
}

describe.each(ENGINES)('settings and audit repositories on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && setup.unavailable !== null)('through the contract', () => {
    it('saves trimmed settings and records only what changed, by whom', async () => {
      const r = await reposFor(engine);
      expect(await r.settings.getSettings()).toEqual({ labName: '' });
      await r.settings.saveSettings({ labName: ' Haematology Lab ' }, 'Ana');
      await r.settings.saveSettings({ labName: 'Haematology Lab' }, 'Ana');
      const saved = await r.settings.saveSettings({ labName: 'Haematology Laboratory' }, 'dr.b');
      expect(saved).toEqual({ labName: 'Haematology Laboratory' });
      const log = await r.audit.listAuditLog();
      // Each entry's user id is the session's; outside a session (as here) none.
      expect(log.map((e) => [e.actor, e.action, e.detail, e.userId])).toEqual([
        ['dr.b', 'settings_changed', { labName: { from: 'Haematology Lab', to: 'Haematology Laboratory' } }, null],
        ['Ana', 'settings_changed', { labName: { from: '', to: 'Haematology Lab' } }, null],
      ]);
      expect(await r.audit.listAuditLog({ limit: 1, offset: 1 })).toEqual([log[1]]);
      expect(await r.audit.caseAuditLog(1)).toEqual([]);
    });

    it('keeps nothing of a save inside a transaction that is abandoned', async () => {
      const r = await reposFor(engine);
      await r.settings.saveSettings({ labName: 'Lab' }, 'Ana');
      await expect(r.abandoned((tx) => tx.settings.saveSettings({ labName: 'Other' }, 'Bo').then(() => {}))).rejects.toThrow(/abandoned/);
      expect(await r.settings.getSettings()).toEqual({ labName: 'Lab' });
      expect(await r.audit.listAuditLog()).toHaveLength(1);
    });
  });
});
