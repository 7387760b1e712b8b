// Renders a case report (CaseReportData) to PDF bytes. Pure over its inputs: no database, no clock, no image
// decoding (thumbnails are handed in), so the same data always gives the same pages.
//
// Page furniture added after the content, on every page (pdfkit bufferPages): the patient and accession in the
// footer so a loose page can be matched to its case, "Page N of M" so a missing page shows, the DRAFT watermark
// while the case is unsigned, and the research-use disclaimer while a model not cleared for diagnostic use did the counting.
import type { CorrectionNotice } from '../../shared/corrections';
import type { SignOffRecord } from '../../shared/api';
import { informativeBlastAdvisories, notAssessedNote, PROVISIONAL_ME_NOTE, provisionalRowNote } from '../../shared/differential';
import { CELL_CLASSES } from '../../shared/cell-classes';
import { FLAG_REASON_KIND_SHORT } from '../../shared/flag-reasons';
import { NOT_AVAILABLE, formatInterval, formatMeRatio, formatPercent } from '../../shared/format';
import { drawDifferentialChart } from './bar-chart';
import { drawDraftWatermark } from './draft-watermark';
import { drawHistorySection } from './history-section';
import type { ReportFonts } from './fonts';
import {
  COLOUR,
  CONTENT_BOTTOM,
  CONTENT_WIDTH,
  FONT,
  MARGIN,
  createPdfDocument,
  ensureSpace,
  labelValueGrid,
  paragraph,
  sectionHeading,
  table,
  type Doc,
  type LabelValue,
  type TableColumn,
  type TableRow,
} from './pdf-layout';
import type { CaseReportData, ReportGalleryCell } from './report-data';
import { formatConfidence, formatTimestamp, specimenLabel } from './text';
import type { Thumbnail } from './thumbnails';

import { REPORT_TITLE } from '../../shared/format';
export { REPORT_TITLE };
/**
 * The banner for a model not cleared for diagnostic use. That is any model whose own manifest does not say
 * researchOnly: false (the bundled reference model, and a lab model whose manifest is missing or says nothing), so the
 * text names the model instead of assuming which one it is.
 */
export function disclaimerText(model: { name: string; version: string }): string {
  return (
    `NOT FOR DIAGNOSTIC USE. The cells were classified by a research model (${model.name} ${model.version}) that is ` +
    'not cleared for diagnostic use; it is for research and evaluation only. Do not use these figures for patient care.'
  );
}
export const DRAFT_NOTICE = 'DRAFT — not signed';

export interface RenderOptions {
  fonts: ReportFonts;
  /** Thumbnails keyed by ReportGalleryCell.imagePath; a missing key is drawn as "no image". */
  thumbnails: ReadonlyMap<string, Thumbnail>;
}

/** "12.3" for a count per 100 NDC cells; "—" when undefined. */
function per100(value: number | null): string {
  return value === null ? NOT_AVAILABLE : value.toFixed(1);
}

function personLine(name: string, role: string | null, at: string): string {
  return `${name}${role ? `, ${role}` : ''} — ${formatTimestamp(at)}`;
}

function header(doc: Doc, data: CaseReportData): void {
  // A report of a lab that has not set its name is titled by what it is; "Laboratory name not set" on a patient's
  // report read as a fault. The settings hint is on screen (ReportPanel), not on the page.
  doc.font(FONT.bold).fontSize(15).fillColor(COLOUR.text);
  doc.text(data.labName !== '' ? data.labName : REPORT_TITLE, MARGIN.left, MARGIN.top, { width: CONTENT_WIDTH - 150 });
  if (data.labName !== '') {
    doc.font(FONT.regular).fontSize(11).fillColor(COLOUR.accent);
    doc.text(REPORT_TITLE, MARGIN.left, doc.y + 1, { width: CONTENT_WIDTH - 150 });
  }
  const bottom = doc.y;
  // Status at the top right: the first thing a reader checks.
  doc.font(FONT.bold).fontSize(10);
  if (data.draft) {
    doc.fillColor(COLOUR.draft).text(DRAFT_NOTICE, MARGIN.left + CONTENT_WIDTH - 150, MARGIN.top + 2, { width: 150, align: 'right' });
  } else if (data.correction?.released) {
    doc.fillColor(COLOUR.draft).text('CORRECTED REPORT', MARGIN.left + CONTENT_WIDTH - 150, MARGIN.top + 2, { width: 150, align: 'right' });
  } else {
    doc.fillColor(COLOUR.accent).text('Signed', MARGIN.left + CONTENT_WIDTH - 150, MARGIN.top + 2, { width: 150, align: 'right' });
  }
  doc.y = bottom + 8;
  doc.fillColor(COLOUR.text);
}

