// The lab model's card as a PDF (issue 14): who trained it on which cases, what it learned, and its validation on
// held-out cases side by side with the base model on the same cells. Pure over its input: no database, no clock.
import type { LabModelDetail } from '../../shared/api';
import { labModelBelowBaseWarning, labModelScoresBelowBase } from '../../shared/lab-training';
import type { ReportFonts } from './fonts';
import { COLOUR, CONTENT_WIDTH, FONT, MARGIN, createPdfDocument, labelValueGrid, paragraph, sectionHeading, table, type TableColumn } from './pdf-layout';

const f2 = (x: number): string => x.toFixed(2);
const f3 = (x: number): string => x.toFixed(3);
const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

export function renderLabModelCardPdf(lab: LabModelDetail, options: { fonts: ReportFonts; appVersion: string; generatedAt: string }): Promise<Buffer> {
  const { doc, done } = createPdfDocument(options.fonts, {
    Title: `Model card — ${lab.name}`,
    Creator: `MarrowCount ${options.appVersion}`,
    CreationDate: new Date(options.generatedAt),
  });
  const v = lab.validation;

  doc.font(FONT.bold).fontSize(15).fillColor(COLOUR.text).text(`Model card: ${lab.name}`, MARGIN.left, MARGIN.top, { width: CONTENT_WIDTH });
  doc.y += 4;
  paragraph(
    doc,
    `NOT FOR DIAGNOSTIC USE. A classifier head trained in MarrowCount on the base model's embeddings of this lab's reviewed cells. ` +
      'The figures below are from held-out cases (split by case) and describe only cells like those reviewed.',
    { colour: COLOUR.warning, bold: true },
  );

  sectionHeading(doc, 'Identity and provenance');
  labelValueGrid(
    doc,
    [
      { label: 'Version', value: lab.version },
      { label: 'Status', value: lab.status },
      { label: 'Model SHA-256', value: lab.sha256 },
      { label: 'Head SHA-256', value: lab.headSha256 },
      { label: 'Base model', value: `${lab.baseModel.modelId} ${lab.baseModel.version} (${lab.baseModel.sha256})` },
      { label: 'Trained by', value: `${lab.trainedBy}, ${lab.trainedAt}` },
      ...(lab.importedBy ? [{ label: 'Imported by', value: `${lab.importedBy}, ${lab.importedAt ?? ''}` }] : []),
      {
        label: 'Approved by',
        value: lab.approvedBy ? `${lab.approvedBy} (${lab.approvedRole ?? ''}), ${lab.approvedAt ?? ''}: ${lab.approvedReason ?? ''}` : 'not approved',
      },
      ...(lab.retiredBy ? [{ label: 'Retired by', value: `${lab.retiredBy}, ${lab.retiredAt ?? ''}: ${lab.retiredReason ?? ''}` }] : []),
      { label: 'Classes learned', value: `${lab.classes.join(', ')} (at least ${v.minimumPerClass} reviewed training cells each)` },
      {
        label: 'Training',
        value: `${v.training.cells} cells, L2 ${v.training.l2}, ${v.training.epochs} epochs, batch ${v.training.batchSize}, seed ${v.training.seed}, ${v.training.seconds.toFixed(1)} s`,
      },
    ],
    1,
    110,
  );

  sectionHeading(doc, 'Held-out comparison with the base model (same test cells)');
  paragraph(
    doc,
    `Test fold: ${v.lab.cells} cells of ${v.folds.filter((f) => f.fold === 'test').length} case(s); ${v.testCellsOfUnlearnedClasses} further test cells of classes the lab model ` +
      `did not learn are in no recall but count against the precision of the class they were called (row "other"). Macro-F1 over the lab model's classes: lab model ${f3(v.lab.macroF1)}, base model ${f3(v.base.macroF1)}; ` +
      `accuracy ${f3(v.lab.accuracy)} vs ${f3(v.base.accuracy)}.`,
  );
  if (labModelScoresBelowBase(v)) paragraph(doc, labModelBelowBaseWarning(v), { colour: COLOUR.warning, bold: true });
  const cols: TableColumn[] = [
    { header: 'Class', width: 50 },
    { header: 'Train', width: 45, align: 'right' },
    { header: 'Test', width: 45, align: 'right' },
    { header: 'Base P', width: 55, align: 'right' },
    { header: 'Base R', width: 55, align: 'right' },
    { header: 'Base F1', width: 55, align: 'right' },
    { header: 'Lab P', width: 55, align: 'right' },
    { header: 'Lab R', width: 55, align: 'right' },
    { header: 'Lab F1', width: 55, align: 'right' },
  ];
  table(
    doc,
    cols,
    v.lab.perClass.map((m, i) => {
      const b = v.base.perClass[i]!;
      const support = v.classes.find((c) => c.code === m.code);
      return {
        cells: [m.code, String(support?.train ?? 0), String(m.support), f2(b.precision), f2(b.recall), f2(b.f1), f2(m.precision), f2(m.recall), f2(m.f1)],
      };
    }),
  );

  sectionHeading(doc, 'Confusion matrix of the lab model (rows: reviewed label; columns: lab model)');
  const k = v.lab.classes.length;
  const w = Math.min(44, (CONTENT_WIDTH - 50) / (k + 1));
  table(
    doc,
    [{ header: '', width: 50 }, ...v.lab.classes.map((c) => ({ header: c, width: w, align: 'right' as const })), { header: 'other', width: w, align: 'right' }],
    v.lab.confusion.map((row, t) => ({ cells: [v.lab.classes[t] ?? 'other', ...row.map(String)] })),
  );

  sectionHeading(doc, 'Calibration and open-set flag');
  paragraph(
    doc,
    `Temperature ${f2(v.calibration.temperature)}, fitted on ${v.calibration.fittedOnCells} cells of the calibration case(s). On the test cells: expected calibration ` +
      `error ${f3(v.calibration.eceBefore)} before, ${f3(v.calibration.eceAfter)} after (base model ${f3(v.calibration.baseEce)}); NLL ${f3(v.calibration.nllBefore)} → ` +
      `${f3(v.calibration.nllAfter)}.`,
  );
  paragraph(
    doc,
    v.openSet === null
      ? 'The base model has no open-set statistics.'
      : `Open-set distance above ${f2(v.openSet.threshold)}: ${pct(v.openSet.flaggedShare)} of the test cells, ${pct(v.openSet.flaggedShareOfLabErrors)} of the lab ` +
          `model's errors and ${pct(v.openSet.flaggedShareOfLabCorrect)} of its correct calls are flagged.`,
  );

  sectionHeading(doc, 'Cases');
  table(
    doc,
    [
      { header: 'Accession', width: 200 },
      { header: 'Reviewed cells', width: 100, align: 'right' },
      { header: 'Fold', width: 100 },
    ],
    lab.cases.map((c) => ({ cells: [c.accession, String(c.cells), c.fold] })),
  );
  doc.end();
  return done;
}
