// Live updates: a station sees another station's decisions and status changes within 2 s, by server-sent events
// that name the case and who changed it (no patient data); re-reading the case then shows the change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForAnalysis } from '../service/helpers';
import { PEOPLE, startTestServer, type ServerFixture } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(find: () => T | undefined, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined || Date.now() > until) return found;
    await sleep(10);
  }
}

describe('live updates between stations', () => {
  let fx: ServerFixture;

  beforeAll(async () => {
    fx = await startTestServer('live');
  }, 60_000);
  afterAll(async () => fx?.dispose());

  it("shows the technician's decisions and the release to the pathologist's station within 2 s, and back", async () => {
    const tech = await fx.station('tech1');
    const pathologist = await fx.station('path1');
    const created = await tech.api.createCase({
      patient: { labId: 'P-LIVE' },
      accession: 'LIVE-1',
      specimen: 'bone_marrow_aspirate',
      folder: fx.caseFolder('live'),
    });
    await tech.api.startAnalysis(created.id);
    await waitForAnalysis(tech.api, created.id);
    const cell = (await tech.api.listCells({ caseId: created.id, scope: 'all', limit: 1 })).cells[0]!;

    const atPathologist = await pathologist.subscribe();
    const atTechnician = await tech.subscribe();
    try {
      const label = cell.predicted === 'BLA' ? 'LYT' : 'BLA';
      const sent = Date.now();
      await tech.api.reviewCell({ caseId: created.id, imageId: cell.imageId, label });
      const seen = await waitFor(() => atPathologist.received.find((e) => e.type === 'case' && (e.data as { method: string }).method === 'reviewCell'), 2000);
      expect(seen, 'the decision reached the other station').toBeDefined();
      expect(seen!.at - sent).toBeLessThan(2000);
      expect(seen!.data).toMatchObject({ caseId: created.id, method: 'reviewCell', by: PEOPLE.tech1.displayName });
      expect(JSON.stringify(seen!.data)).not.toMatch(/P-LIVE|LIVE-1/);
      const cells = await pathologist.api.listCells({ caseId: created.id, scope: 'all', limit: 100 });
      expect(cells.cells.find((c) => c.imageId === cell.imageId)).toMatchObject({ effectiveLabel: label, decision: { reviewer: PEOPLE.tech1.displayName } });

      await tech.api.submitCase({ caseId: created.id, password: PEOPLE.tech1.password, overrideReason: 'live-update test: flagged cells left on purpose' });
      await pathologist.api.authoriseCase({ caseId: created.id, password: PEOPLE.path1.password, overrideReason: 'live-update test' });
      const released = await waitFor(() => atTechnician.received.find((e) => (e.data as { method: string }).method === 'authoriseCase'), 2000);
      expect(released?.data).toMatchObject({ caseId: created.id, by: PEOPLE.path1.displayName });
      expect((await tech.api.getCase(created.id)).status).toBe('signed');
    } finally {
      atPathologist.close();
      atTechnician.close();
    }
  }, 60_000);
});
