// Every API method, called with no session, with an expired (idle-locked) session, and as each role, against the
// very role table the service enforces (src/shared/roles.ts): a refusal exactly where the table forbids, and never
// a refusal for access where it allows (the call may still fail for its own reasons: a missing case, bad state).
// Calls go through dispatch, the path IPC and the HTTP host take. The same tests on a SQLite file and on a PostgreSQL
// database: every method that the table lets through reaches the engine's repositories.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type ApiResult, type MarrowApi, type MarrowApiMethod } from '../../../src/shared/api';
import { DEFAULT_REVIEW_LAYOUT } from '../../../src/shared/review-layout';
import { METHOD_ACCESS, ROLES, type Role } from '../../../src/shared/roles';
import { dispatch } from '../../../src/main/boundary/dispatch';
import type { SessionHolder } from '../../../src/main/service/types';
import { analysedFixtureCase, ENGINES, startService, TEST_ADMIN, usePostgres, type ServiceFixture } from './helpers';

const pgSetup = usePostgres();

/** Valid arguments for each method (the table is checked before anything else, so they need only pass validation). */
function argsFor(method: MarrowApiMethod, ids: { caseId: number; imageId: number; userId: number }): unknown[] {
  const { caseId, imageId, userId } = ids;
  const table: Record<MarrowApiMethod, unknown[]> = {
    getSession: [],
    createFirstAdmin: [{ login: 'another-admin', displayName: 'Another Admin', password: 'another-password-1' }],
    login: [{ login: 'nobody', password: 'wrong-password-1' }],
    logout: [],
    lockSession: [],
    unlockSession: [{ password: 'wrong-password-1' }],
    changePassword: [{ currentPassword: 'wrong-password-1', newPassword: 'new-password-12' }],
    listUsers: [],
    createUser: [{ login: `u${Math.random().toString(36).slice(2, 8)}`, displayName: 'Someone New', roles: ['technician'], password: 'someone-password-1' }],
    setUserActive: [{ userId, active: true }],
    setUserRoles: [{ userId, roles: ['technician'] }],
    resetUserPassword: [{ userId, newPassword: 'temporary-pass-1' }],
    getSecuritySettings: [],
    saveSecuritySettings: [{ idleLockMinutes: 15, pathologistMaySignAlone: false }],
    listCases: [{}],
    createCase: [
      {
        patient: { labId: 'ACL' },
        accession: `ACL-${Math.random().toString(36).slice(2, 8)}`,
        specimen: 'bone_marrow_aspirate',
        folder: '/nonexistent-folder',
      },
    ],
    getCase: [caseId],
    startAnalysis: [999_999],
    cancelAnalysis: [999_999],
    getAnalysisProgress: [caseId],
    getDifferential: [caseId],
    listCells: [{ caseId, scope: 'all', limit: 1 }],
    reviewCell: [{ caseId: 999_999, imageId, label: 'BLA' }],
    confirmCells: [{ caseId: 999_999, imageIds: [imageId] }],
    undoReview: [{ caseId: 999_999, imageId }],
    submitCase: [{ caseId: 999_999, password: 'wrong-password-1' }],
    authoriseCase: [{ caseId: 999_999, password: 'wrong-password-1' }],
    amendCase: [{ caseId: 999_999, reason: 'access test' }],
    excludeRemainingFiles: [{ caseId: 999_999, reason: 'access test' }],
    saveReport: [{ caseId: 999_999 }],
    exportCase: [{ caseId: 999_999, format: 'json' }],
    getSettings: [],
    saveSettings: [{ labName: 'Access Lab' }],
    getAbout: [],
    getLisSettings: [],
    saveLisSettings: [
      {
        enabled: false,
        sendingApplication: '',
        sendingFacility: '',
        receivingApplication: '',
        receivingFacility: '',
        patientIdAuthority: '',
        patientIdSystem: '',
        outboxFolder: '',
        mllpHost: '',
        mllpPort: null,
        codeMapping: [],
      },
    ],
    getLisStatus: [caseId],
    resendToLis: [999_999],
    trainLabModel: [{ minimumPerClass: 100000 }],
    cancelLabModelTraining: [],
    getLabModelTrainingProgress: [],
    listLabModels: [],
    getLabModel: [999_999],
    approveLabModel: [{ labModelId: 999_999, reason: 'access test' }],
    retireLabModel: [{ labModelId: 999_999, reason: 'access test' }],
    analyseWithLabModel: [{ caseId: 999_999, labModelId: 999_999 }],
    exportLabModel: [{ labModelId: 999_999 }],
    importLabModel: [{ path: '/nonexistent/package.json' }],
    saveLabModelCard: [{ labModelId: 999_999 }],
    getPatientHistory: [{ patientLabId: 'MRN-access' }],
    getCaseHistory: [caseId],
    correctPatientName: [{ caseId: 999_999, name: 'Corrected, Name', reason: 'access test' }],
    getReviewLayout: [],
    saveReviewLayout: [DEFAULT_REVIEW_LAYOUT],
    getLabTrainingMaterial: [{}],
  };
  return table[method];
}

