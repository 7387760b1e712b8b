// "Previous marrows" on the case report (issue 25): the patient's earlier released results beside this one, the blast
// comparison in words, and a small trend chart of blast % drawn with PDF vector operators. Only released results are
// printed (the service gives only those as `previous`); this report's own case is marked, and drawn hollow while the
// report is a draft.
import { BLAST_THRESHOLDS } from '../../shared/differential';
import { formatInterval, formatMeRatio, formatPercent, NOT_AVAILABLE } from '../../shared/format';
import { formatPoints, type CaseHistory, type MarrowResult } from '../../shared/marrow-history';
import { COLOUR, CONTENT_WIDTH, FONT, MARGIN, ensureSpace, paragraph, sectionHeading, table, type Doc, type TableRow } from './pdf-layout';

/** Earlier results printed: the most recent ones; the patient view in the app has them all. */
export const REPORT_PREVIOUS_LIMIT = 6;

const CHART_HEIGHT = 104;
const DAY_MS = 86_400_000;

function resultWords(m: MarrowResult): string {
  if (m.state === 'reopened') return 'amended; last released';
  if (m.state === 'draft') return 'this report, draft';
  return m.amended ? `released v${m.releasedVersions}, amended` : 'released';
}

export function drawHistorySection(doc: Doc, history: CaseHistory): void {
  sectionHeading(doc, 'Previous marrows', 50);
  if (history.previous.length === 0) {
    paragraph(doc, `No earlier released result of patient ${history.patient.labId} to compare with.`, { size: 8.5, colour: COLOUR.muted, gap: 4 });
    return;
  }
  if (history.blastSentence !== null) paragraph(doc, history.blastSentence, { size: 9, bold: true, gap: 4 });

  const shown = history.previous.slice(0, REPORT_PREVIOUS_LIMIT);
  const blastOf = new Map(history.comparisons.map((c) => [c.earlier.caseId, c.blast]));
  const row = (m: MarrowResult, current: boolean): TableRow => {
    const f = m.figures;
    const c = blastOf.get(m.caseId);
    return {
      cells: [
        m.specimenDate + (m.specimenDateSource === 'case_created' ? '*' : ''),
        m.accession,
        current ? (m.state === 'released' ? 'this report' : 'this report (not released)') : resultWords(m),
        f === null ? NOT_AVAILABLE : formatPercent(f.blast.percentage),
        f === null ? NOT_AVAILABLE : formatInterval(f.blast.ci95),
        f === null ? NOT_AVAILABLE : String(f.nucleatedDifferentialCount),
        f === null ? NOT_AVAILABLE : formatMeRatio(f.meRatio),
        c === undefined || c === null ? '' : `${formatPoints(c.differencePoints)} (${formatPoints(c.ci95Points.lower)} to ${formatPoints(c.ci95Points.upper)})`,
      ],
      bold: current,
    };
  };
  table(
    doc,
    [
      { header: 'Specimen', width: 62 },
      { header: 'Case', width: 54 },
      { header: 'Result', width: 110 },
      { header: 'Blasts', width: 38, align: 'right' },
      { header: '95% CI', width: 62, align: 'right' },
      { header: 'NDC', width: 28, align: 'right' },
      { header: 'M:E', width: 38, align: 'right' },
      { header: 'Difference (95% CI)', width: CONTENT_WIDTH - 392 },
    ],
    [row(history.current, true), ...shown.map((m) => row(m, false))],
  );
  const notes = [
    'Difference: this case minus the earlier one, in percentage points of blasts, with the Newcombe hybrid score 95% interval for two independent counts; an interval containing 0 cannot tell the two marrows apart.',
  ];
  if (history.previous.length > shown.length) notes.push(`${history.previous.length - shown.length} older released results are not printed.`);
  if ([history.current, ...shown].some((m) => m.specimenDateSource === 'case_created')) {
    notes.push('* No specimen date recorded: the day the case was entered.');
  }
  paragraph(doc, notes.join(' '), { size: 7, colour: COLOUR.muted, gap: 4 });
  for (const m of shown) {
    if (m.problem !== null) paragraph(doc, `${m.accession}: ${m.problem}`, { size: 7.5, colour: COLOUR.warning, gap: 2 });
  }
  drawTrendChart(doc, [...shown].reverse().concat(history.current));
}

