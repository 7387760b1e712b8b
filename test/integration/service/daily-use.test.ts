// Issue 24 (daily use) at the service: what the screens rely on, with the real service on a real SQLite file and the
// tiny real ONNX model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/main/ipc/dispatch';
import { analysedFixtureCase, startService, type ServiceFixture } from './helpers';

describe('daily use at the service', () => {
  let fx: ServiceFixture;

  beforeAll(() => {
    fx = startService('daily-use');
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('undoes, with no cell named, the reviewer’s own latest decision still in force, walking back one at a time', async () => {
    const { detail, cells } = await analysedFixtureCase(fx, 'undo-own');
    const [a, b, c] = [cells[0]!, cells[1]!, cells[2]!];
    await fx.service.reviewCell({ caseId: detail.id, imageId: a.imageId, label: 'ART', reviewer: 'Alex' });
    await fx.service.reviewCell({ caseId: detail.id, imageId: b.imageId, label: 'ART', reviewer: 'Alex' });
    await fx.service.reviewCell({ caseId: detail.id, imageId: c.imageId, label: 'ART', reviewer: 'Sam' });

    const first = await fx.service.undoReview({ caseId: detail.id, reviewer: 'Alex' });
    expect(first.imageId).toBe(b.imageId);
    expect(first.decision).toBeNull();
    const second = await fx.service.undoReview({ caseId: detail.id, reviewer: 'Alex' });
    expect(second.imageId).toBe(a.imageId);
    // Sam's decision is not Alex's to undo: nothing of Alex's is left, and Sam's stays.
    const refused = await dispatch(fx.service, 'undoReview', [{ caseId: detail.id, reviewer: 'Alex' }]);
    expect(refused).toMatchObject({ ok: false, error: { kind: 'not_found', field: 'imageId' } });
    expect((await fx.service.listCells({ caseId: detail.id, scope: 'all', limit: 100 })).cells.find((cell) => cell.imageId === c.imageId)?.decision?.reviewer).toBe('Sam');
  });
});
