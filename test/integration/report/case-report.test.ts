// The PDF report of a real case in a real SQLite database, read back with poppler (pdftotext -layout, pdfinfo,
// pdffonts): every figure printed must be the figure the database gives, and the hand-computed ones must match the
// published rules. Pages are also rendered to test-results/report/*.png for a person to look at.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, effectiveCountsByClass, getCase, getModel, openDatabase, reviewProgress, type MarrowDatabase } from '../../../src/main/db';
import { loadCaseReportData, writeCaseReport } from '../../../src/main/service/case-report';
import { computeDifferential, informativeBlastAdvisories, type Differential } from '../../../src/shared/differential';
import { formatInterval, formatMeRatio, formatPercent } from '../../../src/shared/format';
import { buildCase, cellsOf, setLab, type CellSpec } from './build-case';
import { flat, pdfFonts, pdfInfo, pdfPages, renderPngs } from './pdf-tools';
import { sqliteStore } from '../../../src/main/db/sqlite-repositories';

const LAB = 'St Elsewhere Haematology Laboratory';
const GENERATED_AT = '2026-11-27T11:00:00.000Z';
let root: string;
let db: MarrowDatabase;

/**
 * The main case: 200 nucleated cells + 10 excluded, after review. The model predicted 11 BLA, 29 MYB, 8 MMZ, 9 PMO;
 * the reviewer moved one BLA to PMO and two MYB to MMZ (3 reclassified) and confirmed 2 BLA and 1 LYT (3 confirmed).
 */
function mainCaseCells(): CellSpec[] {
  const flaggedLow = { confidence: 0.55, flagged: true };
  return [
    ...cellsOf({ BLA: 2 }, { ...flaggedLow, reviewedAs: 'BLA' }),
    ...cellsOf({ BLA: 8 }),
    ...cellsOf({ BLA: 1 }, { ...flaggedLow, reviewedAs: 'PMO' }),
    ...cellsOf({ PMO: 9 }),
    ...cellsOf({ MYB: 20 }),
    ...cellsOf({ MYB: 2 }, { ...flaggedLow, reviewedAs: 'MMZ' }),
    ...cellsOf({ MMZ: 8, NGB: 20, NGS: 46 }),
    ...cellsOf({ NGS: 4 }, { confidence: 0.5, flagged: true }),
    ...cellsOf({ EOS: 6, BAS: 2, MON: 12, LYT: 29 }),
    ...cellsOf({ LYT: 1 }, { ...flaggedLow, reviewedAs: 'LYT' }),
    ...cellsOf({ PLM: 4, PEB: 4, EBO: 20, OTH: 2, ART: 5, NIF: 3, KSC: 2 }),
  ];
}

interface Built {
  caseId: number;
  pdf: string;
  pages: string[];
  text: string;
  differential: Differential;
}

async function report(accession: string, name: string, spec: Omit<Parameters<typeof buildCase>[2], 'accession'>): Promise<Built> {
  const { caseId } = buildCase(db, root, { accession, ...spec });
  const pdf = join(root, `${name}.pdf`);
  const saved = await writeCaseReport(sqliteStore(db), caseId, pdf, { appVersion: '0.1.0-test', generatedAt: GENERATED_AT });
  expect(saved.path).toBe(pdf);
  expect(saved.bytes).toBeGreaterThan(1000);
  const caseRow = getCase(db, caseId);
  // The figures the database gives, computed independently of the report code.
  const differential = computeDifferential(effectiveCountsByClass(db, caseId), {
    modelClasses: getModel(db, caseRow.modelRowId!).classes,
  });
  const pages = pdfPages(pdf);
  renderPngs(pdf, name);
  return { caseId, pdf, pages, text: pages.join('\n'), differential };
}

/** A table row as pdftotext -layout prints it: the cells in order, separated by whitespace. */
function rowPattern(cells: readonly string[]): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
  return new RegExp(`^\\s*${cells.map(escape).join('\\s+')}(\\s|$)`, 'm');
}

