// The differential as a horizontal bar chart drawn with PDF vector operators (not a rasterised chart.js canvas),
// so it prints sharp at any size. Each bar is a class's % of the NDC; the whisker is its Wilson 95% interval.
import { CELL_CLASSES } from '../../shared/cell-classes';
import type { Differential } from '../../shared/differential';
import { formatPercent } from '../../shared/format';
import { COLOUR, CONTENT_WIDTH, FONT, MARGIN, ensureSpace, type Doc } from './pdf-layout';

const ROW = 12.5;
const BAR = 7.5;
const LABEL_WIDTH = 128;
const VALUE_WIDTH = 44;

/** Axis maximum: the largest interval bound rounded up to a tick, at least 10%, at most 100%. */
function axisMaximum(differential: Differential): { max: number; step: number } {
  const highest = Math.max(0, ...differential.rows.map((row) => row.ci95?.upper ?? row.percentOfNdc ?? 0));
  const step = highest <= 20 ? 5 : highest <= 50 ? 10 : 20;
  const max = Math.min(100, Math.max(10, Math.ceil(highest / step) * step));
  return { max, step };
}

export function drawDifferentialChart(doc: Doc, differential: Differential): void {
  if (differential.nucleatedDifferentialCount === 0) {
    doc.font(FONT.regular).fontSize(8.5).fillColor(COLOUR.muted);
    doc.text('No nucleated cells counted: there is no differential to chart.', MARGIN.left, doc.y, { width: CONTENT_WIDTH });
    doc.y += 6;
    doc.fillColor(COLOUR.text);
    return;
  }
  const rows = differential.rows.filter((row) => row.inNdc);
  const height = rows.length * ROW + 26;
  ensureSpace(doc, height);
  const top = doc.y;
  const plotLeft = MARGIN.left + LABEL_WIDTH;
  const plotWidth = CONTENT_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const plotBottom = top + rows.length * ROW;
  const { max, step } = axisMaximum(differential);
  const xOf = (percent: number) => plotLeft + (Math.min(percent, max) / max) * plotWidth;

  // Grid and axis labels first, so bars are drawn over them.
  doc.lineWidth(0.4).strokeColor('#d9d9d9');
  doc.font(FONT.regular).fontSize(7).fillColor(COLOUR.muted);
  for (let tick = 0; tick <= max + 1e-9; tick += step) {
    const x = xOf(tick);
    doc
      .moveTo(x, top - 2)
      .lineTo(x, plotBottom)
      .stroke();
    doc.text(`${tick}%`, x - 15, plotBottom + 3, { width: 30, align: 'center', lineBreak: false });
  }
  doc.text('% of nucleated differential count; whiskers: 95% confidence interval (Wilson)', plotLeft, plotBottom + 13, {
    width: plotWidth,
    align: 'center',
    lineBreak: false,
  });

  rows.forEach((row, i) => {
    const y = top + i * ROW;
    const centre = y + ROW / 2;
    doc.font(FONT.regular).fontSize(7.5).fillColor(COLOUR.text);
    doc.text(`${row.code}  ${row.name}`, MARGIN.left, centre - 4.5, { width: LABEL_WIDTH - 6, height: 10, ellipsis: true });
    if (row.percentOfNdc === null) {
      doc.fillColor(COLOUR.muted).text('not assessable by the model', plotLeft + 2, centre - 4.5, { width: 150, lineBreak: false });
      return;
    }
    const colour = CELL_CLASSES[row.code].blastEquivalent ? COLOUR.blastBar : COLOUR.bar;
    const barWidth = Math.max(0, xOf(row.percentOfNdc) - plotLeft);
    if (barWidth > 0) doc.rect(plotLeft, centre - BAR / 2, barWidth, BAR).fill(colour);
    if (row.ci95 !== null) {
      const low = xOf(row.ci95.lower);
      const high = xOf(row.ci95.upper);
      doc.lineWidth(0.7).strokeColor('#222222');
      doc.moveTo(low, centre).lineTo(high, centre).stroke();
      doc
        .moveTo(low, centre - 2.5)
        .lineTo(low, centre + 2.5)
        .stroke();
      doc
        .moveTo(high, centre - 2.5)
        .lineTo(high, centre + 2.5)
        .stroke();
    }
    doc.fillColor(COLOUR.text).text(formatPercent(row.percentOfNdc), plotLeft + plotWidth + 4, centre - 4.5, {
      width: VALUE_WIDTH - 4,
      align: 'right',
      lineBreak: false,
    });
  });
  doc
    .moveTo(plotLeft, top - 2)
    .lineTo(plotLeft, plotBottom)
    .lineWidth(0.6)
    .strokeColor('#444444')
    .stroke();
  doc.x = MARGIN.left;
  doc.y = plotBottom + 28;
  doc.fillColor(COLOUR.text);
}