function disclaimerBanner(doc: Doc, model: { name: string; version: string }): void {
  warningBanner(doc, disclaimerText(model));
}

/** Page 1 of a report after an amendment: what it replaces, why, and each figure that changed. */
export function correctionHeadline(c: CorrectionNotice): string {
  const replaced = `the report released on ${formatTimestamp(c.replaces.signedAt)} by ${c.replaces.signedBy}`;
  return c.released ? `CORRECTED REPORT — replaces ${replaced}` : `AMENDMENT IN PROGRESS — ${replaced} was withdrawn`;
}

function correctionBanner(doc: Doc, c: CorrectionNotice): void {
  const lines = [
    correctionHeadline(c),
    `Amended by ${c.amendedBy} on ${formatTimestamp(c.amendedAt)}. Reason: ${c.reason}`,
    c.changes === null
      ? 'The replaced release stored no figures to compare with; see that report.'
      : c.changes.length === 0
        ? 'No printed figure changed.'
        : `Changed: ${c.changes.map((change) => `${change.figure} ${change.before} → ${change.after}`).join('; ')}`,
  ];
  warningBanner(doc, lines.join('\n'));
}

/** A boxed warning across the page: research-only model, partial result, corrected report. */
function warningBanner(doc: Doc, text: string): void {
  doc.font(FONT.bold).fontSize(9);
  const height = doc.heightOfString(text, { width: CONTENT_WIDTH - 16 }) + 10;
  ensureSpace(doc, height);
  const y = doc.y;
  doc.rect(MARGIN.left, y, CONTENT_WIDTH, height).lineWidth(1).fillAndStroke('#fdecea', COLOUR.draft);
  doc.fillColor(COLOUR.draft).text(text, MARGIN.left + 8, y + 5, { width: CONTENT_WIDTH - 16 });
  doc.y = y + height + 8;
  doc.fillColor(COLOUR.text);
}

function caseDetails(doc: Doc, data: CaseReportData): void {
  sectionHeading(doc, 'Case');
  labelValueGrid(
    doc,
    [
      { label: 'Patient ID', value: data.patient.labId },
      { label: 'Accession', value: data.accession },
      { label: 'Patient name', value: data.patient.name ?? NOT_AVAILABLE },
      { label: 'Specimen', value: specimenLabel(data.specimen) },
      { label: 'Birth date', value: data.patient.birthDate ?? NOT_AVAILABLE },
      ...(data.history
        ? [
            {
              label: 'Specimen taken',
              value:
                data.history.current.specimenDateSource === 'recorded'
                  ? data.history.current.specimenDate
                  : `not recorded (case entered ${data.history.current.specimenDate})`,
            },
          ]
        : []),
      { label: 'Analysed', value: formatTimestamp(data.analysedAt) },
      { label: 'Reviewed', value: formatTimestamp(data.reviewedAt) },
      data.signedAt === null
        ? { label: 'Signed', value: 'not signed (DRAFT)', colour: COLOUR.draft }
        : { label: 'Signed', value: formatTimestamp(data.signedAt) },
    ],
    2,
    72,
  );
}