let main: Built;
let signed: Built;
let noErythroid: Built;
let onlyExcluded: Built;
let large: Built;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'marrowcount-report-'));
  db = openDatabase(join(root, 'marrowcount.sqlite'));
  setLab(db, LAB);
  main = await report('BM-2026-0117', 'main-draft', {
    patient: { labId: 'MRN-0042', name: 'Doe, Jane', birthDate: '1961-04-12' },
    cells: mainCaseCells(),
    unreadableFiles: ['broken.jpg'],
  });
  signed = await report('BM-2026-0118', 'signed', {
    patient: { labId: 'MRN-0043', name: 'Roe, Richard' },
    modelId: 'lab-validated-model',
    cells: mainCaseCells(),
    amendFirst: { signedBy: 'Dr C. First', role: 'Consultant haematologist', by: 'Dr C. First', reason: 'Two cells reclassified after a second look' },
    signOff: { signedBy: 'Dr B. Haematologist', role: 'Consultant haematologist' },
  });
  noErythroid = await report('BM-2026-0119', 'no-erythroid', { cells: cellsOf({ BLA: 3, NGS: 60, LYT: 37 }) });
  onlyExcluded = await report('BM-2026-0120', 'only-excluded', { cells: cellsOf({ ART: 7, NIF: 2, KSC: 1 }) });
  // 20,000 cells; the counts follow the main case's proportions ×100.
  large = await report('BM-2026-0121', 'large-20000', {
    cells: cellsOf({
      BLA: 1000,
      PMO: 1000,
      MYB: 2000,
      MMZ: 1000,
      NGB: 2000,
      NGS: 5000,
      EOS: 600,
      BAS: 200,
      MON: 1200,
      LYT: 3000,
      PLM: 400,
      PEB: 400,
      EBO: 1600,
      OTH: 200,
      ART: 200,
      NIF: 100,
      KSC: 100,
    }),
  });
}, 240_000);

