// Randomised (seeded, deterministic) review states of real analysed cases — real SQLite file, the tiny real ONNX
// model (8 classes), real crops — and the four outputs of each state checked against the service: the PDF report
// (read back with poppler's pdftotext), the CSV per class, the CSV per cell and the JSON export must all print
// exactly the differential getDifferential gives and the cells listCells gives. A report that disagrees with the
// screen the technician signed is a clinical error, so every count, rounded percentage, interval bound, NDC, total,
// blast percentage and M:E ratio is compared, and the DRAFT marking and the signer with the case's status.
//
// The review states cover reclassification into classes the model cannot output (FGC, PLM, OTH, ...), into the
// excluded classes (ART, NIF, KSC), a case with no nucleated cell left (NDC 0), M:E undefined and defined, confirm
// and undo, sign-off with and without an override reason, and signed cases amended (and signed again). A small
// oracle of each cell's decision stack checks the service itself, so the outputs are not compared with a wrong
// differential that merely agrees with itself.
import { countFlagReasons, flagReasonText } from '../../../src/shared/flag-reasons';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseDifferential, CellView } from '../../../src/shared/api';
import { CELL_CLASS_CODES, CELL_CLASSES, type CellClassCode } from '../../../src/shared/cell-classes';
import { computeDifferential, informativeBlastAdvisories, type ClassCounts, type Differential } from '../../../src/shared/differential';
import { toApiError } from '../../../src/main/service/errors';
import { analysedFixtureCase, startService, type ServiceFixture, PERSON_PASSWORD } from '../service/helpers';
import { flat, pdfInfo, pdfPages } from './pdf-tools';
import { DecisionStacks } from '../../helpers/decision-stacks';
import { Rng } from '../../helpers/seeded-random';
import { parseCsv } from '../../helpers/csv';

// ---- Independent formatting: what a printed figure must read (1 decimal, "—" where undefined). ----------------

const NA = '—';
const oneDecimal = (v: number): string => {
  const text = v.toFixed(1);
  return text === '-0.0' ? '0.0' : text;
};
const pct = (v: number | null): string => (v === null ? NA : `${oneDecimal(v)}%`);
const interval = (ci: { lower: number; upper: number } | null): string => (ci === null ? NA : `${oneDecimal(ci.lower)}–${oneDecimal(ci.upper)}%`);
const utc = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
/** A CSV field as a spreadsheet-safe writer must store it: formula triggers get a leading apostrophe. */
const csvSafe = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

function csvObjects(text: string, header: readonly string[]): Record<string, string>[] {
  const [head, ...rows] = parseCsv(text);
  expect(head).toEqual(header);
  for (const row of rows) expect(row).toHaveLength(header.length);
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]!])));
}

/** A table row as pdftotext -layout prints it: the cells in order, separated by whitespace. */
function rowPattern(cells: readonly string[]): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
  return new RegExp(`^\\s*${cells.map(escape).join('\\s+')}(\\s|$)`, 'm');
}

const CLASSES_HEADER = [
  'code',
  'name',
  'count',
  'percent_of_ndc',
  'ci95_low_percent',
  'ci95_high_percent',
  'in_ndc',
  'per_100_ndc',
  'assessed_by_model',
  'provisional_unreviewed',
  'case_status',
];
const CELLS_HEADER = [
  'image_id',
  'file',
  'predicted',
  'confidence',
  'flagged',
  'flag_reasons',
  'reviewed_label',
  'reviewer',
  'reviewed_at',
  'review_note',
  'effective_label',
  'case_status',
];
// The words every export prints for the case's state; these cases are never partial.
const STATUS_WORDS: Record<string, string> = { in_review: 'In review', signed: 'Released' };

const EXCLUDED: readonly CellClassCode[] = ['ART', 'NIF', 'KSC'];
const ERYTHROID: readonly CellClassCode[] = ['PEB', 'EBO'];
/** Names that test quoting (comma, quote) and formula neutralisation (leading @) in the CSV. */
const REVIEWERS = ['A. Technician', 'Smith, "Jo"', 'Dr C. Consultant', '@Lab Reviewer'];
const NOTES: (string | undefined)[] = [undefined, undefined, 'granules seen', 'nucleoli, "large"'];

type Mode = 'mixed' | 'allExcluded' | 'reviewerOnly' | 'erythroid' | 'noErythroid' | 'excludedHeavy';
type Plan = 'draft' | 'sign' | 'signAmend' | 'signAmendResign';