function keyResults(doc: Doc, data: CaseReportData): void {
  const d = data.differential;
  sectionHeading(doc, 'Result', 80);
  const blast =
    d.blast.percentage === null
      ? `${NOT_AVAILABLE} (undefined: ${d.nucleatedDifferentialCount === 0 ? 'no nucleated cells counted' : 'blasts not assessable by the model'})`
      : `${formatPercent(d.blast.percentage)} (95% CI ${formatInterval(d.blast.ci95)}) — ${d.blast.count} of ${d.nucleatedDifferentialCount} nucleated cells (BLA + FGC)`;
  const me =
    d.meRatio.ratio === null
      ? `undefined (myeloid ${d.meRatio.myeloid}, erythroid ${d.meRatio.erythroid}): ${d.meRatio.undefinedReason ?? 'no ratio'}`
      : `${formatMeRatio(d.meRatio.ratio)} (myeloid ${d.meRatio.myeloid}, erythroid ${d.meRatio.erythroid})` +
        (d.meRatio.provisional ? ` — ${PROVISIONAL_ME_NOTE}` : '');
  const excludedTotal = d.excluded.reduce((sum, e) => sum + e.count, 0);
  labelValueGrid(
    doc,
    [
      { label: 'Total cells counted', value: String(d.totalCellsCounted) },
      { label: 'Nucleated differential count (NDC)', value: `${d.nucleatedDifferentialCount} — ${d.countTarget.note}` },
      { label: 'Excluded from NDC', value: `${excludedTotal} (artefacts, not identifiable, smudge cells; listed below)` },
      { label: 'Blast percentage', value: blast },
      { label: 'M:E ratio', value: me },
    ],
    1,
    150,
  );
  paragraph(doc, `M:E convention: ${d.meRatio.convention}.`, { size: 7.5, colour: COLOUR.muted, indent: 150, gap: 4 });
  // The blast figure is in the grid above; each threshold line says only what it adds (informativeBlastAdvisories).
  const advisories = informativeBlastAdvisories(d.blast.advisories);
  if (advisories.length > 0) {
    paragraph(doc, 'Blast thresholds', { size: 8.5, bold: true, gap: 1 });
    for (const advisory of advisories) {
      paragraph(doc, `•  ${advisory.note.charAt(0).toUpperCase()}${advisory.note.slice(1)}`, {
        size: 8.5,
        indent: 8,
        gap: 1,
        colour: advisory.status === 'below' ? COLOUR.text : COLOUR.warning,
      });
    }
    doc.y += 3;
  }
  const warnings = [...d.warnings];
  if (data.importFailures > 0) {
    warnings.push(
      `${data.importFailures} ${data.importFailures === 1 ? 'image' : 'images'} in the case folder could not be read and ${data.importFailures === 1 ? 'is' : 'are'} not counted.`,
    );
  }
  if (warnings.length > 0) {
    paragraph(doc, 'Warnings', { size: 8.5, bold: true, gap: 1, colour: COLOUR.warning });
    for (const warning of warnings) paragraph(doc, `•  ${warning}`, { size: 8.5, indent: 8, gap: 1, colour: COLOUR.warning });
    doc.y += 3;
  }
}

/** The first columns of both differential tables, so the two line up on the page. */
const CLASS_COLUMNS: readonly TableColumn[] = [
  { header: 'Code', width: 42 },
  { header: 'Cell class', width: 138 },
  { header: 'Count', width: 52, align: 'right' },
];

function differentialTable(doc: Doc, data: CaseReportData): void {
  const d = data.differential;
  sectionHeading(doc, 'Differential (nucleated cells)', 60);
  const rows: TableRow[] = d.rows
    .filter((row) => row.inNdc)
    .map((row) => ({
      cells: [
        row.code,
        row.name,
        String(row.count),
        formatPercent(row.percentOfNdc),
        formatInterval(row.ci95),
        notAssessedNote(row) ?? (row.flagged ? 'describe before sign-off' : provisionalRowNote(row)),
      ],
      colour: CELL_CLASSES[row.code].blastEquivalent ? COLOUR.blastBar : undefined,
    }));
  rows.push({
    cells: ['NDC', 'Total (nucleated cells)', String(d.nucleatedDifferentialCount), d.nucleatedDifferentialCount > 0 ? '100.0%' : NOT_AVAILABLE, '', ''],
    bold: true,
  });
  table(
    doc,
    [
      ...CLASS_COLUMNS,
      { header: '% of NDC', width: 62, align: 'right' },
      { header: '95% CI', width: 92, align: 'right' },
      { header: 'Note', width: CONTENT_WIDTH - 386 },
    ],
    rows,
  );

  sectionHeading(doc, 'Excluded from the nucleated differential (reported apart)', 60);
  table(
    doc,
    [...CLASS_COLUMNS, { header: 'per 100 NDC cells', width: 100, align: 'right' }],
    [
      // A class the model cannot output (KSC for the bundled model) is marked, as in the differential table above.
      ...d.excluded.map((e) => ({ cells: [e.code, e.assessedByModel ? e.name : `${e.name} (reviewer only)`, String(e.count), per100(e.per100Ndc)] })),
      {
        cells: ['', 'Total cells counted', String(d.totalCellsCounted), 'NDC + excluded'],
        bold: true,
      },
    ],
  );
}