/** Blast % by specimen date: released points with their 95% interval, this case highlighted, the 5/10/20% lines. */
function drawTrendChart(doc: Doc, marrows: readonly MarrowResult[]): void {
  const points = marrows.filter((m) => m.figures !== null && m.figures.blast.percentage !== null);
  if (points.length === 0) return;
  ensureSpace(doc, CHART_HEIGHT + 24);
  const top = doc.y + 4;
  const left = MARGIN.left + 34;
  const width = Math.min(CONTENT_WIDTH - 40, 330);
  const bottom = top + CHART_HEIGHT;
  const highest = Math.max(...points.map((m) => m.figures!.blast.ci95?.upper ?? m.figures!.blast.percentage!));
  const max = Math.min(100, Math.max(25, Math.ceil(highest / 5) * 5));
  const days = points.map((m) => Date.parse(`${m.specimenDate}T00:00:00Z`) / DAY_MS);
  const first = Math.min(...days);
  const span = Math.max(1, Math.max(...days) - first);
  const xOf = (day: number) => (points.length === 1 ? left + width / 2 : left + 12 + ((day - first) / span) * (width - 24));
  const yOf = (percent: number) => bottom - (Math.min(percent, max) / max) * CHART_HEIGHT;

  // Axes and ticks.
  doc.lineWidth(0.6).strokeColor('#444444');
  doc
    .moveTo(left, top)
    .lineTo(left, bottom)
    .lineTo(left + width, bottom)
    .stroke();
  doc.font(FONT.regular).fontSize(6.5).fillColor(COLOUR.muted);
  const step = max <= 30 ? 5 : max <= 60 ? 10 : 20;
  for (let tick = 0; tick <= max + 1e-9; tick += step) {
    doc.text(`${tick}%`, left - 26, yOf(tick) - 3, { width: 22, align: 'right', lineBreak: false });
  }
  // Thresholds, dashed, under the data.
  doc.lineWidth(0.5).strokeColor(COLOUR.draft).dash(3, { space: 2 });
  for (const threshold of BLAST_THRESHOLDS) {
    if (threshold > max) continue;
    doc
      .moveTo(left, yOf(threshold))
      .lineTo(left + width, yOf(threshold))
      .stroke();
  }
  doc.undash();
  doc.fillColor(COLOUR.draft);
  let lastLabel = Infinity;
  for (const threshold of BLAST_THRESHOLDS) {
    // On a tall axis 5% and 10% lie close together: a label that would overprint the one below is left out.
    if (threshold > max || lastLabel - yOf(threshold) < 7) continue;
    lastLabel = yOf(threshold);
    doc.text(`${threshold}%`, left + width + 3, yOf(threshold) - 3, { width: 24, lineBreak: false });
  }
  // Line through the points, then whiskers and points.
  doc.lineWidth(0.8).strokeColor(COLOUR.bar);
  points.forEach((m, i) => {
    const x = xOf(days[i]!);
    const y = yOf(m.figures!.blast.percentage!);
    if (i === 0) doc.moveTo(x, y);
    else doc.lineTo(x, y);
  });
  if (points.length > 1) doc.stroke();
  points.forEach((m, i) => {
    const x = xOf(days[i]!);
    const blast = m.figures!.blast;
    const current = i === points.length - 1;
    if (blast.ci95 !== null) {
      doc.lineWidth(0.6).strokeColor('#222222');
      doc.moveTo(x, yOf(blast.ci95.lower)).lineTo(x, yOf(blast.ci95.upper)).stroke();
      doc
        .moveTo(x - 2.5, yOf(blast.ci95.lower))
        .lineTo(x + 2.5, yOf(blast.ci95.lower))
        .stroke();
      doc
        .moveTo(x - 2.5, yOf(blast.ci95.upper))
        .lineTo(x + 2.5, yOf(blast.ci95.upper))
        .stroke();
    }
    const colour = current ? COLOUR.blastBar : COLOUR.bar;
    doc.circle(x, yOf(blast.percentage!), current ? 3.2 : 2.6);
    // This case is hollow while it is not released; an amended earlier result is drawn hollow too.
    if (m.state === 'released') doc.fill(colour);
    else doc.lineWidth(1).fillAndStroke('#ffffff', colour);
    doc
      .font(FONT.regular)
      .fontSize(6.5)
      .fillColor(current ? COLOUR.blastBar : COLOUR.muted);
    doc.text(m.specimenDate, x - 24, bottom + 3, { width: 48, align: 'center', lineBreak: false });
  });
  doc.font(FONT.regular).fontSize(6.5).fillColor(COLOUR.muted);
  doc.text(
    'Blasts, % of nucleated cells, by specimen date; whiskers: 95% interval (Wilson); red: this report; hollow: not released; dashed: 5, 10, 20%.',
    MARGIN.left,
    bottom + 12,
    { width: CONTENT_WIDTH, lineBreak: false },
  );
  doc.x = MARGIN.left;
  doc.y = bottom + 24;
  doc.fillColor(COLOUR.text);
}
