// Page geometry and the few drawing primitives the report is built from (headings, label/value grids, tables).
// Kept apart from the report's content so that content code reads as a list of sections.

import PDFDocument from 'pdfkit';
import type { ReportFonts } from './fonts';

export type Doc = PDFKit.PDFDocument;

/** A4 in points. */
export const PAGE = { width: 595.28, height: 841.89 } as const;
export const MARGIN = { top: 48, bottom: 66, left: 46, right: 46 } as const;
export const CONTENT_WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
/** Lowest y content may reach; the footer lives below it. */
export const CONTENT_BOTTOM = PAGE.height - MARGIN.bottom;

export const COLOUR = {
  text: '#111111',
  muted: '#555555',
  rule: '#b8b8b8',
  zebra: '#f2f4f7',
  accent: '#1f4e79',
  bar: '#4a74a8',
  blastBar: '#b03a2e',
  warning: '#9c2a00',
  draft: '#c0392b',
} as const;

export const FONT = { regular: 'body', bold: 'body-bold' } as const;

/** Starts a new page when fewer than `height` points are left above the footer. */
export function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > CONTENT_BOTTOM) {
    doc.addPage();
    doc.x = MARGIN.left;
    doc.y = MARGIN.top;
  }
}

export function sectionHeading(doc: Doc, title: string, spaceAfterNeeded = 40): void {
  ensureSpace(doc, 24 + spaceAfterNeeded);
  doc.y += 6;
  doc.font(FONT.bold).fontSize(11).fillColor(COLOUR.accent);
  doc.text(title, MARGIN.left, doc.y, { width: CONTENT_WIDTH });
  const ruleY = doc.y + 1;
  doc
    .moveTo(MARGIN.left, ruleY)
    .lineTo(MARGIN.left + CONTENT_WIDTH, ruleY)
    .lineWidth(0.6)
    .strokeColor(COLOUR.accent)
    .stroke();
  doc.y = ruleY + 5;
  doc.fillColor(COLOUR.text);
}

/** Body paragraph at the current position, wrapping within the content width. */
export function paragraph(doc: Doc, text: string, options: { size?: number; bold?: boolean; colour?: string; indent?: number; gap?: number } = {}): void {
  const size = options.size ?? 9;
  const indent = options.indent ?? 0;
  doc.font(options.bold ? FONT.bold : FONT.regular).fontSize(size);
  const height = doc.heightOfString(text, { width: CONTENT_WIDTH - indent });
  ensureSpace(doc, height);
  doc.fillColor(options.colour ?? COLOUR.text).text(text, MARGIN.left + indent, doc.y, { width: CONTENT_WIDTH - indent });
  doc.y += options.gap ?? 2;
  doc.fillColor(COLOUR.text);
}

export interface LabelValue {
  label: string;
  value: string;
  colour?: string;
}

/**
 * Label/value pairs in `columns` columns, filled row by row; each row is as tall as its tallest value.
 * Labels are muted and bold values are not used, so the figures stand out by position, not weight.
 */
export function labelValueGrid(doc: Doc, pairs: readonly LabelValue[], columns: number, labelWidth: number): void {
  const columnWidth = CONTENT_WIDTH / columns;
  const valueWidth = columnWidth - labelWidth - 8;
  for (let start = 0; start < pairs.length; start += columns) {
    const row = pairs.slice(start, start + columns);
    doc.font(FONT.regular).fontSize(9);
    const height = Math.max(...row.map((p) => doc.heightOfString(p.value, { width: valueWidth })), 11);
    ensureSpace(doc, height + 3);
    const y = doc.y;
    row.forEach((pair, i) => {
      const x = MARGIN.left + i * columnWidth;
      doc.font(FONT.regular).fontSize(8).fillColor(COLOUR.muted);
      doc.text(pair.label, x, y + 1, { width: labelWidth, lineBreak: false });
      doc
        .font(FONT.regular)
        .fontSize(9)
        .fillColor(pair.colour ?? COLOUR.text);
      doc.text(pair.value, x + labelWidth, y, { width: valueWidth });
    });
    doc.y = y + height + 3;
  }
  doc.fillColor(COLOUR.text);
}

export interface TableColumn {
  header: string;
  width: number;
  align?: 'left' | 'right' | 'center';
}

export interface TableRow {
  cells: string[];
  bold?: boolean;
  colour?: string;
}

const ROW_HEIGHT = 13;

function tableHeader(doc: Doc, columns: readonly TableColumn[]): void {
  const y = doc.y;
  doc.font(FONT.bold).fontSize(8).fillColor(COLOUR.muted);
  let x = MARGIN.left;
  for (const column of columns) {
    doc.text(column.header, x + 3, y + 2, { width: column.width - 6, align: column.align ?? 'left', lineBreak: false });
    x += column.width;
  }
  const ruleY = y + ROW_HEIGHT;
  doc.moveTo(MARGIN.left, ruleY).lineTo(x, ruleY).lineWidth(0.5).strokeColor(COLOUR.rule).stroke();
  doc.y = ruleY + 1;
}

/** A single-line-per-row table; the header is repeated when the table continues on a new page. */
export function table(doc: Doc, columns: readonly TableColumn[], rows: readonly TableRow[]): void {
  ensureSpace(doc, ROW_HEIGHT * Math.min(3, rows.length + 1) + 2);
  tableHeader(doc, columns);
  rows.forEach((row, index) => {
    if (doc.y + ROW_HEIGHT > CONTENT_BOTTOM) {
      ensureSpace(doc, ROW_HEIGHT * 2);
      tableHeader(doc, columns);
    }
    const y = doc.y;
    const totalWidth = columns.reduce((sum, c) => sum + c.width, 0);
    if (index % 2 === 1) doc.rect(MARGIN.left, y, totalWidth, ROW_HEIGHT).fill(COLOUR.zebra);
    doc
      .font(row.bold ? FONT.bold : FONT.regular)
      .fontSize(8.5)
      .fillColor(row.colour ?? COLOUR.text);
    let x = MARGIN.left;
    columns.forEach((column, i) => {
      doc.text(row.cells[i] ?? '', x + 3, y + 2.5, {
        width: column.width - 6,
        height: ROW_HEIGHT - 2,
        align: column.align ?? 'left',
        ellipsis: true,
      });
      x += column.width;
    });
    doc.y = y + ROW_HEIGHT;
  });
  doc
    .moveTo(MARGIN.left, doc.y)
    .lineTo(MARGIN.left + columns.reduce((s, c) => s + c.width, 0), doc.y)
    .lineWidth(0.5)
    .strokeColor(COLOUR.rule)
    .stroke();
  doc.y += 4;
  doc.fillColor(COLOUR.text);
}

/**
 * An A4 document with the report's margins and fonts, and the promise of its bytes once doc.end() is called.
 * No default font: pdfkit would otherwise load Helvetica (standard-14, never embedded) into the file. Nor the TTF
 * path: pdfkit then treats the alias registered below as a duplicate of it and re-reads and re-parses the TTF on
 * every doc.font() call (measured: 7 of 10 s of a profile). Every text call names its font.
 */
export function createPdfDocument(fonts: ReportFonts, info: PDFKit.DocumentInfo): { doc: Doc; done: Promise<Buffer> } {
  const doc: Doc = new PDFDocument({ size: 'A4', margins: MARGIN, bufferPages: true, font: '', lang: 'en', displayTitle: true, info });
  doc.registerFont(FONT.regular, fonts.regular);
  doc.registerFont(FONT.bold, fonts.bold);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, done };
}