function reviewStatistics(doc: Doc, data: CaseReportData): void {
  const r = data.review;
  sectionHeading(doc, 'Review');
  labelValueGrid(
    doc,
    [
      { label: 'Cells classified by the model', value: String(r.cellsClassified) },
      { label: 'Flagged for review', value: `${r.flagged} (${r.flaggedReviewed} reviewed, ${r.flagged - r.flaggedReviewed} not reviewed)` },
      ...r.flagReasons.map((reason, i) => ({
        label: i === 0 ? 'Flagged because' : '',
        value: `${reason.text}: ${reason.cells} (${reason.unreviewed} not reviewed)`,
        colour:
          (reason.kind === 'open_set' || reason.kind === 'provisional' || reason.kind === 'unlearned_class') && reason.unreviewed > 0
            ? COLOUR.warning
            : undefined,
      })),
      { label: 'Cells reviewed', value: String(r.reviewed) },
      { label: 'Cells reclassified', value: String(r.reclassified) },
      {
        label: 'Model–reviewer agreement',
        value:
          r.agreementPercent === null
            ? `${NOT_AVAILABLE} (no cells reviewed)`
            : `${formatPercent(r.agreementPercent)} (${r.reviewed - r.reclassified} of ${r.reviewed} reviewed cells kept the model's label)`,
      },
    ],
    1,
    150,
  );
}

function modelAndRules(doc: Doc, data: CaseReportData): void {
  sectionHeading(doc, 'Model and rules');
  const m = data.model;
  labelValueGrid(
    doc,
    m === null
      ? [
          { label: 'Model', value: 'none (case not analysed)' },
          { label: 'Counting rules', value: data.rulesVersion },
        ]
      : [
          { label: 'Model', value: `${m.name} — id ${m.id}, version ${m.version}` },
          { label: 'Model SHA-256', value: m.sha256 },
          {
            label: 'Intended use',
            value: m.researchOnly ? 'research and evaluation only — not for diagnostic use' : 'as validated by the laboratory',
            colour: m.researchOnly ? COLOUR.draft : undefined,
          },
          { label: 'Counting rules', value: data.rulesVersion },
          { label: 'Report generated', value: `${formatTimestamp(data.generatedAt)} by MarrowCount ${data.appVersion}` },
        ],
    1,
    110,
  );
}

/**
 * Page 1: each electronic signature with its meaning, and the pathologist's interpretive comment, right under the
 * result, so the first page read shows who validated and who authorised it.
 */
function signaturesBlock(doc: Doc, data: CaseReportData): void {
  if (data.signatures.length === 0 && data.interpretiveComment === null) return;
  sectionHeading(doc, 'Signatures', 40);
  labelValueGrid(
    doc,
    data.signatures.map((s) => ({ label: s.meaning, value: personLine(s.name, s.role, s.at) })),
    1,
    150,
  );
  if (data.signatures.length === 1) paragraph(doc, 'Awaiting medical authorisation: this result is not released.', { size: 8.5, colour: COLOUR.draft, gap: 4 });
  if (data.interpretiveComment !== null) {
    paragraph(doc, 'Interpretive comment', { size: 9, bold: true, gap: 1 });
    paragraph(doc, data.interpretiveComment, { size: 9, gap: 6 });
  }
}

function signOffLine(s: SignOffRecord): string {
  return personLine(s.signedBy, s.role, s.signedAt);
}

function signOff(doc: Doc, data: CaseReportData): void {
  sectionHeading(doc, 'Review and sign-off', 60);
  const pairs: LabelValue[] = [
    ...(data.reviewers.length === 0
      ? [{ label: 'Reviewed by', value: 'no cell was reviewed by a person' }]
      : data.reviewers.map((p, i) => ({ label: i === 0 ? 'Reviewed by' : '', value: personLine(p.name, p.role, p.at) }))),
    data.signOff === null
      ? { label: 'Signed by', value: 'not signed — this report is a DRAFT', colour: COLOUR.draft }
      : { label: 'Signed by', value: signOffLine(data.signOff) },
  ];
  if (data.signOff?.overrideReason) {
    pairs.push({ label: 'Override reason', value: `signed with flagged cells unreviewed: ${data.signOff.overrideReason}`, colour: COLOUR.warning });
  }
  for (const amendment of data.amendments) {
    pairs.push({ label: 'Amended', value: `${personLine(amendment.by, null, amendment.at)}: ${amendment.reason}` });
  }
  // The sign-off in force is the last one; every earlier one was re-opened by an amendment.
  const earlier = data.signOff === null ? data.signOffHistory : data.signOffHistory.slice(0, -1);
  for (const s of earlier) pairs.push({ label: 'Earlier sign-off', value: `${signOffLine(s)} (superseded by amendment)` });
  labelValueGrid(doc, pairs, 1, 110);
}

