// Review decisions, undo, effective labels, review progress and the cell list on both engines, through the contract
// (ReviewRepository, CellRepository): the same calls give the same rows, counts, pages and refusals on SQLite and on
// PostgreSQL (postgres/reviews.ts, postgres/cells.ts, with effective.ts's SQL on both).
import { describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import { runAsUser, topClasses, type CellListQuery } from '../../../src/main/db';
import { ENGINES } from './engines';
import { prediction } from './helpers';
import { addModel, caseInReview, expectRejection, storesForEngines, type EngineRepositories } from './store-for-engine';

const stores = storesForEngines();

// Six cells; flagged = confidence below 0.6.
//   #0 BLA 0.95   #1 BLA 0.50 (flagged)   #2 LYT 0.90   #3 LYT 0.30 (flagged)   #4 NGS 0.55 (flagged)   #5 EBO 0.99
const CELLS: { predicted: CellClassCode; confidence: number }[] = [
  { predicted: 'BLA', confidence: 0.95 },
  { predicted: 'BLA', confidence: 0.5 },
  { predicted: 'LYT', confidence: 0.9 },
  { predicted: 'LYT', confidence: 0.3 },
  { predicted: 'NGS', confidence: 0.55 },
  { predicted: 'EBO', confidence: 0.99 },
];

async function ids(s: EngineRepositories, query: CellListQuery): Promise<number[]> {
  return (await s.cells!.listCells(query)).rows.map((r) => r.imageId);
}

describe.each(ENGINES)('reviews and cells on %s', (engine) => {
  async function setup() {
    const s = await stores.openReposFor(engine);
    const seeded = await caseInReview(s, CELLS);
    return { s, reviews: s.reviews!, cells: s.cells!, ...seeded };
  }

  describe.skipIf(engine === 'postgres' && stores.unavailable !== null)('through the contract', () => {
    describe('effective labels', () => {
      it('counts the model prediction of every cell when nobody reviewed', async () => {
        const { cells, caseId } = await setup();
        expect(await cells.effectiveCountsByClass(caseId)).toEqual({ BLA: 2, LYT: 2, NGS: 1, EBO: 1 });
      });

      it('counts a reclassified cell under the human label and a confirmed one unchanged', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' }); // BLA → LYT
        await reviews.addReview({ caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' }); // confirmed
        expect(await cells.effectiveCountsByClass(caseId)).toEqual({ BLA: 1, LYT: 3, NGS: 1, EBO: 1 });
        expect(await cells.getCell(caseId, imageIds[1]!)).toMatchObject({
          predicted: 'BLA',
          effectiveLabel: 'LYT',
          decision: { label: 'LYT', reviewer: 'tech' },
        });
      });

      it('uses the latest decision when a cell was reviewed twice', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[3]!, label: 'BLA', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[3]!, label: 'PLM', reviewer: 'dr.a', note: 'plasma cell, eccentric nucleus' });
        expect(await cells.effectiveCountsByClass(caseId)).toEqual({ BLA: 2, LYT: 1, NGS: 1, EBO: 1, PLM: 1 });
        expect((await cells.getCell(caseId, imageIds[3]!)).decision).toMatchObject({ label: 'PLM', reviewer: 'dr.a', note: 'plasma cell, eccentric nucleus' });
      });

      it('undo appends a retraction and falls back to the previous decision, then to the prediction', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        const cell = imageIds[3]!;
        const first = await reviews.addReview({ caseId, imageId: cell, label: 'BLA', reviewer: 'tech' });
        const second = await reviews.addReview({ caseId, imageId: cell, label: 'PLM', reviewer: 'tech' });
        const undo1 = await reviews.retractLatestReview({ caseId, imageId: cell, reviewer: 'tech' });
        expect(undo1).toMatchObject({ kind: 'retraction', retractsReviewId: second.id, label: null });
        expect((await cells.getCell(caseId, cell)).effectiveLabel).toBe('BLA');
        const undo2 = await reviews.retractLatestReview({ caseId, imageId: cell, reviewer: 'tech' });
        expect(undo2.retractsReviewId).toBe(first.id);
        expect(await cells.getCell(caseId, cell)).toMatchObject({ effectiveLabel: 'LYT', decision: null });
        expect(await cells.effectiveCountsByClass(caseId)).toEqual({ BLA: 2, LYT: 2, NGS: 1, EBO: 1 });
        await expectRejection(reviews.retractLatestReview({ caseId, imageId: cell, reviewer: 'tech' }), 'not_found');
        // Nothing was deleted: two decisions and two retractions remain.
        expect((await reviews.listReviews(caseId, cell)).map((r) => r.kind)).toEqual(['decision', 'decision', 'retraction', 'retraction']);
      });

      it('rejects an unknown class code in a review, naming it, in TypeScript and in SQL', async () => {
        const { s, reviews, caseId, imageIds } = await setup();
        const error = await expectRejection(
          reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'XYZ' as CellClassCode, reviewer: 'tech' }),
          'unknown_class',
        );
        expect(error.message).toContain('"XYZ"');
        await expect(
          s.sql(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES (?, ?, 'decision', 'QQQ', 'x', 't')`, [caseId, imageIds[0]]),
        ).rejects.toThrow(/unknown cell class code "QQQ"/);
      });

      it('stores a batch of confirmations in one transaction, all or none', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        await expectRejection(
          reviews.addReviews([
            { caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'tech' },
            { caseId, imageId: 987654, label: 'BLA', reviewer: 'tech' },
          ]),
          'not_found',
        );
        expect(await reviews.listReviews(caseId)).toEqual([]);
        await reviews.addReviews([
          { caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'tech' },
          { caseId, imageId: imageIds[3]!, label: 'LYT', reviewer: 'tech' },
        ]);
        expect(await cells.reviewProgress(caseId)).toEqual({ flagged: 3, flaggedReviewed: 2, reviewed: 2, reclassified: 0 });
      });

      it('refuses a review of an image of another case', async () => {
        const { s, reviews, caseId } = await setup();
        const other = await caseInReview(s, [{ predicted: 'BLA', confidence: 0.9 }], 'BM-OTHER');
        const error = await expectRejection(reviews.addReview({ caseId, imageId: other.imageIds[0]!, label: 'BLA', reviewer: 'tech' }), 'constraint');
        expect(error.message).toContain(`image ${other.imageIds[0]} is not a cell of case ${caseId}`);
      });

      it("refuses a decision on a version that changed, naming who changed the cell to what, and keeps the current one's", async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        const cell = imageIds[1]!;
        expect((await cells.getCell(caseId, cell)).version).toBe(0);
        const first = await reviews.addReview({ caseId, imageId: cell, label: 'LYT', reviewer: 'Ana', seenVersion: 0 });
        expect((await cells.getCell(caseId, cell)).version).toBe(first.id);
        const stale = await expectRejection(reviews.addReview({ caseId, imageId: cell, label: 'MON', reviewer: 'Bo', seenVersion: 0 }), 'stale');
        expect(stale.message).toMatch(/^cell-0001\.jpg was changed by Ana at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to LYT — look again\.$/);
        await expectRejection(reviews.retractLatestReview({ caseId, imageId: cell, reviewer: 'Bo', seenVersion: 0 }), 'stale');
        await expectRejection(
          reviews.addReviews([
            { caseId, imageId: imageIds[0]!, label: 'BLA', reviewer: 'Bo', seenVersion: 0 },
            { caseId, imageId: cell, label: 'BLA', reviewer: 'Bo', seenVersion: 0 },
          ]),
          'stale',
        );
        const undo = await reviews.retractLatestReview({ caseId, imageId: cell, reviewer: 'Bo', seenVersion: first.id });
        const afterUndo = await expectRejection(reviews.addReview({ caseId, imageId: cell, label: 'MON', reviewer: 'Ana', seenVersion: first.id }), 'stale');
        expect(afterUndo.message).toContain('was changed by Bo at ');
        expect(afterUndo.message).toContain("to the model's label (an undo) — look again");
        await expectRejection(reviews.addReview({ caseId, imageId: imageIds[2]!, label: 'MON', reviewer: 'Ana', seenVersion: 7 }), 'stale');
        expect((await reviews.listReviews(caseId)).map((r) => r.id)).toEqual([first.id, undo.id]);
        expect((await reviews.addReview({ caseId, imageId: cell, label: 'MON', reviewer: 'Ana', seenVersion: undo.id })).label).toBe('MON');
      });

      it("records the session's person with each decision and undo; once accounts exist, one without a person is refused", async () => {
        const { s, reviews, cells, caseId, imageIds } = await setup();
        const before = await reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'tech' });
        expect(before.userId).toBeNull();
        const admin = await s.users.createUser({
          login: 'ana',
          displayName: 'Ana Admin',
          roles: ['admin', 'technician'],
          passwordHash: 'scrypt$x',
          mustChangePassword: false,
          createdBy: null,
        });
        const ana = { id: admin.id, displayName: admin.displayName, roles: admin.roles };
        const refused = await expectRejection(reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'Ana Admin' }), 'constraint');
        expect(refused.message).toContain('logged-in user');
        const decided = await runAsUser(ana, () => reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'Ana Admin' }));
        expect(decided.userId).toBe(admin.id);
        expect((await cells.getCell(caseId, imageIds[1]!)).decision).toMatchObject({ reviewer: 'Ana Admin', userId: admin.id });
        const undo = await runAsUser(ana, () => reviews.retractLatestReview({ caseId, imageId: imageIds[1]!, reviewer: 'Ana Admin' }));
        expect(undo.userId).toBe(admin.id);
        expect((await s.audit.caseAuditLog(caseId)).slice(-2).map((e) => [e.action, e.userId])).toEqual([
          ['review_added', admin.id],
          ['review_retracted', admin.id],
        ]);
      });

      it("finds the cell of a person's latest decision still in force", async () => {
        const { reviews, caseId, imageIds } = await setup();
        expect(await reviews.latestDecisionInForceBy(caseId, 'tech')).toBeNull();
        await reviews.addReview({ caseId, imageId: imageIds[2]!, label: 'LYT', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'BLA', reviewer: 'dr.a' });
        expect(await reviews.latestDecisionInForceBy(caseId, ' tech ')).toBe(imageIds[4]);
        await reviews.retractLatestReview({ caseId, imageId: imageIds[4]!, reviewer: 'tech' });
        expect(await reviews.latestDecisionInForceBy(caseId, 'tech')).toBe(imageIds[2]);
      });
    });

    describe('review progress', () => {
      it('counts flagged, flagged reviewed, reviewed and reclassified cells', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        expect(await cells.reviewProgress(caseId)).toEqual({ flagged: 3, flaggedReviewed: 0, reviewed: 0, reclassified: 0 });
        await reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'MYB', reviewer: 'tech' }); // flagged, reclassified
        await reviews.addReview({ caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' }); // flagged, confirmed
        await reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'tech' }); // not flagged, reclassified
        expect(await cells.reviewProgress(caseId)).toEqual({ flagged: 3, flaggedReviewed: 2, reviewed: 3, reclassified: 2 });
        await reviews.retractLatestReview({ caseId, imageId: imageIds[1]!, reviewer: 'tech' });
        expect(await cells.reviewProgress(caseId)).toEqual({ flagged: 3, flaggedReviewed: 1, reviewed: 2, reclassified: 1 });
      });

      it('counts per predicted class the cells no decision covers, and lists the flag reasons with whether each is reviewed', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[5]!, label: 'EBO', reviewer: 'tech' });
        expect(await cells.unreviewedCountsByPredictedClass(caseId)).toEqual({ BLA: 1, LYT: 2, NGS: 1 });
        const reasons = await cells.flaggedCellReasons(caseId);
        expect(reasons.map((r) => r.reviewed).sort()).toEqual([false, false, true]);
        expect(reasons.map((r) => r.reasons[0]!.kind)).toEqual(['low_confidence', 'low_confidence', 'low_confidence']);
      });
    });

    describe('listing cells', () => {
      it('lists flagged cells most uncertain first', async () => {
        const { cells, caseId, imageIds } = await setup();
        const page = await cells.listCells({ caseId, scope: 'flagged', offset: 0, limit: 10 });
        expect(page.total).toBe(3);
        expect(page.rows.map((r) => r.imageId)).toEqual([imageIds[3], imageIds[1], imageIds[4]]);
        expect(page.rows[0]).toMatchObject({
          relativePath: 'cell-0003.jpg',
          predicted: 'LYT',
          confidence: 0.3,
          flagged: true,
          flagReasons: [{ kind: 'low_confidence', detail: '0.30 < 0.60' }],
          classes: ['BLA', 'LYT', 'NGS', 'EBO'],
          decision: null,
          effectiveLabel: 'LYT',
        });
        expect(page.rows[0]!.probabilities).toHaveLength(4);
      });

      it('pages through all cells in confidence order with a stable total', async () => {
        const { cells, caseId, imageIds } = await setup();
        const byConfidence = [3, 1, 4, 2, 0, 5].map((i) => imageIds[i]);
        const first = await cells.listCells({ caseId, scope: 'all', offset: 0, limit: 4 });
        const second = await cells.listCells({ caseId, scope: 'all', offset: 4, limit: 4 });
        expect(first.total).toBe(6);
        expect(second.total).toBe(6);
        expect([...first.rows, ...second.rows].map((r) => r.imageId)).toEqual(byConfidence);
      });

      it('leaves decided cells out of the unreviewed scope but keeps them in flagged', async () => {
        const { s, reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'tech' });
        expect(await cells.listCells({ caseId, scope: 'unreviewed' })).toMatchObject({ total: 2 });
        expect(await ids(s, { caseId, scope: 'unreviewed' })).toEqual([imageIds[3], imageIds[4]]);
        expect(await ids(s, { caseId, scope: 'flagged' })).toEqual([imageIds[3], imageIds[1], imageIds[4]]);
        expect((await cells.listCells({ caseId, scope: 'flagged' })).rows[1]!.decision).toMatchObject({ label: 'BLA', reviewer: 'tech' });
      });

      it('filters by predicted class and by effective class', async () => {
        const { s, reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[3]!, label: 'BLA', reviewer: 'tech' }); // LYT → BLA
        expect(await ids(s, { caseId, scope: 'all', predictedClass: 'BLA' })).toEqual([imageIds[1], imageIds[0]]);
        expect(await ids(s, { caseId, scope: 'all', effectiveClass: 'BLA' })).toEqual([imageIds[3], imageIds[1], imageIds[0]]);
        expect((await cells.listCells({ caseId, scope: 'all', effectiveClass: 'BLA' })).total).toBe(3);
        expect(await cells.listCells({ caseId, scope: 'all', effectiveClass: 'LYT' })).toMatchObject({ total: 1 });
        expect(await cells.listCells({ caseId, scope: 'flagged', predictedClass: 'LYT', effectiveClass: 'BLA' })).toMatchObject({ total: 1 });
        expect(await cells.listCells({ caseId, scope: 'unreviewed', effectiveClass: 'BLA' })).toMatchObject({ total: 1 });
      });

      it('finds cells by a part of the file name, in any case, with the total of the matches', async () => {
        const { s, cells, caseId, imageIds } = await setup();
        expect(await ids(s, { caseId, scope: 'all', file: ' CELL-0003 ' })).toEqual([imageIds[3]]);
        expect(await cells.listCells({ caseId, scope: 'all', file: '000' })).toMatchObject({ total: 6 });
        // A typed % or _ is a character to find, not a wildcard.
        expect(await cells.listCells({ caseId, scope: 'all', file: 'cell_' })).toMatchObject({ total: 0, rows: [] });
        expect(await cells.listCells({ caseId, scope: 'flagged', file: '.jpg' })).toMatchObject({ total: 3 });
      });

      it('agrees with a count of every listed row for every scope and filter', async () => {
        const { reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[3]!, label: 'BLA', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'NGS', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' });
        await reviews.addReview({ caseId, imageId: imageIds[5]!, label: 'LYT', reviewer: 'tech' });
        await reviews.retractLatestReview({ caseId, imageId: imageIds[5]!, reviewer: 'tech' });
        const classes: (CellClassCode | undefined)[] = [undefined, 'BLA', 'LYT', 'NGS', 'EBO', 'PLM'];
        for (const scope of ['flagged', 'unreviewed', 'all'] as const) {
          for (const predictedClass of classes) {
            for (const effectiveClass of classes) {
              const query = { caseId, scope, predictedClass, effectiveClass, limit: 1000 };
              const page = await cells.listCells(query);
              expect(page.total, JSON.stringify(query)).toBe(page.rows.length);
            }
          }
        }
      });

      it('refuses a cell the case has no prediction of, naming the case', async () => {
        const { cells, caseId } = await setup();
        const error = await expectRejection(cells.getCell(caseId, 424242), 'not_found');
        expect(error.message).toContain('BM-001');
        await expectRejection(cells.listCells({ caseId: 999, scope: 'all' }), 'not_found');
      });
    });

    describe("the case's current model", () => {
      it('counts only the predictions of the model the case was last analysed with; reviews carry over', async () => {
        const { s, reviews, cells, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[0]!, label: 'MON', reviewer: 'tech' });
        const modelB = await addModel(s, 'b', ['BLA', 'LYT', 'NGS', 'EBO', 'MON']);
        await s.cases!.setCaseStatus(caseId, 'analysing', 'tech');
        await s.cases!.beginAnalysis({ caseId, modelRowId: modelB.id, actor: 'tech' });
        // Model B has classified only two cells so far: only those count, and the reviewed cell 0 keeps its decision.
        await s.predictions!.insertPredictions(modelB.id, [
          prediction(imageIds[0]!, 'BLA', 0.9, modelB.classes),
          prediction(imageIds[1]!, 'EBO', 0.8, modelB.classes),
        ]);
        expect(await cells.effectiveCountsByClass(caseId)).toEqual({ MON: 1, EBO: 1 });
        await s.predictions!.insertPredictions(
          modelB.id,
          imageIds.slice(2).map((id) => prediction(id, 'NGS', 0.7, modelB.classes)),
        );
        await s.cases!.setCaseStatus(caseId, 'in_review', 'tech');
        expect(await cells.effectiveCountsByClass(caseId)).toEqual({ MON: 1, EBO: 1, NGS: 4 });
        expect(await cells.reviewProgress(caseId)).toEqual({ flagged: 0, flaggedReviewed: 0, reviewed: 1, reclassified: 1 });
        expect((await cells.getCell(caseId, imageIds[0]!)).classes).toEqual(['BLA', 'LYT', 'NGS', 'EBO', 'MON']);
        // Model A's predictions are still stored, untouched.
        expect(await s.sql('SELECT count(*) AS n FROM predictions WHERE case_id = ?', [caseId])).toEqual([{ n: 12 }]);
      });
    });

    describe('case list', () => {
      it('lists cases with effective counts, flagged-unreviewed cells and the latest sign-off', async () => {
        const { s, reviews, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' });
        const [row] = await s.cases!.listCases({});
        expect(row).toMatchObject({
          id: caseId,
          accession: 'BM-001',
          patientLabId: 'MRN-1',
          patientName: 'Ada Example',
          status: 'in_review',
          cellCount: 6,
          countsByClass: { BLA: 1, LYT: 3, NGS: 1, EBO: 1 },
          flaggedUnreviewed: 2,
          signedBy: null,
          signedAt: null,
        });
      });

      it('audits every review and undo with who and what', async () => {
        const { s, reviews, caseId, imageIds } = await setup();
        await reviews.addReview({ caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' });
        await reviews.retractLatestReview({ caseId, imageId: imageIds[1]!, reviewer: 'dr.a' });
        const log = await s.audit.caseAuditLog(caseId);
        expect(log.map((e) => e.action)).toEqual([
          'case_created',
          'images_imported',
          'case_model_set',
          'case_status_changed',
          'predictions_added',
          'case_status_changed',
          'review_added',
          'review_retracted',
        ]);
        expect(log[6]).toMatchObject({ actor: 'tech', detail: { imageId: imageIds[1], label: 'LYT' } });
        expect(log[7]).toMatchObject({ actor: 'dr.a', detail: { imageId: imageIds[1], label: 'LYT', by: 'tech' } });
      });
    });

    it('rolls back several repository calls together when one fails inside a transaction', async () => {
      const { s, reviews, caseId, imageIds } = await setup();
      await expect(
        s.transaction(async (tx) => {
          await tx.reviews!.addReview({ caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'tech' });
          await tx.reviews!.addReview({ caseId, imageId: 424242, label: 'LYT', reviewer: 'tech' });
        }),
      ).rejects.toThrow();
      expect(await reviews.listReviews(caseId)).toEqual([]);
    });
  });
});

describe('helpers for the service', () => {
  it('gives the two most probable classes of a cell, most probable first', () => {
    expect(topClasses({ classes: ['BLA', 'LYT', 'NGS'], probabilities: [0.2, 0.7, 0.1] })).toEqual([
      { code: 'LYT', probability: 0.7 },
      { code: 'BLA', probability: 0.2 },
    ]);
  });
});
