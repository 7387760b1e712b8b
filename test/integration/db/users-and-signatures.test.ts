// Accounts, sessions, lockout, security settings, refusals and electronic signatures (migration 0009) on both
// engines, through the contract (UserRepository, SignatureRepository): the same calls give the same rows, refusals
// and audit trail on SQLite and on PostgreSQL. The service's tests (test/integration/service/accounts.test.ts,
// signatures.test.ts) hold the rules above the repositories; these hold the repositories themselves.
import { describe, expect, it } from 'vitest';
import { runAsUser } from '../../../src/main/db/acting-user';
import type { NewUser } from '../../../src/main/db/users';
import { ENGINES } from './engines';
import { expectRejection, storesForEngines, type EngineStore } from './store-for-engine';

const stores = storesForEngines();
const HASH = 'scrypt$16384$8$1$c2FsdA$aGFzaA';
const token = (n: number) => n.toString(16).padStart(64, '0');

async function withAdmin(s: EngineStore) {
  const admin = await s.users.createUser({
    login: ' admin ',
    displayName: ' Ada Admin ',
    roles: ['admin', 'admin'],
    passwordHash: HASH,
    mustChangePassword: false,
    createdBy: null,
  });
  const by = { id: admin.id, displayName: admin.displayName };
  const person = (login: string, displayName: string, roles: NewUser['roles']): NewUser => ({
    login,
    displayName,
    roles,
    passwordHash: HASH,
    mustChangePassword: true,
    createdBy: by,
  });
  return { admin, by, person };
}

/** A case to sign, written past the repositories (cases are another aggregate's). */
async function aCase(s: EngineStore): Promise<number> {
  const [patient] = await s.sql<{ id: number }>(`INSERT INTO patients (lab_id, created_at, updated_at) VALUES ('MRN-1', 't', 't') RETURNING id`);
  const [row] = await s.sql<{ id: number }>(
    `INSERT INTO cases (patient_id, accession, specimen, folder, status, created_at) VALUES (?, 'BM-1', 'other', '/c', 'importing', 't') RETURNING id`,
    [patient!.id],
  );
  return row!.id;
}

