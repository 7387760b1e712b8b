// Every action the API offers on a case, tried in every status: the API refuses exactly where the lifecycle table
// (src/shared/case-lifecycle.ts) refuses, with its sentence, and lets the rest through. Statuses the API cannot
// reach on the fixture alone (a stopped run, a submission) are set by a second connection along allowed
// transitions, as another station would leave them. The same tests on a SQLite file and on a PostgreSQL database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE_STATUSES, canDo, type CaseAction, type CaseStatus } from '../../../src/shared/case-lifecycle';
import { toApiError } from '../../../src/main/service/errors';
import { analysedFixtureCase, ENGINES, startService, usePostgres, waitForAnalysis, type ServiceFixture, PERSON_PASSWORD } from './helpers';

let fx: ServiceFixture;
let n = 0;
const pgSetup = usePostgres();

/** A case of the fixture crops in `status`, and one of its cells. */
async function caseIn(status: CaseStatus): Promise<{ caseId: number; imageId: number }> {
  const name = `LC${++n}`;
  if (status === 'importing') {
    const created = await fx.service.createCase({
      patient: { labId: `MRN-${name}` },
      accession: `ACC-${name}`,
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder(name),
    });
    return { caseId: created.id, imageId: 0 };
  }
  const { detail, cells } = await analysedFixtureCase(fx, name);
  const caseId = detail.id;
  const set = (to: CaseStatus) => fx.sql('UPDATE cases SET status = ? WHERE id = ?', [to, caseId]);
  if (status === 'analysing') await set('analysing');
  if (status === 'cancelled') {
    await set('analysing');
    await set('cancelled');
  }
  if (status === 'submitted') await set('submitted');
  if (status === 'signed') await (await fx.as('Dr A')).authoriseCase({ caseId, password: PERSON_PASSWORD, overrideReason: 'lifecycle test' });
  return { caseId, imageId: cells[0]!.imageId };
}

type Attempt = (c: { caseId: number; imageId: number }) => Promise<unknown>;

/** The API call behind each action that the API offers; the rest (submit, ...) belong to other methods. */
const ATTEMPTS: Partial<Record<CaseAction, Attempt>> = {
  analyse: async ({ caseId }) => {
    await fx.service.startAnalysis(caseId);
    await waitForAnalysis(fx.service, caseId);
  },
  review: async ({ caseId, imageId }) => (await fx.as('Tech A')).reviewCell({ caseId, imageId, label: 'BLA' }),
  authorise: async ({ caseId }) => (await fx.as('Dr A')).authoriseCase({ caseId, password: PERSON_PASSWORD, overrideReason: 'lifecycle test' }),
  amend: async ({ caseId }) => (await fx.as('Dr A')).amendCase({ caseId, reason: 'lifecycle test' }),
  report: ({ caseId }) => fx.service.saveReport({ caseId }),
  export: ({ caseId }) => fx.service.exportCase({ caseId, format: 'json' }),
};

/** Actions that change the case's status when allowed: each gets a case of its own. */
const CHANGES_STATUS: ReadonlySet<CaseAction> = new Set(['analyse', 'authorise', 'amend']);

describe.each(ENGINES)('case lifecycle through the API on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  beforeAll(async () => {
    fx = await startService('lifecycle-api', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });
  for (const status of CASE_STATUSES) {
    it(`in status ${status}, allows and refuses each action as canDo says, with its sentence`, async () => {
      const shared = await caseIn(status);
      const accession = (await fx.service.getCase(shared.caseId)).accession;
      for (const [action, attempt] of Object.entries(ATTEMPTS) as [CaseAction, Attempt][]) {
        const expected = canDo(action, { status, accession });
        const target = expected.allowed && CHANGES_STATUS.has(action) ? await caseIn(status) : shared;
        const outcome = await attempt(target).then(
          () => null,
          (e: unknown) => toApiError(e),
        );
        if (expected.allowed) {
          expect(outcome, `${action} in ${status}`).toBeNull();
        } else {
          expect(outcome?.message, `${action} in ${status}`).toBe(expected.why);
          expect(outcome?.kind, `${action} in ${status}`).toBe(status === 'signed' ? 'locked' : 'conflict');
        }
      }
      // Refusals, reviews, reports and exports leave the status as it was.
      expect((await fx.service.getCase(shared.caseId)).status).toBe(status);
    }, 60_000);
  }
});
