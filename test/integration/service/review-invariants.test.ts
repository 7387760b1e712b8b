// Randomised (seeded, deterministic) review sessions through the real service — a real SQLite file and a real
// PostgreSQL database (the same sessions on each engine), the tiny real ONNX model, real crops — checked after every operation against an oracle kept in the test: each cell's stack of
// human decisions (undo withdraws the latest one still in force), the case's status, sign-offs and amendments.
// A lost review, a wrong count or an undo that withdraws the wrong decision is a clinical error, so every figure
// the reviewer and the report read is compared: each cell's decision and effective label, the differential (counts
// per class, NDC, blasts), the review progress, the case summary, filtered cell pages, and at the end the stored
// review history, the audit trail and the differential stored with each sign-off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody, CaseDetail, CellQuery, CellScope, CellView, ReviewProgress } from '../../../src/shared/api';
import { CELL_CLASS_CODES, CELL_CLASSES, type CellClassCode } from '../../../src/shared/cell-classes';
import { computeDifferential, type ClassCounts, type Differential } from '../../../src/shared/differential';
import type { Store } from '../../../src/main/db/contract';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { ServiceError, toApiError } from '../../../src/main/service/errors';
import { analysedFixtureCase, ENGINES, startService, usePostgres, type ServiceFixture, PERSON_PASSWORD } from './helpers';
import { DecisionStacks } from '../../helpers/decision-stacks';
import { Rng } from '../../helpers/seeded-random';

async function rejection(promise: Promise<unknown>): Promise<ApiErrorBody> {
  const result = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (result === null) throw new Error('expected the call to be refused, but it succeeded');
  return toApiError(result);
}

interface Decision {
  label: CellClassCode;
  reviewer: string;
  note: string | null;
}

type HistoryEvent = ({ kind: 'decision'; imageId: number } & Decision) | { kind: 'retraction'; imageId: number; reviewer: string };

interface ExpectedSignOff {
  signedBy: string;
  role: string;
  overrideReason: string | null;
  counts: ClassCounts;
  review: ReviewProgress;
  unreviewed: number;
}

const REVIEWERS = ['A. Technician', '  B. Scientist ', 'Dr C. Consultant', 'D. Trainee\t'];
const NOTES: (string | undefined)[] = [undefined, undefined, undefined, '', '   ', 'granules seen', '  nucleoli visible  '];
const BAD_LABELS = ['XXX', 'bla', '', 'BLA ', 'blast'];

/** The independent model of the case the service should hold. */
class Oracle extends DecisionStacks<Decision> {
  readonly history: HistoryEvent[] = [];
  readonly signOffs: ExpectedSignOff[] = [];
  readonly amendments: { by: string; reason: string }[] = [];
  /** Undos after which an earlier decision is in force again, and the deepest stack seen: the run must reach both. */
  undosToEarlier = 0;
  deepest = 0;
  status: 'in_review' | 'signed' = 'in_review';

  constructor(readonly cells: ReadonlyMap<number, CellView>) {
    super(new Map([...cells].map(([id, cell]) => [id, cell.predicted])));
  }

  push(imageId: number, label: CellClassCode, reviewer: string, note?: string): void {
    const d: Decision = { label, reviewer: reviewer.trim(), note: note?.trim() ? note.trim() : null };
    this.deepest = Math.max(this.deepest, this.add(imageId, d));
    this.history.push({ kind: 'decision', imageId, ...d });
  }

  pop(imageId: number, reviewer: string): void {
    if (this.withdraw(imageId) > 0) this.undosToEarlier++;
    this.history.push({ kind: 'retraction', imageId, reviewer: reviewer.trim() });
  }

  progress(): ReviewProgress {
    let flagged = 0;
    let flaggedReviewed = 0;
    let reviewed = 0;
    let reclassified = 0;
    for (const [id, cell] of this.cells) {
      const d = this.decision(id);
      if (cell.flagged) flagged++;
      if (d !== null) {
        reviewed++;
        if (cell.flagged) flaggedReviewed++;
        if (d.label !== cell.predicted) reclassified++;
      }
    }
    return { flagged, flaggedReviewed, reviewed, reclassified };
  }

  unreviewedFlagged(): number {
    const p = this.progress();
    return p.flagged - p.flaggedReviewed;
  }