describe.each(ENGINES)('accounts and signatures on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    it('creates the first administrator, then accounts named by their creator; logins are unique without regard to case', async () => {
      const s = await stores.openReposFor(engine);
      expect(await s.users.countUsers()).toBe(0);
      const { admin, by, person } = await withAdmin(s);
      expect(admin).toMatchObject({ login: 'admin', displayName: 'Ada Admin', roles: ['admin'], active: true, mustChangePassword: false, createdBy: null });
      const tom = await s.users.createUser(person('Tom', 'Tom Tech', ['technician']));
      expect(tom).toMatchObject({ login: 'Tom', createdBy: admin.id, createdByName: 'Ada Admin', mustChangePassword: true, failedLogins: 0 });
      const duplicate = await expectRejection(s.users.createUser(person('TOM', 'Another Tom', ['technician'])), 'duplicate');
      expect(duplicate.message).toContain('"TOM" already exists');
      expect((await s.users.findUserByLogin(' tom '))?.id).toBe(tom.id);
      expect(await s.users.findUserByLogin('nobody')).toBeNull();
      await expectRejection(s.users.getUser(9999), 'not_found');
      expect((await s.users.listUsers()).map((u) => u.login)).toEqual(['admin', 'Tom']);
      expect(await s.users.countUsers()).toBe(2);
      const log = (await s.audit.listAuditLog()).reverse();
      expect(log.map((e) => [e.action, e.actor, e.userId, e.detail])).toEqual([
        ['user_created', 'Ada Admin', admin.id, { userId: admin.id, login: 'admin', displayName: 'Ada Admin', roles: ['admin'], firstAdministrator: true }],
        ['user_created', 'Ada Admin', admin.id, { userId: tom.id, login: 'Tom', displayName: 'Tom Tech', roles: ['technician'], firstAdministrator: false }],
      ]);
      // The SQL backstops: a second account names its creator; roles are the three known ones; a hash, never a password.
      await expectRejection(s.users.createUser({ ...person('plain', 'Plain', ['technician']), passwordHash: 'plain' }), 'constraint');
      await expectRejection(s.users.createUser({ ...person('eve', 'Eve', ['technician']), createdBy: null }), 'constraint');
      await expectRejection(s.users.setUserRoles(tom.id, ['janitor' as 'admin'], by), 'constraint');
    });

    it('locks an account out at the maximum of failed logins, ending its sessions, and starts the count again', async () => {
      const s = await stores.openReposFor(engine);
      const { person } = await withAdmin(s);
      const tom = await s.users.createUser(person('tom', 'Tom Tech', ['technician']));
      const session = await s.users.createSession({ userId: tom.id, tokenSha256: token(1), transport: 'desktop', at: '2026-01-01T08:00:00.000Z' });
      const options = { maxFailures: 3, lockUntil: '2026-01-01T08:15:00.000Z', action: 'login_failed' as const };
      expect((await s.users.recordFailedLogin(tom.id, options)).failedLogins).toBe(1);
      expect((await s.users.recordFailedLogin(tom.id, { ...options, detail: { station: 'desk 2' } })).failedLogins).toBe(2);
      const locked = await s.users.recordFailedLogin(tom.id, options);
      expect(locked).toMatchObject({ failedLogins: 0, lockedOutUntil: '2026-01-01T08:15:00.000Z' });
      expect(await s.users.findSessionByTokenHash(token(1))).toMatchObject({ id: session.id, endReason: 'disabled' });
      const log = (await s.audit.listAuditLog({ limit: 4 })).reverse();
      expect(log.map((e) => [e.action, e.userId, e.detail])).toEqual([
        ['login_failed', tom.id, { login: 'tom', failures: 1 }],
        ['login_failed', tom.id, { station: 'desk 2', login: 'tom', failures: 2 }],
        ['login_failed', tom.id, { login: 'tom', failures: 3 }],
        ['account_locked_out', tom.id, { login: 'tom', until: '2026-01-01T08:15:00.000Z' }],
      ]);
      await s.users.clearFailedLogins(tom.id);
      expect(await s.users.getUser(tom.id)).toMatchObject({ failedLogins: 0, lockedOutUntil: null });
      await s.users.recordUnknownLogin('  mallory  ');
      expect((await s.audit.listAuditLog({ limit: 1 }))[0]).toMatchObject({
        actor: 'unknown',
        action: 'login_failed',
        userId: null,
        detail: { login: 'mallory', knownAccount: false },
      });
    });

    it('locks, unlocks and ends sessions with their audit rows; an ended session stays ended', async () => {
      const s = await stores.openReposFor(engine);
      const { person } = await withAdmin(s);
      const tom = await s.users.createUser(person('tom', 'Tom Tech', ['technician']));
      const session = await s.users.createSession({ userId: tom.id, tokenSha256: token(2), transport: 'http', at: '2026-01-01T08:00:00.000Z' });
      expect(session).toMatchObject({ userId: tom.id, transport: 'http', lockedAt: null, endedAt: null, lastActiveAt: '2026-01-01T08:00:00.000Z' });
      await s.users.recordFailedLogin(tom.id, { maxFailures: 5, lockUntil: 'x', action: 'unlock_failed' });
      await s.users.lockSession(session.id, '2026-01-01T08:15:00.000Z', 'idle');
      await s.users.lockSession(session.id, '2026-01-01T08:16:00.000Z', 'requested');
      expect(await s.users.findSessionByTokenHash(token(2))).toMatchObject({ lockedAt: '2026-01-01T08:15:00.000Z' });
      await s.users.unlockSession(session.id, '2026-01-01T08:20:00.000Z');
      expect(await s.users.findSessionByTokenHash(token(2))).toMatchObject({ lockedAt: null, lastActiveAt: '2026-01-01T08:20:00.000Z' });
      expect((await s.users.getUser(tom.id)).failedLogins).toBe(0);
      await s.users.endSession(session.id, 'logout', '2026-01-01T09:00:00.000Z');
      await s.users.endSession(session.id, 'replaced', '2026-01-01T09:01:00.000Z');
      expect(await s.users.findSessionByTokenHash(token(2))).toMatchObject({ endedAt: '2026-01-01T09:00:00.000Z', endReason: 'logout' });
      await expectRejection(s.users.unlockSession(session.id, '2026-01-01T09:05:00.000Z'), 'not_found');
      await expectRejection(s.users.unlockSession(4242, '2026-01-01T09:05:00.000Z'), 'not_found');
      const log = (await s.audit.listAuditLog({ limit: 5 })).reverse();
      expect(log.map((e) => [e.action, e.actor, e.detail])).toEqual([
        ['login', 'Tom Tech', { sessionId: session.id, transport: 'http' }],
        ['unlock_failed', 'Tom Tech', { login: 'tom', failures: 1 }],
        ['session_locked', 'Tom Tech', { sessionId: session.id, reason: 'idle' }],
        ['session_unlocked', 'Tom Tech', { sessionId: session.id }],
        ['logout', 'Tom Tech', { sessionId: session.id, reason: 'logout' }],
      ]);
      await expect(s.sql('DELETE FROM sessions')).rejects.toThrow(/\[immutable\] a session record is never deleted/);
    });

    it("changes a password keeping the session it was made in, resets one ending them all, and disables an account's sessions", async () => {
      const s = await stores.openReposFor(engine);
      const { by, person } = await withAdmin(s);
      const tom = await s.users.createUser(person('tom', 'Tom Tech', ['technician']));
      const at = '2026-01-01T08:00:00.000Z';
      const here = await s.users.createSession({ userId: tom.id, tokenSha256: token(3), transport: 'desktop', at });
      await s.users.createSession({ userId: tom.id, tokenSha256: token(4), transport: 'http', at });
      await s.users.recordFailedLogin(tom.id, { maxFailures: 5, lockUntil: 'x', action: 'login_failed' });
      const me = { id: tom.id, displayName: tom.displayName };
      const changed = await s.users.setPasswordHash(tom.id, `${HASH}2`, { mustChange: false, by: me, keepSessionId: here.id });
      expect(changed).toMatchObject({ passwordHash: `${HASH}2`, mustChangePassword: false, failedLogins: 0 });
      expect((await s.users.findSessionByTokenHash(token(3)))?.endedAt).toBeNull();
      expect(await s.users.findSessionByTokenHash(token(4))).toMatchObject({ endReason: 'password_changed' });
      expect((await s.users.setPasswordHash(tom.id, `${HASH}3`, { mustChange: true, by })).mustChangePassword).toBe(true);
      expect(await s.users.findSessionByTokenHash(token(3))).toMatchObject({ endReason: 'password_reset' });

      const again = await s.users.createSession({ userId: tom.id, tokenSha256: token(5), transport: 'cli', at });
      expect(await s.users.setUserActive(tom.id, false, by)).toMatchObject({ active: false });
      expect(await s.users.setUserActive(tom.id, false, by)).toMatchObject({ active: false });
      expect(await s.users.findSessionByTokenHash(token(5))).toMatchObject({ id: again.id, endReason: 'disabled' });
      expect((await s.users.setUserActive(tom.id, true, by)).active).toBe(true);
      expect((await s.users.setUserRoles(tom.id, ['technician', 'pathologist', 'technician'], by)).roles).toEqual(['technician', 'pathologist']);
      const log = (await s.audit.listAuditLog({ limit: 6 })).reverse();
      expect(log.map((e) => [e.action, e.actor, e.detail])).toEqual([
        ['password_changed', 'Tom Tech', { userId: tom.id, login: 'tom' }],
        ['password_reset', 'Ada Admin', { userId: tom.id, login: 'tom' }],
        ['login', 'Tom Tech', { sessionId: again.id, transport: 'cli' }],
        ['user_disabled', 'Ada Admin', { userId: tom.id, login: 'tom' }],
        ['user_enabled', 'Ada Admin', { userId: tom.id, login: 'tom' }],
        ['user_roles_changed', 'Ada Admin', { userId: tom.id, login: 'tom', from: ['technician'], to: ['technician', 'pathologist'] }],
      ]);
      await expect(s.sql('DELETE FROM users')).rejects.toThrow(/\[immutable\] an account is never deleted/);
    });

    it('reads the default security settings until saved, audits each save, and records refusals', async () => {
      const s = await stores.openReposFor(engine);
      const { admin, by } = await withAdmin(s);
      expect(await s.users.getSecuritySettings()).toEqual({ idleLockMinutes: 15, pathologistMaySignAlone: false });
      expect(await s.users.saveSecuritySettings({ idleLockMinutes: 5, pathologistMaySignAlone: true }, by)).toEqual({
        idleLockMinutes: 5,
        pathologistMaySignAlone: true,
      });
      expect(await s.users.getSecuritySettings()).toEqual({ idleLockMinutes: 5, pathologistMaySignAlone: true });
      await expectRejection(s.users.saveSecuritySettings({ idleLockMinutes: 0, pathologistMaySignAlone: true }, by), 'constraint');
      await s.users.recordRefusal({ action: 'access_refused', by, caseId: null, detail: { method: 'deleteEverything' } });
      const log = (await s.audit.listAuditLog({ limit: 2 })).reverse();
      expect(log.map((e) => [e.action, e.actor, e.userId, e.detail])).toEqual([
        [
          'security_settings_changed',
          'Ada Admin',
          admin.id,
          { from: { idleLockMinutes: 15, pathologistMaySignAlone: false }, to: { idleLockMinutes: 5, pathologistMaySignAlone: true } },
        ],
        ['access_refused', 'Ada Admin', admin.id, { method: 'deleteEverything' }],
      ]);
    });

    it("stores a signature with the session's person, refuses one without a person or with a role not held, and never changes it", async () => {
      const s = await stores.openReposFor(engine);
      const { person } = await withAdmin(s);
      const tom = await s.users.createUser(person('tom', 'Tom Tech', ['technician']));
      const caseId = await aCase(s);
      const input = { caseId, role: 'technician' as const, meaning: 'technical_validation' as const, contentSha256: token(9), at: '2026-01-02T10:00:00.000Z' };
      const refused = await expectRejection(s.signatures.insertSignature(input), 'constraint');
      expect(refused.message).toContain('logged-in person');
      const tomAsUser = { id: tom.id, displayName: tom.displayName, roles: tom.roles };
      const signed = await runAsUser(tomAsUser, () => s.signatures.insertSignature({ ...input, detail: { step: 'submit' } }));
      expect(signed).toEqual({
        id: signed.id,
        caseId,
        userId: tom.id,
        printedName: 'Tom Tech',
        role: 'technician',
        meaning: 'technical_validation',
        signedAt: '2026-01-02T10:00:00.000Z',
        contentSha256: token(9),
      });
      await expectRejection(
        runAsUser(tomAsUser, () => s.signatures.insertSignature({ ...input, role: 'pathologist', meaning: 'medical_authorisation' })),
        'constraint',
      );
      expect(await s.signatures.listSignatures(caseId)).toEqual([signed]);
      expect((await s.audit.caseAuditLog(caseId)).map((e) => [e.action, e.actor, e.userId, e.detail])).toEqual([
        [
          'signature_made',
          'Tom Tech',
          tom.id,
          { step: 'submit', signatureId: signed.id, meaning: 'technical_validation', role: 'technician', contentSha256: token(9) },
        ],
      ]);
      await expect(s.sql('UPDATE signatures SET printed_name = ?', ['Someone Else'])).rejects.toThrow(/\[immutable\] a signature is never changed/);
    });
  });
});

