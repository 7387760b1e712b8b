import { describe, expect, it } from 'vitest';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import {
  addReview,
  addReviews,
  beginAnalysis,
  caseAuditLog,
  effectiveCountsByClass,
  getCell,
  insertPredictions,
  listCases,
  listCells,
  listReviews,
  retractLatestReview,
  reviewProgress,
  setCaseStatus,
  topClasses,
  transaction,
  type CellListQuery,
  type MarrowDatabase,
} from '../../../src/main/db';
import { expectDbError } from './errors-helper';
import { addModel, caseInReview, openTemp, prediction } from './helpers';

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

function setup() {
  const { db } = openTemp();
  return { db, ...caseInReview(db, CELLS) };
}

function ids(db: MarrowDatabase, query: CellListQuery): number[] {
  return listCells(db, query).rows.map((r) => r.imageId);
}

describe('effective labels', () => {
  it('counts the model prediction of every cell when nobody reviewed', () => {
    const { db, caseId } = setup();
    expect(effectiveCountsByClass(db, caseId)).toEqual({ BLA: 2, LYT: 2, NGS: 1, EBO: 1 });
  });

  it('counts a reclassified cell under the human label and a confirmed one unchanged', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' }); // BLA → LYT
    addReview(db, { caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' }); // confirmed
    expect(effectiveCountsByClass(db, caseId)).toEqual({ BLA: 1, LYT: 3, NGS: 1, EBO: 1 });
    expect(getCell(db, caseId, imageIds[1]!)).toMatchObject({ predicted: 'BLA', effectiveLabel: 'LYT', decision: { label: 'LYT', reviewer: 'tech' } });
  });

  it('uses the latest decision when a cell was reviewed twice', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[3]!, label: 'BLA', reviewer: 'tech' });
    addReview(db, { caseId, imageId: imageIds[3]!, label: 'PLM', reviewer: 'dr.a', note: 'plasma cell, eccentric nucleus' });
    expect(effectiveCountsByClass(db, caseId)).toEqual({ BLA: 2, LYT: 1, NGS: 1, EBO: 1, PLM: 1 });
    expect(getCell(db, caseId, imageIds[3]!).decision).toMatchObject({ label: 'PLM', reviewer: 'dr.a', note: 'plasma cell, eccentric nucleus' });
  });

  it('undo appends a retraction and falls back to the previous decision, then to the prediction', () => {
    const { db, caseId, imageIds } = setup();
    const cell = imageIds[3]!;
    const first = addReview(db, { caseId, imageId: cell, label: 'BLA', reviewer: 'tech' });
    const second = addReview(db, { caseId, imageId: cell, label: 'PLM', reviewer: 'tech' });
    const undo1 = retractLatestReview(db, { caseId, imageId: cell, reviewer: 'tech' });
    expect(undo1).toMatchObject({ kind: 'retraction', retractsReviewId: second.id, label: null });
    expect(getCell(db, caseId, cell).effectiveLabel).toBe('BLA');
    const undo2 = retractLatestReview(db, { caseId, imageId: cell, reviewer: 'tech' });
    expect(undo2.retractsReviewId).toBe(first.id);
    expect(getCell(db, caseId, cell)).toMatchObject({ effectiveLabel: 'LYT', decision: null });
    expect(effectiveCountsByClass(db, caseId)).toEqual({ BLA: 2, LYT: 2, NGS: 1, EBO: 1 });
    expectDbError(() => retractLatestReview(db, { caseId, imageId: cell, reviewer: 'tech' }), 'not_found');
    // Nothing was deleted: two decisions and two retractions remain.
    expect(listReviews(db, caseId, cell).map((r) => r.kind)).toEqual(['decision', 'decision', 'retraction', 'retraction']);
  });

  it('rejects an unknown class code in a review, naming it, in TypeScript and in SQL', () => {
    const { db, caseId, imageIds } = setup();
    const error = expectDbError(() => addReview(db, { caseId, imageId: imageIds[0]!, label: 'XYZ' as CellClassCode, reviewer: 'tech' }), 'unknown_class');
    expect(error.message).toContain('"XYZ"');
    expect(() =>
      db.raw
        .prepare(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES (?, ?, 'decision', 'QQQ', 'x', 't')`)
        .run(caseId, imageIds[0]),
    ).toThrow(/unknown cell class code "QQQ"/);
  });

  it('stores a batch of confirmations in one transaction, all or none', () => {
    const { db, caseId, imageIds } = setup();
    expectDbError(
      () =>
        addReviews(db, [
          { caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'tech' },
          { caseId, imageId: 987654, label: 'BLA', reviewer: 'tech' },
        ]),
      'not_found',
    );
    expect(listReviews(db, caseId)).toEqual([]);
    addReviews(db, [
      { caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'tech' },
      { caseId, imageId: imageIds[3]!, label: 'LYT', reviewer: 'tech' },
    ]);
    expect(reviewProgress(db, caseId)).toEqual({ flagged: 3, flaggedReviewed: 2, reviewed: 2, reclassified: 0 });
  });

  it('refuses a review of an image of another case', () => {
    const { db, caseId } = setup();
    const other = caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }], 'BM-OTHER');
    const error = expectDbError(() => addReview(db, { caseId, imageId: other.imageIds[0]!, label: 'BLA', reviewer: 'tech' }), 'constraint');
    expect(error.message).toContain(`image ${other.imageIds[0]} is not a cell of case ${caseId}`);
  });
});

describe('review progress', () => {
  it('counts flagged, flagged reviewed, reviewed and reclassified cells', () => {
    const { db, caseId, imageIds } = setup();
    expect(reviewProgress(db, caseId)).toEqual({ flagged: 3, flaggedReviewed: 0, reviewed: 0, reclassified: 0 });
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'MYB', reviewer: 'tech' }); // flagged, reclassified
    addReview(db, { caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' }); // flagged, confirmed
    addReview(db, { caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'tech' }); // not flagged, reclassified
    expect(reviewProgress(db, caseId)).toEqual({ flagged: 3, flaggedReviewed: 2, reviewed: 3, reclassified: 2 });
    retractLatestReview(db, { caseId, imageId: imageIds[1]!, reviewer: 'tech' });
    expect(reviewProgress(db, caseId)).toEqual({ flagged: 3, flaggedReviewed: 1, reviewed: 2, reclassified: 1 });
  });
});

describe('listing cells', () => {
  it('lists flagged cells most uncertain first', () => {
    const { db, caseId, imageIds } = setup();
    const page = listCells(db, { caseId, scope: 'flagged', offset: 0, limit: 10 });
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

  it('pages through all cells in confidence order with a stable total', () => {
    const { db, caseId, imageIds } = setup();
    const byConfidence = [3, 1, 4, 2, 0, 5].map((i) => imageIds[i]);
    const first = listCells(db, { caseId, scope: 'all', offset: 0, limit: 4 });
    const second = listCells(db, { caseId, scope: 'all', offset: 4, limit: 4 });
    expect(first.total).toBe(6);
    expect(second.total).toBe(6);
    expect([...first.rows, ...second.rows].map((r) => r.imageId)).toEqual(byConfidence);
  });

  it('leaves decided cells out of the unreviewed scope but keeps them in flagged', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'BLA', reviewer: 'tech' });
    expect(listCells(db, { caseId, scope: 'unreviewed' })).toMatchObject({ total: 2 });
    expect(ids(db, { caseId, scope: 'unreviewed' })).toEqual([imageIds[3], imageIds[4]]);
    expect(ids(db, { caseId, scope: 'flagged' })).toEqual([imageIds[3], imageIds[1], imageIds[4]]);
    expect(listCells(db, { caseId, scope: 'flagged' }).rows[1]!.decision).toMatchObject({ label: 'BLA', reviewer: 'tech' });
  });

  it('filters by predicted class and by effective class', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[3]!, label: 'BLA', reviewer: 'tech' }); // LYT → BLA
    expect(ids(db, { caseId, scope: 'all', predictedClass: 'BLA' })).toEqual([imageIds[1], imageIds[0]]);
    expect(ids(db, { caseId, scope: 'all', effectiveClass: 'BLA' })).toEqual([imageIds[3], imageIds[1], imageIds[0]]);
    expect(listCells(db, { caseId, scope: 'all', effectiveClass: 'BLA' }).total).toBe(3);
    expect(listCells(db, { caseId, scope: 'all', effectiveClass: 'LYT' })).toMatchObject({ total: 1 });
    expect(listCells(db, { caseId, scope: 'flagged', predictedClass: 'LYT', effectiveClass: 'BLA' })).toMatchObject({ total: 1 });
    expect(listCells(db, { caseId, scope: 'unreviewed', effectiveClass: 'BLA' })).toMatchObject({ total: 1 });
  });

  it('agrees with a count of every listed row for every scope and filter', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[3]!, label: 'BLA', reviewer: 'tech' });
    addReview(db, { caseId, imageId: imageIds[0]!, label: 'NGS', reviewer: 'tech' });
    addReview(db, { caseId, imageId: imageIds[4]!, label: 'NGS', reviewer: 'tech' });
    addReview(db, { caseId, imageId: imageIds[5]!, label: 'LYT', reviewer: 'tech' });
    retractLatestReview(db, { caseId, imageId: imageIds[5]!, reviewer: 'tech' });
    const classes: (CellClassCode | undefined)[] = [undefined, 'BLA', 'LYT', 'NGS', 'EBO', 'PLM'];
    for (const scope of ['flagged', 'unreviewed', 'all'] as const) {
      for (const predictedClass of classes) {
        for (const effectiveClass of classes) {
          const query = { caseId, scope, predictedClass, effectiveClass, limit: 1000 };
          const page = listCells(db, query);
          expect(page.total, JSON.stringify(query)).toBe(page.rows.length);
        }
      }
    }
  });
});

describe("the case's current model", () => {
  it('counts only the predictions of the model the case was last analysed with; reviews carry over', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[0]!, label: 'MON', reviewer: 'tech' });
    const modelB = addModel(db, 'b', ['BLA', 'LYT', 'NGS', 'EBO', 'MON']);
    setCaseStatus(db, caseId, 'analysing', 'tech');
    beginAnalysis(db, { caseId, modelRowId: modelB.id, actor: 'tech' });
    // Model B has classified only two cells so far: only those count, and the reviewed cell 0 keeps its decision.
    insertPredictions(db, modelB.id, [prediction(imageIds[0]!, 'BLA', 0.9, modelB.classes), prediction(imageIds[1]!, 'EBO', 0.8, modelB.classes)]);
    expect(effectiveCountsByClass(db, caseId)).toEqual({ MON: 1, EBO: 1 });
    insertPredictions(
      db,
      modelB.id,
      imageIds.slice(2).map((id) => prediction(id, 'NGS', 0.7, modelB.classes)),
    );
    setCaseStatus(db, caseId, 'in_review', 'tech');
    expect(effectiveCountsByClass(db, caseId)).toEqual({ MON: 1, EBO: 1, NGS: 4 });
    expect(reviewProgress(db, caseId)).toEqual({ flagged: 0, flaggedReviewed: 0, reviewed: 1, reclassified: 1 });
    // Model A's predictions are still stored, untouched.
    expect(db.raw.prepare('SELECT count(*) AS n FROM predictions WHERE case_id = ?').get(caseId)).toEqual({ n: 12 });
  });
});

describe('case list', () => {
  it('lists cases with effective counts, flagged-unreviewed cells and the latest sign-off', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' });
    const [row] = listCases(db, {});
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

  it('audits every review and undo with who and what', () => {
    const { db, caseId, imageIds } = setup();
    addReview(db, { caseId, imageId: imageIds[1]!, label: 'LYT', reviewer: 'tech' });
    retractLatestReview(db, { caseId, imageId: imageIds[1]!, reviewer: 'dr.a' });
    const log = caseAuditLog(db, caseId);
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

describe('helpers for the service', () => {
  it('gives the two most probable classes of a cell, most probable first', () => {
    expect(topClasses({ classes: ['BLA', 'LYT', 'NGS'], probabilities: [0.2, 0.7, 0.1] })).toEqual([
      { code: 'LYT', probability: 0.7 },
      { code: 'BLA', probability: 0.2 },
    ]);
  });

  it('rolls back several repository calls together when one fails inside a transaction', () => {
    const { db, caseId, imageIds } = setup();
    expect(() =>
      transaction(db, () => {
        addReview(db, { caseId, imageId: imageIds[0]!, label: 'LYT', reviewer: 'tech' });
        addReview(db, { caseId, imageId: 424242, label: 'LYT', reviewer: 'tech' });
      }),
    ).toThrow();
    expect(listReviews(db, caseId)).toEqual([]);
  });
});