describe.each(ENGINES)('the role table, enforced on every method on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  let now = Date.now();
  const ids = { caseId: 0, imageId: 0, userId: 0 };
  /** One logged-in API per role: a person holding exactly that role. */
  const byRole = new Map<Role, { api: MarrowApi; holder: SessionHolder }>();

  beforeAll(async () => {
    // The service's clock is the test's, so that a session can be made to expire without waiting.
    fx = await startService('access-table', { extras: { now: () => new Date(now) }, engine, pg: pgSetup });
    const { detail, cells } = await analysedFixtureCase(fx, 'access');
    ids.caseId = detail.id;
    ids.imageId = cells[0]!.imageId;
    const admin = fx.host.forSession({ transport: 'cli', token: null });
    await admin.login({ login: TEST_ADMIN.login, password: TEST_ADMIN.password });
    // The account the administrator methods act on: not one of the sessions below, which a reset would end.
    ids.userId = (await admin.createUser({ login: 'target', displayName: 'Target Person', roles: ['technician'], password: 'target-password-1' })).id;
    for (const role of ROLES) {
      const login = `only-${role}`;
      await admin.createUser({ login, displayName: `Only ${role}`, roles: [role], password: `${role}-password-1` });
      const holder: SessionHolder = { transport: 'cli', token: null };
      const api = fx.host.forSession(holder);
      await api.login({ login, password: `${role}-password-1` });
      byRole.set(role, { api, holder });
    }
  }, 120_000);
  afterAll(async () => {
    await fx.dispose();
  });

  const call = (api: MarrowApi, method: MarrowApiMethod): Promise<ApiResult<unknown>> => dispatch(api, method, argsFor(method, ids));

  it('covers every method of the contract (the Record type makes a missing one a compile error)', () => {
    expect(Object.keys(METHOD_ACCESS).sort()).toEqual([...API_METHODS].sort());
  });

  it('refuses every method that needs a session when there is none, naming what to do', async () => {
    const anonymous = fx.host.forSession({ transport: 'cli', token: null });
    for (const method of API_METHODS) {
      const result = await call(anonymous, method);
      if (METHOD_ACCESS[method] === 'no_session') {
        // Reached without a session (a wrong login is refused by the login itself, not by the table).
        if (!result.ok) expect(result.error.message, method).not.toContain('Log in first');
        continue;
      }
      expect(result, method).toMatchObject({ ok: false, error: { kind: 'unauthenticated', message: expect.stringContaining('Log in first') } });
    }
  });

  it('allows and refuses each role exactly as the table says', async () => {
    const mismatches: string[] = [];
    for (const role of ROLES) {
      const { api } = byRole.get(role)!;
      for (const method of API_METHODS) {
        // These end or change the role's own session; their own tests are in accounts.test.ts.
        if (method === 'logout' || method === 'lockSession' || method === 'login' || method === 'createFirstAdmin') continue;
        const access = METHOD_ACCESS[method];
        const allowed = access === 'no_session' || access === 'any_user' || access.includes(role);
        const result = await call(api, method);
        const refusedForAccess = !result.ok && result.error.kind === 'forbidden' && /needs /.test(result.error.message);
        if (allowed && refusedForAccess) mismatches.push(`${role} ${method}: refused although allowed (${!result.ok ? result.error.message : ''})`);
        if (!allowed && !refusedForAccess)
          mismatches.push(`${role} ${method}: ${result.ok ? 'ran' : `${result.error.kind}: ${result.error.message}`} although the table forbids it`);
        if (
          !result.ok &&
          (result.error.kind === 'unauthenticated' || result.error.kind === 'session_locked') &&
          method !== 'unlockSession' &&
          method !== 'changePassword'
        ) {
          mismatches.push(`${role} ${method}: lost the session (${result.error.message})`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('says which role a refused method needs and who is logged in', async () => {
    const result = await call(byRole.get('technician')!.api, 'authoriseCase');
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'forbidden', message: 'Authorise case needs a pathologist; Only technician is logged in as technician.' },
    });
  });

  it('refuses every method that needs a session once the session has been idle past the lab’s time (expired)', async () => {
    const { api } = byRole.get('admin')!;
    now += 15 * 60_000 + 1000;
    for (const method of API_METHODS) {
      if (METHOD_ACCESS[method] === 'no_session') continue;
      const result = await call(api, method);
      expect(result, method).toMatchObject({ ok: false, error: { kind: 'session_locked' } });
    }
    expect((await api.getSession()).state).toBe('locked');
  });
});