const THUMB = 60;
const PER_ROW = 6;
const CELL_WIDTH = CONTENT_WIDTH / PER_ROW;
// Room for the caption's three parts, the flag reasons on up to two lines (one line cut them off mid-word).
const CELL_HEIGHT = THUMB + 36;

function galleryCell(doc: Doc, cell: ReportGalleryCell, thumbnail: Thumbnail | undefined, x: number, y: number): void {
  const left = x + (CELL_WIDTH - THUMB) / 2;
  if (thumbnail?.ok) {
    doc.image(thumbnail.jpeg, left, y, { fit: [THUMB, THUMB], align: 'center', valign: 'center' });
  } else {
    doc.rect(left, y, THUMB, THUMB).lineWidth(0.5).strokeColor(COLOUR.rule).stroke();
    doc.font(FONT.regular).fontSize(6.5).fillColor(COLOUR.muted);
    doc.text(thumbnail?.ok === false ? thumbnail.reason : 'no image', left + 2, y + THUMB / 2 - 8, { width: THUMB - 4, align: 'center' });
  }
  const changed = cell.reviewed && cell.effectiveLabel !== cell.predicted;
  const label = `${cell.predicted} ${formatConfidence(cell.confidence)}${changed ? ` → ${cell.effectiveLabel}` : cell.reviewed ? ' ✓' : ''}`;
  doc
    .font(FONT.regular)
    .fontSize(7)
    .fillColor(changed ? COLOUR.warning : COLOUR.text);
  doc.text(label, x + 1, y + THUMB + 2, { width: CELL_WIDTH - 2, align: 'center', height: 9, ellipsis: true });
  doc.font(FONT.regular).fontSize(5.5).fillColor(COLOUR.muted);
  doc.text(cell.file, x + 1, y + THUMB + 11, { width: CELL_WIDTH - 2, align: 'center', height: 7, ellipsis: true });
  const kinds = [...new Set(cell.flagReasons.map((reason) => reason.kind))];
  if (kinds.length > 0) {
    const unusual = kinds.includes('open_set') || kinds.includes('provisional');
    doc.fillColor(unusual ? COLOUR.warning : COLOUR.muted);
    doc.text(kinds.map((k) => FLAG_REASON_KIND_SHORT[k]).join(', '), x + 2, y + THUMB + 18, {
      width: CELL_WIDTH - 4,
      align: 'center',
      height: 15,
      ellipsis: true,
    });
  }
}

function gallerySection(
  doc: Doc,
  title: string,
  cells: readonly ReportGalleryCell[],
  total: number,
  thumbnails: ReadonlyMap<string, Thumbnail>,
  emptyText: string,
): void {
  sectionHeading(doc, title, cells.length > 0 ? CELL_HEIGHT + 14 : 14);
  if (cells.length === 0) {
    paragraph(doc, emptyText, { size: 8.5, colour: COLOUR.muted, gap: 4 });
    return;
  }
  paragraph(
    doc,
    `${cells.length < total ? `${cells.length} of ${total} cells shown` : `${total} ${total === 1 ? 'cell' : 'cells'}`}. Caption: model's label and confidence; → reviewer's label where it differs; ✓ confirmed by a reviewer.`,
    { size: 7.5, colour: COLOUR.muted, gap: 4 },
  );
  for (let start = 0; start < cells.length; start += PER_ROW) {
    ensureSpace(doc, CELL_HEIGHT);
    const y = doc.y;
    cells.slice(start, start + PER_ROW).forEach((cell, i) => {
      galleryCell(doc, cell, thumbnails.get(cell.imagePath), MARGIN.left + i * CELL_WIDTH, y);
    });
    doc.x = MARGIN.left;
    doc.y = y + CELL_HEIGHT;
  }
  doc.fillColor(COLOUR.text);
}