  /** The cells a query should return, in the service's order (confidence, then image id), before paging. */
  query(q: Omit<CellQuery, 'caseId'>): number[] {
    return [...this.cells.values()]
      .filter((c) => q.scope === 'all' || c.flagged)
      .filter((c) => q.scope !== 'unreviewed' || this.decision(c.imageId) === null)
      .filter((c) => q.predictedClass === undefined || c.predicted === q.predictedClass)
      .filter((c) => q.effectiveClass === undefined || this.effective(c.imageId) === q.effectiveClass)
      .sort((a, b) => a.confidence - b.confidence || a.imageId - b.imageId)
      .map((c) => c.imageId);
  }
}

const NDC_CODES = CELL_CLASS_CODES.filter((c) => CELL_CLASSES[c].inNucleatedDifferential);
const BLAST_CODES: CellClassCode[] = ['BLA', 'FGC'];
const count = (counts: ClassCounts, codes: readonly CellClassCode[]) => codes.reduce((s, c) => s + (counts[c] ?? 0), 0);

const pgSetup = usePostgres();

describe.each(ENGINES)('randomised review sessions keep every count, decision and undo (seeded) on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  /** A second store on the service's database, reading what was stored. */
  let db: Store;
  let modelClasses: CellClassCode[];
  /** Cases of the seeds already run, as they were left: later seeds' operations must not touch them. */
  const finished: { caseId: number; imageIds: number[]; state: Awaited<ReturnType<typeof snapshot>> }[] = [];

  beforeAll(async () => {
    fx = await startService('review-invariants', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  /** A new analysed case; its cells as listed right after analysis. */
  async function analysedCase(name: string): Promise<{ caseId: number; cells: Map<number, CellView> }> {
    const { detail, cells } = await analysedFixtureCase(fx, name);
    modelClasses = detail.model!.classes;
    expect(cells.every((c) => c.decision === null && c.effectiveLabel === c.predicted)).toBe(true);
    db ??= await fx.store();
    return { caseId: detail.id, cells: new Map(cells.map((c) => [c.imageId, c])) };
  }

  /** Everything a refused operation must leave exactly as it was. */
  async function snapshot(caseId: number) {
    return {
      cells: await fx.service.listCells({ caseId, scope: 'all', limit: 50 }),
      differential: await fx.service.getDifferential(caseId),
      detail: await fx.service.getCase(caseId),
      reviews: await db.reviews.listReviews(caseId),
      audit: (await db.audit.caseAuditLog(caseId)).length,
      signOffs: (await db.cases.listSignOffs(caseId)).length,
    };
  }

  async function check(caseId: number, oracle: Oracle, rng: Rng, where: string): Promise<void> {
    // Every cell: the model's prediction untouched, the decision in force and the effective label as the oracle says.
    const page = await fx.service.listCells({ caseId, scope: 'all', limit: 50 });
    expect(page.total, where).toBe(oracle.cells.size);
    expect(
      page.cells.map((c) => c.imageId),
      `${where}: order`,
    ).toEqual(oracle.query({ scope: 'all' }));
    for (const cell of page.cells) {
      // The version follows the decisions (checked in review-race.test.ts); the model's output never changes.
      const { decision, effectiveLabel, version: _version, ...model } = cell;
      const { decision: _d, effectiveLabel: _e, version: _v, ...original } = oracle.cells.get(cell.imageId)!;
      expect(model, `${where}: model output of ${cell.file}`).toEqual(original);
      const expected = oracle.decision(cell.imageId);
      expect(
        decision === null ? null : { label: decision.label, reviewer: decision.reviewer, note: decision.note },
        `${where}: decision on ${cell.file}`,
      ).toEqual(expected);
      expect(effectiveLabel, `${where}: effective label of ${cell.file}`).toBe(oracle.effective(cell.imageId));
    }

    // The differential from the oracle's effective labels.
    const counts = oracle.counts();
    const ndc = count(counts, NDC_CODES);
    const blasts = count(counts, BLAST_CODES);
    const { differential, review } = await fx.service.getDifferential(caseId);
    expect(review, `${where}: review progress`).toEqual(oracle.progress());
    expect(differential.nucleatedDifferentialCount, `${where}: NDC`).toBe(ndc);
    expect(differential.totalCellsCounted, `${where}: total`).toBe(oracle.cells.size);
    expect(differential.blast.count, `${where}: blasts`).toBe(blasts);
    if (ndc === 0) expect(differential.blast.percentage, `${where}: blast %`).toBeNull();
    else expect(differential.blast.percentage, `${where}: blast %`).toBeCloseTo((blasts / ndc) * 100, 9);
    for (const row of differential.rows) expect(row.count, `${where}: ${row.code} count`).toBe(counts[row.code] ?? 0);
    for (const ex of differential.excluded) expect(ex.count, `${where}: excluded ${ex.code}`).toBe(counts[ex.code] ?? 0);
    expect(differential, `${where}: whole differential`).toEqual(computeDifferential(counts, { modelClasses }));

    // The case as the case view and the case list show it.
    const detail = await fx.service.getCase(caseId);
    const summary = (await fx.service.listCases({ search: detail.accession })).find((c) => c.id === caseId);
    for (const shown of [detail, summary!]) {
      expect(shown.status, `${where}: status`).toBe(oracle.status);
      expect(shown.cellCount, `${where}: cell count`).toBe(oracle.cells.size);
      expect(shown.flaggedUnreviewed, `${where}: flagged unreviewed`).toBe(oracle.unreviewedFlagged());
      if (ndc === 0) expect(shown.blastPercentage).toBeNull();
      else expect(shown.blastPercentage, `${where}: summary blast %`).toBeCloseTo((blasts / ndc) * 100, 9);
    }
    checkRecords(detail, oracle, where);

    // A random filtered page: total and members must match the oracle (the totals are computed arithmetically).
    const scope = rng.pick<CellScope>(['all', 'flagged', 'unreviewed']);
    const query: Omit<CellQuery, 'caseId'> = { scope };
    if (rng.chance(0.4)) query.predictedClass = rng.chance(0.8) ? rng.pick(modelClasses) : rng.pick(CELL_CLASS_CODES);
    if (rng.chance(0.5)) query.effectiveClass = rng.chance(0.7) ? oracle.effective(rng.pick(oracle.ids)) : rng.pick(CELL_CLASS_CODES);
    const offset = rng.chance(0.3) ? rng.int(4) : 0;
    const limit = rng.chance(0.3) ? 1 + rng.int(5) : 50;
    const want = oracle.query(query);
    const got = await fx.service.listCells({ caseId, ...query, offset, limit });
    expect(got.total, `${where}: total of ${JSON.stringify(query)}`).toBe(want.length);
    expect(
      got.cells.map((c) => c.imageId),
      `${where}: page of ${JSON.stringify({ ...query, offset, limit })}`,
    ).toEqual(want.slice(offset, offset + limit));
    for (const c of got.cells) expect(c.effectiveLabel).toBe(oracle.effective(c.imageId));
  }

  function checkRecords(detail: CaseDetail, oracle: Oracle, where: string): void {
    expect(
      detail.signOffs.map((s) => ({ signedBy: s.signedBy, role: s.role, overrideReason: s.overrideReason })),
      `${where}: sign-offs`,
    ).toEqual(oracle.signOffs.map((s) => ({ signedBy: s.signedBy, role: s.role, overrideReason: s.overrideReason })));
    expect(
      detail.amendments.map((a) => ({ by: a.by, reason: a.reason })),
      `${where}: amendments`,
    ).toEqual(oracle.amendments);
  }

  /** A refused call: a typed error, and nothing the service holds changed. */
  async function refused(caseId: number, call: () => Promise<unknown>, kinds: ApiErrorBody['kind'][], where: string): Promise<void> {
    const before = await snapshot(caseId);
    const error = await rejection(call());
    expect(kinds, `${where}: refused with ${error.kind}: ${error.message}`).toContain(error.kind);
    expect(await snapshot(caseId), `${where}: a refused call changed something`).toEqual(before);
  }

  /** A call through the boundary (as IPC and HTTP make it), rejecting with the refusal as the service would throw it. */
  async function viaBoundary(method: 'reviewCell' | 'confirmCells', args: unknown[]): Promise<unknown> {
    const result = await dispatch(fx.service, method, args);
    if (!result.ok) throw new ServiceError(result.error.kind, result.error.message);
    return result.value;
  }

  /** One random operation, applied to the service and the oracle alike. */
  async function step(caseId: number, oracle: Oracle, rng: Rng, where: string): Promise<void> {
    const reviewer = rng.pick(REVIEWERS);
    const id = rng.pick(oracle.ids);

    if (oracle.status === 'signed') {
      const r = rng.float();
      if (r < 0.5) {
        // Every change is refused on a signed case.
        const op = rng.int(4);
        if (op === 0) {
          await refused(
            caseId,
            async () => (await fx.as(reviewer)).reviewCell({ caseId, imageId: id, label: rng.pick(CELL_CLASS_CODES) }),
            ['locked'],
            `${where} review signed`,
          );
        } else if (op === 1) {
          const ids = rng.sample(oracle.ids, 1 + rng.int(4));
          await refused(caseId, async () => (await fx.as(reviewer)).confirmCells({ caseId, imageIds: ids }), ['locked'], `${where} confirm signed`);
        } else if (op === 2) {
          await refused(caseId, async () => (await fx.as(reviewer)).undoReview({ caseId, imageId: id }), ['locked'], `${where} undo signed`);
        } else {
          await refused(
            caseId,
            async () => (await fx.as(reviewer)).authoriseCase({ password: PERSON_PASSWORD, caseId, overrideReason: 'again' }),
            ['locked'],
            `${where} sign twice`,
          );
        }
      } else if (r < 0.6) {
        await refused(
          caseId,
          async () => (await fx.as(reviewer)).amendCase({ caseId, reason: '   ' }),
          ['conflict', 'validation'],
          `${where} amend without reason`,
        );
      } else {
        const reason = rng.pick(['Second look at the blasts', '  Clinician query  ', 'Typo in a label']);
        const amended = await (await fx.as(reviewer)).amendCase({ caseId, reason });
        oracle.status = 'in_review';
        oracle.amendments.push({ by: reviewer.trim(), reason: reason.trim() });
        expect(amended.status).toBe('in_review');
      }
      return;
    }

    const r = rng.float();
    if (r < 0.42) {
      // Review one cell: confirm the prediction, second the label in force, or reclassify to any of the 21 classes.
      const cell = oracle.cells.get(id)!;
      const k = rng.float();
      const label = k < 0.35 ? cell.predicted : k < 0.5 ? oracle.effective(id) : rng.pick(CELL_CLASS_CODES);
      const note = rng.pick(NOTES);
      const view = await (await fx.as(reviewer)).reviewCell({ caseId, imageId: id, label, ...(note === undefined ? {} : { note }) });
      oracle.push(id, label, reviewer, note);
      expect(view.effectiveLabel, where).toBe(label);
      expect(view.decision?.label, where).toBe(label);
    } else if (r < 0.57) {
      // "Confirm all shown" on a random subset: each cell's label in force is seconded.
      const ids = rng.sample(oracle.ids, 1 + rng.int(6));
      const expected = ids.map((i) => oracle.effective(i));
      const views = await (await fx.as(reviewer)).confirmCells({ caseId, imageIds: ids });
      ids.forEach((i, n) => oracle.push(i, expected[n]!, reviewer));
      expect(
        views.map((v) => v.imageId),
        where,
      ).toEqual(ids);
      expect(
        views.map((v) => v.effectiveLabel),
        where,
      ).toEqual(expected);
    } else if (r < 0.8) {
      // Undo on a random cell, with or without a decision.
      if (oracle.decision(id) === null) {
        await refused(caseId, async () => (await fx.as(reviewer)).undoReview({ caseId, imageId: id }), ['not_found'], `${where} undo without decision`);
      } else {
        const view = await (await fx.as(reviewer)).undoReview({ caseId, imageId: id });
        oracle.pop(id, reviewer);
        expect(view.effectiveLabel, where).toBe(oracle.effective(id));
        expect(view.decision?.label ?? null, where).toBe(oracle.decision(id)?.label ?? null);
      }
    } else if (r < 0.9) {
      // Malformed or impossible calls: refused, all or nothing.
      const op = rng.int(finished.length > 0 ? 8 : 6);
      if (op === 0) {
        const label = rng.pick(BAD_LABELS) as CellClassCode;
        await refused(caseId, async () => (await fx.as(reviewer)).reviewCell({ caseId, imageId: id, label }), ['validation'], `${where} bad label`);
      } else if (op === 1) {
        // Naming someone else in the request is refused: the reviewer is the session's person.
        await refused(
          caseId,
          () => viaBoundary('reviewCell', [{ caseId, imageId: id, label: 'BLA', reviewer }]),
          ['validation'],
          `${where} reviewer named in the request`,
        );
      } else if (op === 2) {
        await refused(
          caseId,
          async () => (await fx.as(reviewer)).reviewCell({ caseId, imageId: 987_654, label: 'BLA' }),
          ['not_found'],
          `${where} unknown cell`,
        );
      } else if (op === 3) {
        const ids = rng.sample(oracle.ids, 1 + rng.int(4));
        ids.splice(rng.int(ids.length + 1), 0, 987_654);
        await refused(caseId, async () => (await fx.as(reviewer)).confirmCells({ caseId, imageIds: ids }), ['not_found'], `${where} confirm with unknown cell`);
      } else if (op === 4) {
        const ids = rng.sample(oracle.ids, 1 + rng.int(4));
        await refused(caseId, () => viaBoundary('confirmCells', [{ caseId, imageIds: ids, reviewer }]), ['validation'], `${where} confirm naming a reviewer`);
      } else if (op === 5) {
        await refused(caseId, async () => (await fx.as(reviewer)).amendCase({ caseId, reason: 'nothing to amend' }), ['conflict'], `${where} amend unsigned`);
      } else {
        // A cell of another case, named with this case's id.
        const foreign = rng.pick(rng.pick(finished).imageIds);
        if (op === 6) {
          await refused(
            caseId,
            async () => (await fx.as(reviewer)).reviewCell({ caseId, imageId: foreign, label: 'BLA' }),
            ['not_found'],
            `${where} foreign review`,
          );
        } else {
          await refused(caseId, async () => (await fx.as(reviewer)).undoReview({ caseId, imageId: foreign }), ['not_found'], `${where} foreign undo`);
          await refused(
            caseId,
            async () => (await fx.as(reviewer)).confirmCells({ caseId, imageIds: [id, foreign] }),
            ['not_found'],
            `${where} foreign confirm`,
          );
        }
      }
    } else {
      // Sign-off: refused without a reason while flagged cells are unreviewed; an override is recorded only then.
      const unreviewed = oracle.unreviewedFlagged();
      // The signature's role is the signer's pathologist role, not a typed word.
      const role = 'Pathologist';
      if (unreviewed > 0 && rng.chance(0.4)) {
        const blank = rng.pick([undefined, '', '   ']);
        await refused(
          caseId,
          async () => (await fx.as(reviewer)).authoriseCase({ password: PERSON_PASSWORD, caseId, ...(blank === undefined ? {} : { overrideReason: blank }) }),
          ['unreviewed'],
          `${where} sign with ${unreviewed} unreviewed`,
        );
        return;
      }
      const reason = unreviewed > 0 || rng.chance(0.3) ? rng.pick(['Urgent: clinician called', '  Flagged cells seen on slide  ']) : undefined;
      const counts = oracle.counts();
      const review = oracle.progress();
      const signed = await (
        await fx.as(reviewer)
      ).authoriseCase({ password: PERSON_PASSWORD, caseId, ...(reason === undefined ? {} : { overrideReason: reason }) });
      oracle.status = 'signed';
      oracle.signOffs.push({
        signedBy: reviewer.trim(),
        role,
        overrideReason: unreviewed > 0 ? reason!.trim() : null,
        counts,
        review,
        unreviewed,
      });
      expect(signed.status).toBe('signed');
      expect(signed.flaggedUnreviewed).toBe(unreviewed);
    }
  }

  /** After the run: the stored history replays to the oracle's, and nothing was rewritten or lost. */
  async function checkHistory(caseId: number, oracle: Oracle): Promise<void> {
    const rows = await db.reviews.listReviews(caseId);
    expect(rows.length, 'stored review rows').toBe(oracle.history.length);
    // Replay the stored rows: each retraction must withdraw the latest decision still in force on its cell.
    const stacks = new Map<number, number[]>(oracle.ids.map((i) => [i, []]));
    const byId = new Map(rows.map((r) => [r.id, r]));
    rows.forEach((row, n) => {
      const want = oracle.history[n]!;
      expect(row.imageId, `history row ${n}`).toBe(want.imageId);
      expect(row.kind, `history row ${n}`).toBe(want.kind);
      expect(row.reviewer, `history row ${n}`).toBe(want.reviewer);
      const stack = stacks.get(row.imageId)!;
      if (want.kind === 'decision') {
        expect({ label: row.label, note: row.note, retracts: row.retractsReviewId }, `history row ${n}`).toEqual({
          label: want.label,
          note: want.note,
          retracts: null,
        });
        stack.push(row.id);
      } else {
        expect(row.retractsReviewId, `history row ${n}: retracts the latest decision in force`).toBe(stack[stack.length - 1]);
        expect(byId.get(row.retractsReviewId!)?.kind).toBe('decision');
        stack.pop();
      }
    });

    // The audit trail has one entry per stored change, in the same order.
    const audit = await db.audit.caseAuditLog(caseId);
    const reviewAudit = audit.filter((a) => a.action === 'review_added' || a.action === 'review_retracted');
    expect(
      reviewAudit.map((a) => [a.action, (a.detail as { reviewId: number }).reviewId]),
      'audit entries of reviews',
    ).toEqual(rows.map((r) => [r.kind === 'decision' ? 'review_added' : 'review_retracted', r.id]));
    expect(audit.filter((a) => a.action === 'case_signed').length).toBe(oracle.signOffs.length);
    expect(audit.filter((a) => a.action === 'case_amended').length).toBe(oracle.amendments.length);

    // What was signed is stored with each sign-off, and a later amendment did not rewrite it.
    const signOffs = await db.cases.listSignOffs(caseId);
    expect(signOffs.length).toBe(oracle.signOffs.length);
    signOffs.forEach((s, n) => {
      const want = oracle.signOffs[n]!;
      const snap = JSON.parse(s.summarySnapshot) as { differential: Differential; review: ReviewProgress; unreviewedFlaggedAtSigning: number };
      expect(snap.differential, `sign-off ${n} differential`).toEqual(computeDifferential(want.counts, { modelClasses }));
      expect(snap.review, `sign-off ${n} review`).toEqual(want.review);
      expect(snap.unreviewedFlaggedAtSigning, `sign-off ${n}`).toBe(want.unreviewed);
      expect(s.overrideReason, `sign-off ${n} override`).toBe(want.overrideReason);
    });
  }

  const SEEDS = [1, 2, 0x5eed, 0xc0ffee];
  const OPERATIONS = 220;

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${OPERATIONS} random operations keep decisions, undo, counts and sign-offs as the oracle says`, async () => {
      const rng = new Rng(seed);
      const { caseId, cells } = await analysedCase(`seed-${seed}`);
      const oracle = new Oracle(cells);
      expect(oracle.progress().flagged, 'the tiny model flags some cells').toBeGreaterThan(0);
      await check(caseId, oracle, rng, `seed ${seed} start`);
      for (let n = 0; n < OPERATIONS; n++) {
        const where = `seed ${seed} op ${n}`;
        await step(caseId, oracle, rng, where);
        await check(caseId, oracle, rng, where);
      }
      await checkHistory(caseId, oracle);
      // The run exercised what it is meant to.
      expect(oracle.history.some((e) => e.kind === 'retraction')).toBe(true);
      expect(oracle.signOffs.length).toBeGreaterThan(0);
      expect(oracle.amendments.length).toBeGreaterThan(0);
      expect(oracle.undosToEarlier, 'undos that bring back an earlier decision').toBeGreaterThan(0);
      expect(oracle.deepest).toBeGreaterThanOrEqual(3);
      // The cases of earlier seeds are exactly as they were left.
      for (const done of finished) expect(await snapshot(done.caseId), `case ${done.caseId} of an earlier seed`).toEqual(done.state);
      finished.push({ caseId, imageIds: oracle.ids, state: await snapshot(caseId) });
    });
  }

  it('confirms a cell listed twice in one confirmation once, so that one undo withdraws it', async () => {
    const { caseId, cells } = await analysedCase('twice');
    const [imageId] = [...cells.keys()];
    const confirmed = await fx.service.confirmCells({ caseId, imageIds: [imageId!, imageId!] });
    expect(confirmed.map((cell) => cell.imageId)).toEqual([imageId]);
    const undone = await fx.service.undoReview({ caseId, imageId: imageId! });
    expect(undone.decision).toBeNull();
    expect((await fx.service.getDifferential(caseId)).review.reviewed).toBe(0);
  });
});
