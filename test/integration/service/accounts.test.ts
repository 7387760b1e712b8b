// Accounts and sessions through the real service (a real SQLite file, and a real PostgreSQL database): first start, login and lockout, idle lock and
// unlock, another person at a locked screen, password change and reset, disabled accounts, the audit trail with user
// ids, the SQL backstops, and that no password is ever stored, logged, returned or exported.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MarrowApi } from '../../../src/shared/api';
import { addReview, closeDatabase, createUser, openDatabase } from '../../../src/main/db';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { toApiError } from '../../../src/main/service/errors';
import { createMarrowService } from '../../../src/main/service/marrow-service';
import { caseInReview, openTemp } from '../db/helpers';
import { openStore } from '../../../src/main/db/store';
import { ENGINES, usePostgres } from '../db/engines';
import { analysedFixtureCase, startService, TEST_ADMIN, TINY_MODEL, type ServiceFixture, TEST_PERSON } from './helpers';
import { openRaw } from './raw-db';

async function refusal(promise: Promise<unknown>): Promise<{ kind: string; message: string; field?: string }> {
  const outcome = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(outcome, 'expected a refusal').not.toBeNull();
  return toApiError(outcome);
}

// The fixture's administrator, so that the fixture's own test person can be created by it later in the file.
const ADMIN = TEST_ADMIN;
const TECH = { login: 'tom', displayName: 'Tom Technician', password: 'tom-password-123', roles: ['technician' as const] };
const PATH = { login: 'pat', displayName: 'Dr Pat Pathologist', password: 'pat-password-456', roles: ['pathologist' as const] };
const EVERY_PASSWORD = [ADMIN.password, TECH.password, PATH.password, 'wrong-password-x', 'tom-new-password-1', 'temporary-reset-1', 'tom-after-reset-1'];

const pgSetup = usePostgres();

/** The whole audit log of the fixture's database, newest first. */
async function auditLog(fx: ServiceFixture) {
  const store = await openStore(fx.databaseLocation);
  try {
    return await store.audit.listAuditLog({ limit: 100_000 });
  } finally {
    await store.close();
  }
}