describe.skipIf(stores.unavailable !== null)('accounts on PostgreSQL with several stations', () => {
  it('counts failed logins from two stations at once as two failures, and creates one of three same logins, refusing the others by name', async () => {
    const s = await stores.openReposFor('postgres');
    const { person } = await withAdmin(s);
    const tom = await s.users.createUser(person('tom', 'Tom Tech', ['technician']));
    const options = { maxFailures: 50, lockUntil: 'x', action: 'login_failed' as const };
    await Promise.all(Array.from({ length: 8 }, () => s.users.recordFailedLogin(tom.id, options)));
    expect((await s.users.getUser(tom.id)).failedLogins).toBe(8);
    // Several rounds of three stations creating one login in different cases at once: one account each time, and
    // the others refused by name (never a deadlock or a raw unique-index error).
    for (const login of ['ann', 'bob', 'cyd', 'dee', 'eve']) {
      const outcomes = await Promise.allSettled(
        [login, login.toUpperCase(), `${login[0]!.toUpperCase()}${login.slice(1)}`].map((l, i) =>
          s.users.createUser(person(l, `${login} ${i}`, ['technician'])),
        ),
      );
      expect(
        outcomes.filter((o) => o.status === 'fulfilled'),
        login,
      ).toHaveLength(1);
      for (const refused of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
        expect(refused.reason, login).toMatchObject({ kind: 'duplicate' });
        expect(String((refused.reason as Error).message)).toMatch(new RegExp(`^An account with the login "${login}" already exists`, 'i'));
      }
    }
  });
});