interface Decision {
  label: CellClassCode;
  reviewer: string;
  note: string | null;
}

class Oracle extends DecisionStacks<Decision> {
  push(id: number, label: CellClassCode, reviewer: string, note?: string): void {
    this.add(id, { label, reviewer: reviewer.trim(), note: note?.trim() ? note.trim() : null });
  }
  pop(id: number): void {
    this.withdraw(id);
  }
}

/** What the test saw across all seeds; the run must reach every edge the brief names. */
const coverage = {
  states: 0,
  pdfs: 0,
  ndcZero: 0,
  meUndefinedWithNdc: 0,
  meDefined: 0,
  reviewerOnlyCounted: 0,
  excludedCounted: 0,
  blastEquivalentFgc: 0,
  signed: 0,
  signedWithOverride: 0,
  signedWithoutOverride: 0,
  amendedDraft: 0,
  amendedResigned: 0,
  undos: 0,
  confirms: 0,
  reclassifications: 0,
};

describe('PDF report, CSV per class, CSV per cell and JSON agree with the service for random review states (seeded)', () => {
  let fx: ServiceFixture;
  let out: string;
  let modelClasses: CellClassCode[] = [];

  beforeAll(async () => {
    fx = await startService('report-consistency');
    out = join(fx.root, 'out');
    mkdirSync(out, { recursive: true });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  async function analysedCase(name: string): Promise<{ caseId: number; cells: CellView[] }> {
    const { detail, cells } = await analysedFixtureCase(fx, name);
    modelClasses = detail.model!.classes;
    return { caseId: detail.id, cells };
  }

  function pickLabel(rng: Rng, mode: Mode): CellClassCode {
    const reviewerOnly = CELL_CLASS_CODES.filter((c) => !modelClasses.includes(c));
    const noErythroid = CELL_CLASS_CODES.filter((c) => !ERYTHROID.includes(c));
    switch (mode) {
      case 'allExcluded':
      case 'excludedHeavy':
        return rng.chance(0.6) ? rng.pick(EXCLUDED) : rng.pick(CELL_CLASS_CODES);
      case 'reviewerOnly':
        return rng.chance(0.7) ? rng.pick(reviewerOnly) : rng.pick(CELL_CLASS_CODES);
      case 'erythroid':
        return rng.chance(0.4) ? rng.pick(ERYTHROID) : rng.pick(CELL_CLASS_CODES);
      case 'noErythroid':
        return rng.pick(noErythroid);
      case 'mixed':
        return rng.chance(0.3) ? rng.pick(['FGC', 'PLM', 'KSC', 'OTH'] as const) : rng.pick(CELL_CLASS_CODES);
    }
  }

  /** One random review operation through the service, mirrored in the oracle. */
  async function randomOperation(caseId: number, oracle: Oracle, rng: Rng, mode: Mode): Promise<void> {
    const reviewer = rng.pick(REVIEWERS);
    const withDecision = oracle.ids.filter((id) => oracle.decision(id) !== null);
    const roll = rng.int(100);
    if (roll < 25 && withDecision.length > 0) {
      const id = rng.pick(withDecision);
      const view = await (await fx.as(reviewer)).undoReview({ caseId, imageId: id });
      oracle.pop(id);
      expect(view.effectiveLabel).toBe(oracle.effective(id));
      coverage.undos++;
    } else if (roll < 45) {
      const ids = rng.sample(oracle.ids, 1 + rng.int(4));
      if (rng.chance(0.3)) ids.push(ids[0]!); // a cell listed twice is confirmed once
      const views = await (await fx.as(reviewer)).confirmCells({ caseId, imageIds: ids });
      for (const id of new Set(ids)) oracle.push(id, oracle.effective(id), reviewer);
      for (const v of views) expect(v.effectiveLabel).toBe(oracle.effective(v.imageId));
      coverage.confirms++;
    } else {
      const id = rng.pick(oracle.ids);
      const label = pickLabel(rng, mode);
      const note = rng.pick(NOTES);
      const view = await (await fx.as(reviewer)).reviewCell({ caseId, imageId: id, label, ...(note === undefined ? {} : { note }) });
      oracle.push(id, label, reviewer, note);
      expect(view.effectiveLabel).toBe(label);
      coverage.reclassifications++;
    }
  }

  /** Reclassifies every cell still in the NDC into an excluded class, leaving the NDC empty. */
  async function excludeEverything(caseId: number, oracle: Oracle, rng: Rng): Promise<void> {
    for (const id of oracle.ids) {
      if (!CELL_CLASSES[oracle.effective(id)].inNucleatedDifferential) continue;
      const label = rng.pick(EXCLUDED);
      const reviewer = rng.pick(REVIEWERS);
      await (await fx.as(reviewer)).reviewCell({ caseId, imageId: id, label });
      oracle.push(id, label, reviewer);
    }
  }

  async function signOff(caseId: number, oracle: Oracle, rng: Rng, where: string): Promise<CaseDetail> {
    // Sometimes the reviewer first confirms every flagged cell still unreviewed, so nothing needs overriding.
    if (rng.chance(0.4)) {
      const pending = await fx.service.listCells({ caseId, scope: 'unreviewed', limit: 100 });
      if (pending.total > 0) {
        const reviewer = rng.pick(REVIEWERS);
        await (await fx.as(reviewer)).confirmCells({ caseId, imageIds: pending.cells.map((c) => c.imageId) });
        for (const c of pending.cells) oracle.push(c.imageId, oracle.effective(c.imageId), reviewer);
      }
    }
    const { review } = await fx.service.getDifferential(caseId);
    const unreviewed = review.flagged - review.flaggedReviewed;
    const signer = rng.pick(['Dr B. Haematologist', 'Dr E. Pathologist']);
    if (unreviewed > 0) {
      const refused = await (await fx.as(signer)).authoriseCase({ password: PERSON_PASSWORD, caseId }).then(
        () => null,
        (e: unknown) => toApiError(e),
      );
      expect(refused?.kind, `${where}: sign-off without a reason while ${unreviewed} flagged cells are unreviewed`).toBe('unreviewed');
    }
    const reason = unreviewed > 0 || rng.chance(0.5) ? `Reviewed at the microscope (${where})` : undefined;
    const detail = await (
      await fx.as(signer)
    ).authoriseCase({ password: PERSON_PASSWORD, caseId, ...(reason === undefined ? {} : { overrideReason: reason }) });
    expect(detail.status).toBe('signed');
    // A signed case refuses every review until amended.
    const locked = await (await fx.as(signer)).reviewCell({ caseId, imageId: oracle.ids[0]!, label: 'BLA' }).then(
      () => null,
      (e: unknown) => toApiError(e),
    );
    expect(locked?.kind).toBe('locked');
    return detail;
  }

  /** Produces the four outputs of the case as it stands and compares each with getDifferential and listCells. */
  async function checkOutputs(caseId: number, oracle: Oracle, where: string, withPdf: boolean): Promise<CaseDifferential> {
    coverage.states++;
    const service = await fx.service.getDifferential(caseId);
    const d: Differential = service.differential;
    const page = await fx.service.listCells({ caseId, scope: 'all', limit: 100 });
    const detail = await fx.service.getCase(caseId);
    const cells = page.cells;

    // The service against the oracle: each cell's decision and effective label, and the differential recomputed
    // from the oracle's labels (by hand for NDC, total and blasts).
    expect(page.total, where).toBe(oracle.ids.length);
    expect(
      cells.map((c) => c.imageId).sort((a, b) => a - b),
      where,
    ).toEqual([...oracle.ids].sort((a, b) => a - b));
    for (const c of cells) {
      const expected = oracle.decision(c.imageId);
      expect(c.effectiveLabel, `${where}: cell ${c.imageId}`).toBe(oracle.effective(c.imageId));
      expect(
        c.decision === null ? null : { label: c.decision.label, reviewer: c.decision.reviewer, note: c.decision.note },
        `${where}: cell ${c.imageId}`,
      ).toEqual(expected);
    }
    const counts = oracle.counts();
    expect(d, `${where}: differential`).toEqual(computeDifferential(counts, { modelClasses }));
    const labels = oracle.ids.map((id) => oracle.effective(id));
    const ndc = labels.filter((l) => !EXCLUDED.includes(l)).length;
    expect(d.nucleatedDifferentialCount, where).toBe(ndc);
    expect(d.totalCellsCounted, where).toBe(labels.length);
    expect(d.blast.count, where).toBe(labels.filter((l) => l === 'BLA' || l === 'FGC').length);
    const flaggedCells = cells.filter((c) => c.flagged);
    expect(service.review, where).toEqual({
      flagged: flaggedCells.length,
      flaggedReviewed: flaggedCells.filter((c) => c.decision !== null).length,
      reviewed: cells.filter((c) => c.decision !== null).length,
      reclassified: cells.filter((c) => c.decision !== null && c.decision.label !== c.predicted).length,
    });

    if (ndc === 0) coverage.ndcZero++;
    if (ndc > 0 && d.meRatio.ratio === null) coverage.meUndefinedWithNdc++;
    if (d.meRatio.ratio !== null) coverage.meDefined++;
    if (d.rows.some((r) => !r.assessedByModel && r.count > 0)) coverage.reviewerOnlyCounted++;
    if (d.excluded.some((e) => e.count > 0)) coverage.excludedCounted++;
    if ((counts.FGC ?? 0) > 0) coverage.blastEquivalentFgc++;

    // ---- CSV per class -----------------------------------------------------------------------------------------
    const classesPath = join(out, `${caseId}-${coverage.states}-classes.csv`);
    await fx.service.exportCase({ caseId, format: 'csv-classes', path: classesPath });
    const classRows = csvObjects(readFileSync(classesPath, 'utf8'), CLASSES_HEADER);
    expect(
      classRows.map((r) => r['code']),
      `${where}: class rows`,
    ).toEqual(d.rows.map((r) => r.code));
    const per100 = new Map(d.excluded.map((e) => [e.code, e.per100Ndc]));
    for (const row of d.rows) {
      const csv = classRows.find((r) => r['code'] === row.code)!;
      expect(csv, `${where}: classes CSV ${row.code}`).toEqual({
        code: row.code,
        name: row.name,
        count: String(row.count),
        percent_of_ndc: row.percentOfNdc === null ? '' : oneDecimal(row.percentOfNdc),
        ci95_low_percent: row.ci95 === null ? '' : oneDecimal(row.ci95.lower),
        ci95_high_percent: row.ci95 === null ? '' : oneDecimal(row.ci95.upper),
        in_ndc: String(row.inNdc),
        per_100_ndc: row.inNdc || per100.get(row.code) === null ? '' : oneDecimal(per100.get(row.code)!),
        assessed_by_model: String(modelClasses.includes(row.code)),
        provisional_unreviewed: String(
          cells.filter((c) => c.decision === null && c.predicted === row.code && detail.model!.provisionalClasses.includes(c.predicted)).length,
        ),
        case_status: STATUS_WORDS[detail.status],
      });
      // Percentages are of the NDC, by hand.
      if (row.inNdc && ndc > 0 && (modelClasses.includes(row.code) || row.count > 0)) {
        expect(csv['percent_of_ndc'], `${where}: ${row.code} % by hand`).toBe(oneDecimal(((counts[row.code] ?? 0) / ndc) * 100));
      }
      if (!row.inNdc) expect(csv['percent_of_ndc'], `${where}: excluded ${row.code} has no % of NDC`).toBe('');
    }
    const csvNdc = classRows.filter((r) => r['in_ndc'] === 'true').reduce((s, r) => s + Number(r['count']), 0);
    expect(csvNdc, `${where}: NDC from the classes CSV`).toBe(d.nucleatedDifferentialCount);
    expect(
      classRows.reduce((s, r) => s + Number(r['count']), 0),
      `${where}: total from the classes CSV`,
    ).toBe(d.totalCellsCounted);

    // ---- CSV per cell ------------------------------------------------------------------------------------------
    const cellsPath = join(out, `${caseId}-${coverage.states}-cells.csv`);
    await fx.service.exportCase({ caseId, format: 'csv-cells', path: cellsPath });
    const cellRows = csvObjects(readFileSync(cellsPath, 'utf8'), CELLS_HEADER);
    expect(cellRows, `${where}: one row per cell`).toHaveLength(cells.length);
    expect(new Set(cellRows.map((r) => r['image_id'])).size, `${where}: every cell once`).toBe(cells.length);
    for (const c of cells) {
      const row = cellRows.find((r) => r['image_id'] === String(c.imageId));
      expect(row, `${where}: cell ${c.imageId} in the cells CSV`).toBeDefined();
      expect(row, `${where}: cells CSV ${c.imageId}`).toEqual({
        image_id: String(c.imageId),
        file: csvSafe(c.file),
        predicted: c.predicted,
        confidence: c.confidence.toFixed(4),
        flagged: String(c.flagged),
        flag_reasons: csvSafe(c.flagReasons.map(flagReasonText).join('; ')),
        reviewed_label: c.decision?.label ?? '',
        reviewer: csvSafe(c.decision?.reviewer ?? ''),
        reviewed_at: c.decision?.at ?? '',
        review_note: csvSafe(c.decision?.note ?? ''),
        effective_label: c.effectiveLabel,
        case_status: STATUS_WORDS[detail.status],
      });
    }
    const tally: ClassCounts = {};
    for (const r of cellRows) tally[r['effective_label'] as CellClassCode] = (tally[r['effective_label'] as CellClassCode] ?? 0) + 1;
    for (const row of d.rows) expect(tally[row.code] ?? 0, `${where}: cells CSV tally ${row.code}`).toBe(row.count);

    // ---- JSON: the unrounded figures -----------------------------------------------------------------------------
    const jsonPath = join(out, `${caseId}-${coverage.states}.json`);
    await fx.service.exportCase({ caseId, format: 'json', path: jsonPath });
    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
      case: { id: number; status: string };
      differential: Differential;
      review: Record<string, unknown>;
      cells: (Omit<CellView, 'imageUrl' | 'top'> & { probabilities: Record<string, number> })[];
      signOffs: { signedBy: string; role: string; overrideReason: string | null }[];
      amendments: unknown[];
    };
    expect(json.case).toMatchObject({ id: caseId, status: detail.status });
    expect(json.differential, `${where}: JSON differential`).toEqual(d);
    expect(json.review, `${where}: JSON review`).toEqual({
      ...service.review,
      agreementPercent: service.review.reviewed > 0 ? ((service.review.reviewed - service.review.reclassified) / service.review.reviewed) * 100 : null,
      flagReasons: countFlagReasons(cells.filter((c) => c.flagged).map((c) => ({ reasons: c.flagReasons, reviewed: c.decision !== null }))),
    });
    expect(json.cells, `${where}: JSON cells`).toHaveLength(cells.length);
    for (const c of cells) {
      const j = json.cells.find((x) => x.imageId === c.imageId);
      expect(j, `${where}: JSON cell ${c.imageId}`).toBeDefined();
      const { probabilities, ...rest } = j!;
      // The version is the screen's (concurrency), not part of an export.
      const { imageUrl: _url, top, version: _version, ...expected } = c;
      void _url;
      expect(rest, `${where}: JSON cell ${c.imageId}`).toEqual(expected);
      expect(Object.keys(probabilities).sort()).toEqual([...modelClasses].sort());
      expect(probabilities[top[0]!.code], `${where}: JSON cell ${c.imageId} top probability`).toBe(top[0]!.probability);
    }
    expect(
      json.signOffs.map((s) => s.signedBy),
      `${where}: JSON sign-offs`,
    ).toEqual(detail.signOffs.map((s) => s.signedBy));
    expect(json.amendments, `${where}: JSON amendments`).toHaveLength(detail.amendments.length);

    if (withPdf) checkPdf(await pdfOf(caseId), d, service, detail, where);
    return service;
  }

  async function pdfOf(caseId: number): Promise<string> {
    coverage.pdfs++;
    const path = join(out, `${caseId}-${coverage.states}.pdf`);
    const saved = await fx.service.saveReport({ caseId, path });
    expect(saved.path).toBe(path);
    return path;
  }

  function checkPdf(path: string, d: Differential, service: CaseDifferential, detail: CaseDetail, where: string): void {
    const pages = pdfPages(path);
    const text = pages.join('\n');
    const f = flat(text);
    const signed = detail.status === 'signed';

    // Every row of the nucleated differential: code, name, count, % of NDC and 95% CI as rounded for print.
    for (const row of d.rows.filter((r) => r.inNdc)) {
      // A class the model cannot output reads "reviewer-assigned" once a reviewer put cells there.
      const note = !row.assessedByModel ? [row.count > 0 ? 'reviewer-assigned' : 'not assessable by model'] : row.flagged ? ['describe before sign-off'] : [];
      expect(text, `${where}: PDF row ${row.code}`).toMatch(
        rowPattern([row.code, row.name, String(row.count), pct(row.percentOfNdc), interval(row.ci95), ...note]),
      );
    }
    for (const e of d.excluded) {
      expect(text, `${where}: PDF excluded ${e.code}`).toMatch(
        rowPattern([e.code, e.assessedByModel ? e.name : `${e.name} (reviewer only)`, String(e.count), e.per100Ndc === null ? NA : oneDecimal(e.per100Ndc)]),
      );
    }
    const ndc = d.nucleatedDifferentialCount;
    expect(text, `${where}: PDF NDC row`).toMatch(rowPattern(['NDC', 'Total (nucleated cells)', String(ndc), ndc > 0 ? '100.0%' : NA]));
    expect(text, `${where}: PDF total row`).toMatch(rowPattern(['Total cells counted', String(d.totalCellsCounted), 'NDC + excluded']));

    // Headline figures.
    expect(f).toContain(`Total cells counted ${d.totalCellsCounted}`);
    expect(f).toContain(`Nucleated differential count (NDC) ${ndc} — ${d.countTarget.note}`);
    expect(f).toContain(`Excluded from NDC ${d.excluded.reduce((s, e) => s + e.count, 0)} (`);
    const blast =
      d.blast.percentage === null
        ? `Blast percentage ${NA} (undefined: ${ndc === 0 ? 'no nucleated cells counted' : 'blasts not assessable by the model'})`
        : `Blast percentage ${pct(d.blast.percentage)} (95% CI ${interval(d.blast.ci95)}) — ${d.blast.count} of ${ndc} nucleated cells (BLA + FGC)`;
    expect(f, `${where}: PDF blasts`).toContain(blast);
    if (ndc > 0) expect(d.blast.percentage, where).toBe((d.blast.count / ndc) * 100);
    // The figure is printed once; each threshold line says only what it adds, and an uninformative "below" is left out.
    const informative = informativeBlastAdvisories(d.blast.advisories);
    for (const advisory of d.blast.advisories) {
      const line = `${advisory.note.charAt(0).toUpperCase()}${advisory.note.slice(1)}`;
      if (informative.includes(advisory)) expect(f, `${where}: advisory ${advisory.threshold}`).toContain(line);
      else expect(f, `${where}: advisory ${advisory.threshold} says nothing`).not.toContain(line);
    }
    expect(f, `${where}: the blast figure is not repeated in the advisories`).not.toContain('• Blasts');
    const me = d.meRatio;
    expect(f, `${where}: PDF M:E`).toContain(
      me.ratio === null
        ? `M:E ratio undefined (myeloid ${me.myeloid}, erythroid ${me.erythroid}): ${me.undefinedReason}`
        : `M:E ratio ${oneDecimal(me.ratio)} : 1 (myeloid ${me.myeloid}, erythroid ${me.erythroid})`,
    );
    if (me.ratio !== null) expect(me.ratio).toBe(me.myeloid / me.erythroid);
    for (const warning of d.warnings) expect(f, `${where}: warning`).toContain(warning);

    // Review statistics.
    const r = service.review;
    expect(f).toContain(`Cells classified by the model ${d.totalCellsCounted}`);
    expect(f).toContain(`Flagged for review ${r.flagged} (${r.flaggedReviewed} reviewed, ${r.flagged - r.flaggedReviewed} not reviewed)`);
    expect(f).toContain(`Cells reviewed ${r.reviewed}`);
    expect(f).toContain(`Cells reclassified ${r.reclassified}`);

    // DRAFT iff unsigned; the signer iff signed.
    const title = pdfInfo(path)['Title'] ?? '';
    const signedBy = [...f.matchAll(/Signed by (.*?) —/g)].map((m) => m[1]);
    if (signed) {
      for (const [i, p] of pages.entries()) expect(p, `${where}: page ${i + 1} of a signed report`).not.toMatch(/draft/i);
      expect(title).not.toMatch(/DRAFT/);
      const current = detail.signOffs[detail.signOffs.length - 1]!;
      expect(f, `${where}: signer`).toContain(`Signed by ${current.signedBy}, ${current.role} — ${utc(current.signedAt)}`);
      expect(f).toContain(`Signed ${utc(current.signedAt)}`);
      expect(signedBy).toEqual([`${current.signedBy}, ${current.role}`]);
      if (current.overrideReason !== null) {
        expect(f).toContain(`Override reason signed with flagged cells unreviewed: ${current.overrideReason}`);
      } else expect(f).not.toContain('Override reason');
    } else {
      for (const [i, p] of pages.entries()) expect(p, `${where}: page ${i + 1} of an unsigned report`).toContain('DRAFT');
      expect(title).toMatch(/\(DRAFT\)$/);
      expect(f).toContain('Signed not signed (DRAFT)');
      expect(signedBy).toEqual(['not signed']);
      expect(f).not.toContain('Override reason');
    }
    // Earlier sign-offs (amended) and amendments are listed, never as the sign-off in force.
    const earlier = signed ? detail.signOffs.slice(0, -1) : detail.signOffs;
    expect(f.match(/Earlier sign-off /g)?.length ?? 0, `${where}: earlier sign-offs`).toBe(earlier.length);
    for (const s of earlier) expect(f).toContain(`Earlier sign-off ${s.signedBy}, ${s.role} — ${utc(s.signedAt)} (superseded by amendment)`);
    for (const a of detail.amendments) expect(f).toContain(`Amended ${a.by} — ${utc(a.at)}: ${a.reason}`);
  }

  const SEEDS: { seed: number; mode: Mode; plan: Plan }[] = [
    { seed: 1, mode: 'mixed', plan: 'signAmendResign' },
    { seed: 2, mode: 'allExcluded', plan: 'sign' },
    { seed: 0x5eed, mode: 'reviewerOnly', plan: 'draft' },
    { seed: 0xc0ffee, mode: 'erythroid', plan: 'signAmend' },
    { seed: 42, mode: 'noErythroid', plan: 'sign' },
    { seed: 7, mode: 'excludedHeavy', plan: 'signAmendResign' },
    { seed: 0xbeef, mode: 'mixed', plan: 'draft' },
    { seed: 2026, mode: 'allExcluded', plan: 'signAmend' },
  ];

  for (const { seed, mode, plan } of SEEDS) {
    it(`seed ${seed} (${mode}, ${plan}): all four outputs print the service's figures`, async () => {
      const rng = new Rng(seed);
      const { caseId, cells } = await analysedCase(`rc-${seed}`);
      const oracle = new Oracle(new Map(cells.map((c) => [c.imageId, c.predicted])));
      const total = 5 + rng.int(26);
      const first = plan === 'draft' ? total : Math.max(3, Math.floor(total * 0.6));
      for (let n = 0; n < first; n++) await randomOperation(caseId, oracle, rng, mode);
      if (mode === 'allExcluded') await excludeEverything(caseId, oracle, rng);
      if (plan === 'draft') {
        await checkOutputs(caseId, oracle, `seed ${seed} draft`, true);
        return;
      }
      await checkOutputs(caseId, oracle, `seed ${seed} before sign-off`, false);
      const signedDetail = await signOff(caseId, oracle, rng, `seed ${seed} sign-off 1`);
      const override = signedDetail.signOffs[signedDetail.signOffs.length - 1]!.overrideReason;
      if (override === null) coverage.signedWithoutOverride++;
      else coverage.signedWithOverride++;
      coverage.signed++;
      // The signed state gets a PDF when it is the final one, or when it is about to be amended.
      await checkOutputs(caseId, oracle, `seed ${seed} signed`, plan === 'sign' || plan === 'signAmend');
      if (plan === 'sign') return;

      await fx.service.amendCase({ caseId, reason: `Second look at seed ${seed}` });
      for (let n = first; n < total; n++) {
        if (mode === 'allExcluded') {
          // Keep the NDC empty: only moves between excluded classes.
          const id = rng.pick(oracle.ids);
          const label = rng.pick(EXCLUDED);
          await (await fx.as('A. Technician')).reviewCell({ caseId, imageId: id, label });
          oracle.push(id, label, 'A. Technician');
        } else await randomOperation(caseId, oracle, rng, mode);
      }
      if (plan === 'signAmend') {
        coverage.amendedDraft++;
        await checkOutputs(caseId, oracle, `seed ${seed} amended`, true);
        return;
      }
      await checkOutputs(caseId, oracle, `seed ${seed} amended`, false);
      await signOff(caseId, oracle, rng, `seed ${seed} sign-off 2`);
      coverage.amendedResigned++;
      await checkOutputs(caseId, oracle, `seed ${seed} signed again`, true);
    });
  }

  it('reached every edge: NDC 0, M:E undefined and defined, reviewer-only and excluded classes, FGC, sign-off with and without override, amendments', () => {
    expect(coverage.states).toBeGreaterThanOrEqual(SEEDS.length * 2);
    expect(coverage.pdfs).toBeLessThanOrEqual(12);
    for (const key of Object.keys(coverage) as (keyof typeof coverage)[]) {
      expect(coverage[key], `coverage: ${key}`).toBeGreaterThan(0);
    }
  });
});