function pageFurniture(doc: Doc, data: CaseReportData): void {
  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    // Writing below the bottom margin would make pdfkit start a new page; the footer sits in the margin on purpose.
    const savedBottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;

    if (data.draft) {
      drawDraftWatermark(doc);
      if (i > 0) {
        doc.font(FONT.bold).fontSize(9).fillColor(COLOUR.draft).fillOpacity(1);
        doc.text(DRAFT_NOTICE, MARGIN.left, MARGIN.top - 22, { width: CONTENT_WIDTH, align: 'right', lineBreak: false });
      }
    }

    const footerTop = CONTENT_BOTTOM + 16;
    doc
      .moveTo(MARGIN.left, footerTop - 4)
      .lineTo(MARGIN.left + CONTENT_WIDTH, footerTop - 4)
      .lineWidth(0.5)
      .strokeColor(COLOUR.rule)
      .stroke();
    doc.font(FONT.regular).fontSize(7.5).fillColor(COLOUR.muted).fillOpacity(1);
    // Parts joined only when present: with no lab name the line used to end in a stray "·".
    doc.text([`Patient ${data.patient.labId}`, `Accession ${data.accession}`, data.labName].filter((part) => part !== '').join(' · '), MARGIN.left, footerTop, {
      width: CONTENT_WIDTH - 90,
      height: 10,
      ellipsis: true,
    });
    doc.font(FONT.bold).fontSize(7.5).fillColor(COLOUR.text);
    doc.text(`Page ${i + 1} of ${range.count}`, MARGIN.left + CONTENT_WIDTH - 90, footerTop, { width: 90, align: 'right', lineBreak: false });
    const second = `${data.draft ? 'DRAFT · ' : ''}${data.model?.researchOnly ? 'Not for diagnostic use · ' : ''}MarrowCount ${data.appVersion} · generated ${formatTimestamp(data.generatedAt)}`;
    doc
      .font(FONT.regular)
      .fontSize(7)
      .fillColor(data.model?.researchOnly || data.draft ? COLOUR.draft : COLOUR.muted);
    doc.text(second, MARGIN.left, footerTop + 11, { width: CONTENT_WIDTH, height: 10, ellipsis: true });

    doc.page.margins.bottom = savedBottom;
  }
}

/** Builds the report and returns the PDF's bytes. */
export function renderCaseReportPdf(data: CaseReportData, options: RenderOptions): Promise<Buffer> {
  const { doc, done } = createPdfDocument(options.fonts, {
    Title: `${REPORT_TITLE} — ${data.accession}${data.draft ? ' (DRAFT)' : ''}`,
    Author: data.labName !== '' ? data.labName : 'MarrowCount',
    Subject: `Patient ${data.patient.labId}, accession ${data.accession}`,
    Creator: `MarrowCount ${data.appVersion}`,
    CreationDate: new Date(data.generatedAt),
  });

  header(doc, data);
  if (data.model?.researchOnly) disclaimerBanner(doc, data.model);
  if (data.correction !== null) correctionBanner(doc, data.correction);
  if (data.partialNotice !== null) warningBanner(doc, data.partialNotice);
  caseDetails(doc, data);
  keyResults(doc, data);
  signaturesBlock(doc, data);
  differentialTable(doc, data);
  sectionHeading(doc, 'Differential chart', 120);
  drawDifferentialChart(doc, data.differential);
  if (data.history) drawHistorySection(doc, data.history);
  reviewStatistics(doc, data);
  modelAndRules(doc, data);
  signOff(doc, data);
  gallerySection(
    doc,
    'Gallery: blasts and blast equivalents (BLA, FGC)',
    data.gallery.blasts,
    data.gallery.blastsTotal,
    options.thumbnails,
    'No cell is labelled as a blast or blast equivalent.',
  );
  gallerySection(
    doc,
    'Gallery: cells flagged for review',
    data.gallery.flagged,
    data.gallery.flaggedTotal,
    options.thumbnails,
    'No cell was flagged for review.',
  );
  ensureSpace(doc, 20);
  paragraph(
    doc,
    'Percentages are of the nucleated differential count (all counted cells except artefacts, cells not identifiable ' +
      'and smudge cells; ICSH 2008); 95% confidence intervals by the Wilson score method. Cell classes as in ' +
      `Matek C. et al., Blood 2021 (${CELL_CLASSES.OTH.name}s, OTH, are counted and must be described).`,
    { size: 7, colour: COLOUR.muted },
  );

  pageFurniture(doc, data);
  doc.end();
  return done;
}