describe.each(ENGINES)('on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && pgSetup.unavailable !== null)('accounts and sessions', () => {
    let fx: ServiceFixture;
    let now = Date.parse('2026-12-04T09:00:00Z');
    const session = (): MarrowApi => fx.host.forSession({ transport: 'cli', token: null });
    let admin: MarrowApi;
    let logged: string[] = [];

    beforeAll(async () => {
      // Everything the service writes to the console is kept, to check that no password is ever logged.
      logged = [];
      for (const level of ['log', 'warn', 'error', 'info'] as const) {
        vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
          logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack ?? ''}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
        });
      }
      fx = await startService('accounts', {
        extras: { now: () => new Date(now) },
        ...(engine === 'postgres' ? { databaseLocation: await pgSetup.freshUrl() } : {}),
      });
    });
    afterAll(async () => {
      vi.restoreAllMocks();
      await fx.dispose();
    });

    it('starts with no account and creates the first administrator without a login, once', async () => {
      const first = session();
      expect(await first.getSession()).toMatchObject({ state: 'first_start', user: null, idleLockMinutes: 15 });
      // Nothing else can be done before then: there is no default account.
      expect(await refusal(first.listCases({}))).toMatchObject({ kind: 'unauthenticated' });
      const short = await refusal(first.createFirstAdmin({ ...ADMIN, password: 'short' }));
      expect(short).toMatchObject({ kind: 'validation', field: 'password', message: 'A password needs at least 10 characters.' });
      const created = await first.createFirstAdmin(ADMIN);
      expect(created).toMatchObject({ state: 'active', user: { login: 'admin', displayName: 'Test Administrator', roles: ['admin'], createdBy: null } });
      admin = first;
      const again = await refusal(session().createFirstAdmin({ login: 'eve', displayName: 'Eve', password: 'eve-password-1' }));
      expect(again.kind).toBe('forbidden');
    });

    it('creates accounts whose logins are unique without regard to case', async () => {
      await admin.createUser(TECH);
      await admin.createUser(PATH);
      const duplicate = await refusal(admin.createUser({ ...TECH, login: 'TOM', displayName: 'Another Tom' }));
      expect(duplicate.kind).toBe('conflict');
      expect(duplicate.message).toContain('An account with the login "TOM" already exists');
      const users = await admin.listUsers();
      expect(users.map((u) => [u.login, u.roles, u.createdBy])).toEqual([
        ['admin', ['admin'], null],
        ['pat', ['pathologist'], 'Test Administrator'],
        ['tom', ['technician'], 'Test Administrator'],
      ]);
    });

    it('logs in with the login in any case; a wrong password is refused, counted and audited with the user id', async () => {
      const tom = session();
      expect(await tom.login({ login: 'TOM', password: TECH.password })).toMatchObject({ state: 'active', user: { login: 'tom' } });
      const wrong = await refusal(session().login({ login: 'tom', password: 'wrong-password-x' }));
      expect(wrong).toMatchObject({ kind: 'unauthenticated', field: 'password' });
      expect(wrong.message).toBe('Wrong login name or password. 4 more wrong tries lock the account for 15 minutes.');
      const unknown = await refusal(session().login({ login: 'nobody', password: 'wrong-password-x' }));
      expect(unknown.message).toBe('Wrong login name or password.');
      const users = await admin.listUsers();
      const tomId = users.find((u) => u.login === 'tom')!.id;
      const log = await auditLog(fx);
      const failures = log.filter((r) => r.action === 'login_failed');
      expect(failures.map((r) => [r.userId, (r.detail as { login: string }).login])).toEqual([
        [null, 'nobody'],
        [tomId, 'tom'],
      ]);
      expect(log.some((r) => r.action === 'login' && r.userId === tomId)).toBe(true);
      await tom.logout();
    });

    it('locks the account for 15 minutes after 5 wrong passwords, even against the right one, then lets it in', async () => {
      // One wrong try is already counted above; four more make five.
      for (let i = 0; i < 3; i++) await refusal(session().login({ login: 'tom', password: 'wrong-password-x' }));
      const fifth = await refusal(session().login({ login: 'tom', password: 'wrong-password-x' }));
      expect(fifth.message).toMatch(/^Wrong password\. The account is locked after 5 wrong passwords until \d\d:\d\d UTC \(15 minutes\)/);
      const right = await refusal(session().login({ login: 'tom', password: TECH.password }));
      expect(right.message).toMatch(/^The account is locked after 5 wrong passwords/);
      expect((await admin.listUsers()).find((u) => u.login === 'tom')!.lockedOutUntil).not.toBeNull();
      now += 14 * 60_000;
      expect((await refusal(session().login({ login: 'tom', password: TECH.password }))).kind).toBe('unauthenticated');
      now += 61_000;
      expect((await session().login({ login: 'tom', password: TECH.password })).state).toBe('active');
    });

    it('locks an idle session, keeps its person, refuses a wrong password (audited) and unlocks with the right one', async () => {
      const tom = session();
      await tom.login({ login: 'tom', password: TECH.password });
      await tom.listCases({});
      now += 14 * 60_000;
      // A poll is not activity: the screen left polling still locks on time.
      await tom.getSession();
      expect((await tom.listCases({})).length).toBe(0);
      now += 15 * 60_000;
      const locked = await refusal(tom.listCases({}));
      expect(locked.kind).toBe('session_locked');
      expect(locked.message).toContain('Tom Technician, give your password to go on');
      expect(await tom.getSession()).toMatchObject({ state: 'locked', user: { login: 'tom' } });
      const wrong = await refusal(tom.unlockSession({ password: 'wrong-password-x' }));
      expect(wrong).toMatchObject({ kind: 'session_locked', field: 'password' });
      expect(wrong.message).toContain('Wrong password for Tom Technician');
      expect(await tom.unlockSession({ password: TECH.password })).toMatchObject({ state: 'active' });
      expect(await tom.listCases({})).toEqual([]);
      const actions = (await auditLog(fx)).reverse().map((r) => r.action);
      expect(actions.slice(-3)).toEqual(['session_locked', 'unlock_failed', 'session_unlocked']);
    });

    it('lets another person log in at a locked screen, ending the locked session', async () => {
      const screen = session();
      await screen.login({ login: 'tom', password: TECH.password });
      expect((await screen.lockSession()).state).toBe('locked');
      const pat = await screen.login({ login: 'pat', password: PATH.password });
      expect(pat).toMatchObject({ state: 'active', user: { login: 'pat' } });
    });

    it('changes a password only with the current one, and ends the person’s other sessions', async () => {
      const first = session();
      const second = session();
      await first.login({ login: 'tom', password: TECH.password });
      await second.login({ login: 'tom', password: TECH.password });
      expect((await refusal(first.changePassword({ currentPassword: 'wrong-password-x', newPassword: 'tom-new-password-1' }))).field).toBe('currentPassword');
      expect((await refusal(first.changePassword({ currentPassword: TECH.password, newPassword: 'tom' }))).field).toBe('newPassword');
      await first.changePassword({ currentPassword: TECH.password, newPassword: 'tom-new-password-1' });
      expect(await first.listCases({})).toEqual([]);
      expect((await refusal(second.listCases({}))).message).toContain('the password was changed in another session');
      expect((await refusal(session().login({ login: 'tom', password: TECH.password }))).kind).toBe('unauthenticated');
    });

    it('forces a change at the next login after an administrator’s reset, and refuses everything else until then', async () => {
      // The clock has moved on above: the administrator's own session locked meanwhile.
      expect((await admin.getSession()).state).toBe('locked');
      await admin.unlockSession({ password: ADMIN.password });
      const tomId = (await admin.listUsers()).find((u) => u.login === 'tom')!.id;
      const reset = await admin.resetUserPassword({ userId: tomId, newPassword: 'temporary-reset-1' });
      expect(reset.mustChangePassword).toBe(true);
      const tom = session();
      expect((await tom.login({ login: 'tom', password: 'temporary-reset-1' })).user?.mustChangePassword).toBe(true);
      expect(await refusal(tom.listCases({}))).toMatchObject({
        kind: 'forbidden',
        message: 'An administrator reset your password: choose a new one before going on.',
      });
      const changed = await tom.changePassword({ currentPassword: 'temporary-reset-1', newPassword: 'tom-after-reset-1' });
      expect(changed.user?.mustChangePassword).toBe(false);
      expect(await tom.listCases({})).toEqual([]);
    });

    it('disables an account (never deletes it): its sessions end and it cannot log in; the last administrator stays', async () => {
      const users = await admin.listUsers();
      const tomId = users.find((u) => u.login === 'tom')!.id;
      const adaId = users.find((u) => u.login === 'admin')!.id;
      const tom = session();
      await tom.login({ login: 'tom', password: 'tom-after-reset-1' });
      await admin.setUserActive({ userId: tomId, active: false });
      expect((await refusal(tom.listCases({}))).kind).toBe('unauthenticated');
      expect((await refusal(session().login({ login: 'tom', password: 'tom-after-reset-1' }))).message).toBe(
        'The account tom is disabled. Ask an administrator.',
      );
      expect((await refusal(admin.setUserActive({ userId: adaId, active: false }))).message).toContain('You cannot disable your own account');
      expect((await refusal(admin.setUserRoles({ userId: adaId, roles: ['pathologist'] }))).message).toContain('the last active administrator');
      await admin.setUserActive({ userId: tomId, active: true });
      expect((await session().login({ login: 'tom', password: 'tom-after-reset-1' })).state).toBe('active');
    });

    it('records every review and sign-off with the session’s user id, whatever name a caller sends', async () => {
      // The fixture's own test person (every role) does the work here; its id must be on each row.
      const { detail, cells } = await analysedFixtureCase(fx, 'audit');
      const cell = cells[0]!;
      // A name smuggled in the request is refused at the boundary…
      const smuggled = await dispatch(fx.service, 'reviewCell', [{ caseId: detail.id, imageId: cell.imageId, label: 'BLA', reviewer: 'Dr Somebody Else' }]);
      expect(smuggled).toMatchObject({ ok: false, error: { kind: 'validation', field: 'review.reviewer' } });
      // …and an in-process caller cannot pass one either: the service takes the session's person.
      const view = await fx.service.reviewCell({ caseId: detail.id, imageId: cell.imageId, label: 'BLA', ...({ reviewer: 'Dr Somebody Else' } as object) });
      expect(view.decision?.reviewer).toBe('Test Person');
      await fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: detail.id, overrideReason: 'audit test' });
      const db = await openRaw(fx.databaseLocation);
      try {
        const [{ id: person }] = (await db.all<{ id: number }>(`SELECT id FROM users WHERE login = 'tester'`)) as [{ id: number }];
        const rows = await db.all('SELECT reviewer, user_id FROM reviews WHERE case_id = ?', [detail.id]);
        expect(rows).toEqual([{ reviewer: 'Test Person', user_id: person }]);
        expect(await db.all('SELECT signed_by, role, user_id FROM sign_offs WHERE case_id = ?', [detail.id])).toEqual([
          { signed_by: 'Test Person', role: 'Pathologist', user_id: person },
        ]);
        const caseRows = await db.all(`SELECT action, user_id FROM audit_log WHERE case_id = ? AND action IN ('review_added', 'case_signed') ORDER BY id`, [
          detail.id,
        ]);
        expect(caseRows).toEqual([
          { action: 'review_added', user_id: person },
          { action: 'case_signed', user_id: person },
        ]);
      } finally {
        await db.close();
      }
    });

    it('stores, logs, returns and exports no password anywhere', async () => {
      const tom = session();
      await tom.login({ login: 'tom', password: 'tom-after-reset-1' });
      const { detail } = await analysedFixtureCase(fx, 'nopassword');
      const saved = await fx.service.exportCase({ caseId: detail.id, format: 'json' });
      const report = await fx.service.saveReport({ caseId: detail.id });
      const answers = JSON.stringify([
        await admin.listUsers(),
        await tom.getSession(),
        await refusal(session().login({ login: 'tom', password: 'wrong-password-x' })),
      ]);
      // SQLite: the database file and its WAL, as written. PostgreSQL: every row of every table, as text.
      const files = [...(engine === 'sqlite' ? readdirSync(join(fx.root, 'data')).map((f) => join(fx.root, 'data', f)) : []), saved.path, report.path];
      const db = await openRaw(fx.databaseLocation);
      try {
        let stored = '';
        if (engine === 'postgres') {
          for (const { tablename } of await db.all<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)) {
            for (const row of await db.all<{ t: string }>(`SELECT t::text AS t FROM "${tablename}" AS t`)) stored += `${row.t}\n`;
          }
          expect(stored).toContain('tom');
        }
        for (const password of EVERY_PASSWORD) {
          expect(answers, password).not.toContain(password);
          expect(logged.join('\n'), password).not.toContain(password);
          expect(stored, password).not.toContain(password);
          for (const file of files) expect(readFileSync(file).includes(Buffer.from(password)), `${file} holds ${password}`).toBe(false);
        }
        // What is stored is an scrypt hash with its own salt per account.
        const hashes = (await db.all<{ password_hash: string }>('SELECT password_hash FROM users')).map((r) => r.password_hash);
        for (const hash of hashes) expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
        expect(new Set(hashes.map((h) => h.split('$')[4])).size).toBe(hashes.length);
      } finally {
        await db.close();
      }
    });
  });
});

