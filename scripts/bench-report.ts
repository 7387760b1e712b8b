// Report benchmark: builds a 20,000-cell case (10% reviewed) in a temporary SQLite file and prints how long the
// PDF report and the exports take: the first report in a fresh process (fonts parsed, code warmed up) and then
// the median of further runs, split into reading the database, decoding thumbnails and laying out the PDF.
// Figures only; correctness is asserted by test/integration/report.
//   scripts/with-node.sh npx tsx scripts/bench-report.ts [cells] [runs]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDatabase, openDatabase } from '../src/main/db';
import { locateReportFonts } from '../src/main/report/fonts';
import { renderCaseReportPdf } from '../src/main/report/render-pdf';
import { makeThumbnails } from '../src/main/report/thumbnails';
import { writeCaseExport } from '../src/main/service/case-exports';
import { loadCaseReportData, writeCaseReport } from '../src/main/service/case-report';
import type { CellClassCode } from '../src/shared/cell-classes';
import { buildCase, setLab, type CellSpec } from '../test/integration/report/build-case';
import { sqliteStore } from '../src/main/db/sqlite-repositories';

const CELLS = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 5);

// Proportions of a typical marrow (per 200 cells), excluded classes included.
const MIX: [CellClassCode, number][] = [
  ['BLA', 10],
  ['PMO', 10],
  ['MYB', 20],
  ['MMZ', 10],
  ['NGB', 20],
  ['NGS', 48],
  ['EOS', 6],
  ['BAS', 2],
  ['MON', 12],
  ['LYT', 30],
  ['PLM', 4],
  ['PEB', 4],
  ['EBO', 20],
  ['OTH', 2],
  ['ART', 1],
  ['NIF', 1],
];

function cells(n: number): CellSpec[] {
  const pool = MIX.flatMap(([code, k]) => Array.from({ length: k }, () => code));
  return Array.from({ length: n }, (_, i) => {
    const predicted = pool[i % pool.length]!;
    const uncertain = i % 10 === 0;
    return {
      predicted,
      confidence: uncertain ? 0.5 : 0.93,
      flagged: uncertain,
      ...(uncertain ? { reviewedAs: i % 30 === 0 ? 'NGS' : predicted } : {}),
    };
  });
}

const ms = (t0: number) => performance.now() - t0;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const root = mkdtempSync(join(tmpdir(), 'marrowcount-bench-report-'));
const db = openDatabase(join(root, 'bench.sqlite'));
try {
  setLab(db, 'Benchmark Lab');
  let t0 = performance.now();
  const { caseId } = buildCase(db, root, { accession: 'BENCH-1', cells: cells(CELLS) });
  console.log(`built a ${CELLS}-cell case in ${ms(t0).toFixed(0)} ms (not part of the report time)`);

  t0 = performance.now();
  const first = await writeCaseReport(sqliteStore(db), caseId, join(root, 'first.pdf'), { appVersion: 'bench' });
  console.log(`first report in this process (cold): ${ms(t0).toFixed(0)} ms, ${(first.bytes / 1024).toFixed(0)} KiB`);

  const load: number[] = [];
  const thumbs: number[] = [];
  const render: number[] = [];
  const total: number[] = [];
  const fonts = locateReportFonts();
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const data = await loadCaseReportData(sqliteStore(db), caseId, { appVersion: 'bench' });
    load.push(ms(start));
    t0 = performance.now();
    const thumbnails = await makeThumbnails([...data.gallery.blasts, ...data.gallery.flagged].map((c) => c.imagePath));
    thumbs.push(ms(t0));
    t0 = performance.now();
    await renderCaseReportPdf(data, { fonts, thumbnails });
    render.push(ms(t0));
    total.push(ms(start));
  }
  console.log(
    `report, median of ${RUNS} warm runs: ${median(total).toFixed(0)} ms ` +
      `(database ${median(load).toFixed(0)} ms, thumbnails ${median(thumbs).toFixed(0)} ms, PDF ${median(render).toFixed(0)} ms)`,
  );

  for (const format of ['csv-classes', 'csv-cells', 'json'] as const) {
    t0 = performance.now();
    const saved = await writeCaseExport(sqliteStore(db), caseId, format, join(root, `export.${format}`));
    console.log(`export ${format}: ${ms(t0).toFixed(0)} ms, ${(saved.bytes / 1024).toFixed(0)} KiB`);
  }
} finally {
  closeDatabase(db);
  rmSync(root, { recursive: true, force: true });
}