afterAll(() => {
  if (db) closeDatabase(db);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('case report figures', () => {
  it('prints the hand-computed headline figures of the main case', () => {
    const text = flat(main.text);
    expect(text).toContain('Total cells counted 210');
    expect(text).toMatch(/Nucleated differential count \(NDC\) 200 —/);
    // Blasts: 10 of 200 = 5.0%; Wilson 95% interval 2.738–8.958% (Wilson 1927, z = 1.96).
    expect(text).toContain('5.0% (95% CI 2.7–9.0%) — 10 of 200 nucleated cells (BLA + FGC)');
    // M:E (blasts on the myeloid side): myeloid 10+10+20+10+20+50+6+2+12 = 140, erythroid 4+20 = 24, 5.83.
    expect(text).toContain('5.8 : 1 (myeloid 140, erythroid 24)');
    expect(main.text).toMatch(rowPattern(['NGS', 'segmented neutrophil', '50', '25.0%', '19.5–31.4%']));
    expect(main.text).toMatch(rowPattern(['EBO', 'erythroblast', '20', '10.0%', '6.6–14.9%']));
    expect(main.text).toMatch(rowPattern(['HAC', 'hairy cell', '0', '0.0%', '0.0–1.9%']));
    // Excluded, per 100 NDC cells: 5/200, 3/200, 2/200.
    expect(main.text).toMatch(rowPattern(['ART', 'artefact', '5', '2.5']));
    expect(main.text).toMatch(rowPattern(['NIF', 'not identifiable', '3', '1.5']));
    expect(main.text).toMatch(rowPattern(['KSC', 'smudge cell', '2', '1.0']));
    expect(main.text).toMatch(rowPattern(['NDC', 'Total (nucleated cells)', '200', '100.0%']));
    expect(main.text).toMatch(rowPattern(['Total cells counted', '210']));
  });

  it('prints every class row, the blast figures, advisories and M:E exactly as the database gives them', () => {
    for (const { name, built } of [
      { name: 'main', built: main },
      { name: 'signed', built: signed },
      { name: 'no erythroid', built: noErythroid },
      { name: 'large', built: large },
    ]) {
      const d = built.differential;
      const text = flat(built.text);
      for (const row of d.rows.filter((r) => r.inNdc)) {
        expect(built.text, `${name}: row ${row.code}`).toMatch(
          rowPattern([row.code, row.name, String(row.count), formatPercent(row.percentOfNdc), formatInterval(row.ci95)]),
        );
      }
      for (const e of d.excluded) {
        expect(built.text, `${name}: excluded ${e.code}`).toMatch(
          rowPattern([e.code, e.name, String(e.count), e.per100Ndc === null ? '—' : e.per100Ndc.toFixed(1)]),
        );
      }
      expect(text).toContain(`Total cells counted ${d.totalCellsCounted}`);
      expect(text).toContain(`Nucleated differential count (NDC) ${d.nucleatedDifferentialCount}`);
      expect(text).toContain(`Excluded from NDC ${d.excluded.reduce((s, e) => s + e.count, 0)} (`);
      expect(text).toContain(
        `${formatPercent(d.blast.percentage)} (95% CI ${formatInterval(d.blast.ci95)}) — ${d.blast.count} of ${d.nucleatedDifferentialCount} nucleated cells`,
      );
      for (const advisory of informativeBlastAdvisories(d.blast.advisories)) {
        expect(text, `${name}: advisory ${advisory.threshold}`).toContain(`${advisory.note.charAt(0).toUpperCase()}${advisory.note.slice(1)}`);
      }
      if (d.meRatio.ratio !== null) {
        expect(text).toContain(`${formatMeRatio(d.meRatio.ratio)} (myeloid ${d.meRatio.myeloid}, erythroid ${d.meRatio.erythroid})`);
      }
      expect(text).toContain(`M:E convention: ${d.meRatio.convention}`);
      expect(text).toContain(d.countTarget.note);
      for (const warning of d.warnings) expect(text, `${name}: warning`).toContain(warning);
    }
  });

  it('prints the case details, dates and the lab name from settings', () => {
    const text = flat(main.text);
    const caseRow = getCase(db, main.caseId);
    expect(text).toContain(LAB);
    expect(text).toContain('Patient ID MRN-0042');
    expect(text).toContain('Accession BM-2026-0117');
    expect(text).toContain('Patient name Doe, Jane');
    expect(text).toContain('Specimen Bone marrow aspirate');
    expect(text).toContain('Birth date 1961-04-12');
    const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
    expect(text).toContain(`Analysed ${utc(caseRow.analysedAt!)}`);
    expect(text).toMatch(/Reviewed \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(text).toContain('Signed not signed (DRAFT)');
    expect(text).toContain('1 image in the case folder could not be read and is not counted.');
  });

  it('prints the review statistics: 6 reviewed, 3 reclassified, 50.0% agreement', () => {
    const progress = reviewProgress(db, main.caseId);
    expect(progress).toMatchObject({ reviewed: 6, reclassified: 3, flagged: 10, flaggedReviewed: 6 });
    const text = flat(main.text);
    expect(text).toContain('Cells classified by the model 210');
    expect(text).toContain('Flagged for review 10 (6 reviewed, 4 not reviewed)');
    expect(text).toContain('Cells reviewed 6');
    expect(text).toContain('Cells reclassified 3');
    expect(text).toContain("Model–reviewer agreement 50.0% (3 of 6 reviewed cells kept the model's label)");
  });

  it('prints the model id, version, full SHA-256 and the rules version', () => {
    const caseRow = getCase(db, main.caseId);
    const model = getModel(db, caseRow.modelRowId!);
    const text = flat(main.text);
    expect(text).toContain(`id ${model.modelId}, version ${model.version}`);
    expect(text).toContain(`Model SHA-256 ${model.sha256}`);
    expect(text).toContain(`Counting rules ${main.differential.rulesVersion}`);
  });

  it('names the reviewer with role and time, and the signer with role and time once signed', async () => {
    expect(flat(main.text)).toMatch(/Reviewed by A\. Technician, recorded name, before accounts — \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(flat(main.text)).toContain('Signed by not signed — this report is a DRAFT');
    const data = await loadCaseReportData(sqliteStore(db), signed.caseId);
    expect(data.signOff?.signedBy).toBe('Dr B. Haematologist');
    const signedAt = data.signOff!.signedAt;
    const text = flat(signed.text);
    expect(text).toContain(`Signed by Dr B. Haematologist, Consultant haematologist — ${signedAt.slice(0, 10)} ${signedAt.slice(11, 16)} UTC`);
    expect(text).toContain('Amended Dr C. First');
    expect(text).toContain('Two cells reclassified after a second look');
    expect(text).toMatch(/Earlier sign-off Dr C\. First, Consultant haematologist — .* \(superseded by amendment\)/);
  });

  it('numbers every page "Page N of M"', () => {
    for (const built of [main, signed, noErythroid, onlyExcluded, large]) {
      const pages = Number(pdfInfo(built.pdf)['Pages']);
      expect(built.pages).toHaveLength(pages);
      built.pages.forEach((page, i) => expect(page).toContain(`Page ${i + 1} of ${pages}`));
      built.pages.forEach((page) => expect(page).toContain(`Patient ${getCase(db, built.caseId).patientLabId}`));
    }
  });

  it('marks every page of an unsigned case DRAFT and no page of a signed one', () => {
    for (const page of main.pages) expect(page).toContain('DRAFT');
    for (const page of signed.pages) expect(page).not.toMatch(/draft/i);
  });

  it('carries the not-for-diagnostic-use disclaimer on every page unless a model manifest clears the model', () => {
    expect(flat(main.pages[0]!)).toContain('NOT FOR DIAGNOSTIC USE');
    for (const page of main.pages) expect(page).toContain('Not for diagnostic use');
    // No manifest of the lab model is given, so nothing clears it (research-only-rule.test.ts covers a cleared one).
    expect(flat(signed.pages[0]!)).toContain('NOT FOR DIAGNOSTIC USE');
  });

  it('embeds every font it uses', () => {
    for (const built of [main, signed]) {
      const fonts = pdfFonts(built.pdf);
      expect(fonts.length).toBeGreaterThan(0);
      for (const font of fonts) expect(font, font.name).toMatchObject({ embedded: true });
      expect(fonts.map((f) => f.name).join(' ')).toMatch(/DejaVuSans/);
    }
  });

  it('shows the blast gallery with counts of what is shown', () => {
    expect(flat(main.text)).toContain('Gallery: blasts and blast equivalents (BLA, FGC)');
    expect(flat(main.text)).toContain('10 cells.');
    expect(flat(large.text)).toContain('12 of 1000 cells shown');
  });
});

describe('edge cases produce valid reports', () => {
  it('states M:E undefined with its reason when no erythroid cell was counted', () => {
    expect(pdfInfo(noErythroid.pdf)['Pages']).toMatch(/^\d+$/);
    expect(noErythroid.differential.meRatio.ratio).toBeNull();
    expect(flat(noErythroid.text)).toContain(`M:E ratio undefined (myeloid 63, erythroid 0): ${noErythroid.differential.meRatio.undefinedReason}`);
  });

  it('reports a case with only excluded cells: 10 counted, NDC 0, every percentage undefined', () => {
    expect(Number(pdfInfo(onlyExcluded.pdf)['Pages'])).toBeGreaterThan(0);
    const text = flat(onlyExcluded.text);
    expect(text).toContain('Total cells counted 10');
    expect(text).toContain('Nucleated differential count (NDC) 0 —');
    expect(text).toContain('Blast percentage — (undefined: no nucleated cells counted)');
    expect(text).toContain('No nucleated cells counted: there is no differential to chart.');
    expect(onlyExcluded.text).toMatch(rowPattern(['ART', 'artefact', '7', '—']));
  });

  it('reports a 20,000-cell case', () => {
    expect(large.differential.totalCellsCounted).toBe(20_000);
    expect(flat(large.text)).toContain('Total cells counted 20000');
    // 1000 blasts of 19,600 nucleated cells = 5.102%.
    expect(flat(large.text)).toContain('5.1% (95% CI');
    expect(Number(pdfInfo(large.pdf)['Pages'])).toBeLessThanOrEqual(4);
  });
});