// SQLite only: a file written before accounts existed (migration 0009 upgrading it) is a desktop station's history.
describe('a database from before accounts', () => {
  it('keeps its typed names, shown as recorded names, and refuses new unattributed reviews once accounts exist', async () => {
    const { db, path, dir } = openTemp();
    const { caseId, imageIds } = caseInReview(db, [
      { predicted: 'BLA', confidence: 0.9 },
      { predicted: 'LYT', confidence: 0.4 },
    ]);
    addReview(db, { caseId, imageId: imageIds[0]!, label: 'MON', reviewer: 'J. Smith' });
    closeDatabase(db);

    const service = await createMarrowService({
      databaseLocation: path,
      modelDir: TINY_MODEL,
      reportsDir: join(dir, 'reports'),
      cellImageUrl: (c, i) => `/cells/${c}/${i}`,
      appVersion: 'test',
    });
    try {
      const api = service.forSession({ transport: 'cli', token: null });
      // Accounts start on this database as on a new one: the first administrator, no default password.
      expect((await api.getSession()).state).toBe('first_start');
      await api.createFirstAdmin({ login: 'admin', displayName: 'Ada Admin', password: 'admin-password-1' });
      await api.setUserRoles({ userId: 1, roles: ['admin', 'technician', 'pathologist'] });
      const cells = await api.listCells({ caseId, scope: 'all' });
      expect(cells.cells.find((c) => c.imageId === imageIds[0])!.decision?.reviewer).toBe('J. Smith (recorded name, before accounts)');
    } finally {
      await service.close();
    }

    // The SQL backstop: a review without a user id is refused now that an account exists, whoever writes.
    const reopened = openDatabase(path);
    try {
      expect(() => addReview(reopened, { caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'J. Smith' })).toThrow(
        /once accounts exist, a review is recorded against a logged-in user/,
      );
      const raw = reopened.raw.prepare('SELECT reviewer, user_id FROM reviews').all();
      expect(raw).toEqual([{ reviewer: 'J. Smith', user_id: null }]);
      expect(() =>
        createUser(reopened, {
          login: 'x',
          displayName: 'X',
          roles: ['technician'],
          passwordHash: 'plain',
          mustChangePassword: false,
          createdBy: { id: 1, displayName: 'Ada Admin' },
        }),
      ).toThrow(/CHECK constraint/);
      expect(() => reopened.raw.prepare('DELETE FROM users WHERE id = 1').run()).toThrow(/an account is never deleted/);
    } finally {
      closeDatabase(reopened);
    }
  });
});
