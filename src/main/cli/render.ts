// The CLI's text and JSON output. Figures are formatted by src/shared/format so the terminal, the UI and the PDF
// print the same numbers.
import type { AnalysisProgress, CaseDetail, CaseDifferential, ImportFailure } from '../../shared/api';
import { partialResultText, statusText } from '../../shared/case-lifecycle';
import { informativeBlastAdvisories, PROVISIONAL_ME_NOTE, provisionalRowNote } from '../../shared/differential';
import { KEPT_AS_IMPORTED } from '../inference/worker-protocol';
import { formatInterval, formatMeRatio, formatPercent } from '../../shared/format';

export interface AnalysisSummary {
  caseDetail: CaseDetail;
  differential: CaseDifferential;
  /** The final progress of this run; null when the case was not analysed again (signed). */
  progress: AnalysisProgress | null;
  seconds: number;
  failures: ImportFailure[];
  reportPath: string | null;
  cellsCsvPath: string | null;
  note: string | null;
  /** Where the case is stored (the desktop app's database unless --db named another). */
  databasePath: string;
}

const pad = (text: string, width: number): string => text.padEnd(width);
const padLeft = (text: string, width: number): string => text.padStart(width);

export function renderText(summary: AnalysisSummary): string {
  const { caseDetail: c, differential: cd, progress } = summary;
  const d = cd.differential;
  const lines: string[] = [];
  lines.push(`Case ${c.accession} · patient ${c.patientLabId} · ${c.folder}`);
  if (c.model) {
    lines.push(
      `Model: ${c.model.name} (${c.model.id} ${c.model.version}, sha256 ${c.model.sha256.slice(0, 12)}…)` +
        (c.model.researchOnly ? ' — research use only, not for diagnostic use' : ''),
    );
  }
  lines.push(`Database: ${summary.databasePath}`);
  if (summary.note) lines.push(summary.note);
  if (progress) {
    const rate = progress.cellsPerSecond > 0 ? `, ${progress.cellsPerSecond.toFixed(0)} cells/s while classifying` : '';
    const what = progress.phase === 'cancelled' ? 'Analysis cancelled' : 'Analysis done';
    lines.push(`${what}: ${progress.done} of ${progress.total} files processed in ${summary.seconds.toFixed(1)} s${rate}.`);
  }
  lines.push(`Status: ${statusText(c)}`);
  const partial = partialResultText(c.partial);
  if (partial !== null) lines.push(c.partial?.exclusion ? partial : `${partial} Run the same command again to resume.`);
  lines.push('');
  lines.push(`Differential (nucleated differential count, NDC = ${d.nucleatedDifferentialCount})`);
  lines.push(`  ${pad('Class', 28)}${padLeft('Count', 7)}${padLeft('%', 8)}   95% CI`);
  const notAssessed: string[] = [];
  for (const row of d.rows) {
    if (!row.inNdc) continue;
    if (!row.assessedByModel && row.count === 0) {
      notAssessed.push(row.code);
      continue;
    }
    const provisional = provisionalRowNote(row);
    const mark = row.flagged ? '  (flagged: describe)' : !row.assessedByModel ? '  (reviewer only)' : provisional ? `  (${provisional})` : '';
    lines.push(
      `  ${pad(`${row.code} ${row.name}`, 28)}${padLeft(String(row.count), 7)}${padLeft(formatPercent(row.percentOfNdc), 8)}   ${formatInterval(row.ci95)}${mark}`,
    );
  }
  lines.push(`  ${pad('Total NDC', 28)}${padLeft(String(d.nucleatedDifferentialCount), 7)}`);
  if (notAssessed.length > 0) lines.push(`  Not assessable by this model (no cells can be assigned): ${notAssessed.join(', ')}`);
  lines.push('');
  lines.push('Excluded from the NDC:');
  for (const e of d.excluded) {
    const per100 = e.per100Ndc === null ? '' : ` (${e.per100Ndc.toFixed(1)} per 100 NDC cells)`;
    lines.push(`  ${pad(`${e.code} ${e.name}`, 28)}${padLeft(String(e.count), 7)}${per100}${e.assessedByModel ? '' : '  (reviewer only)'}`);
  }
  lines.push(
    `Total cells counted: ${d.totalCellsCounted} (NDC ${d.nucleatedDifferentialCount} + ${d.totalCellsCounted - d.nucleatedDifferentialCount} excluded)`,
  );
  lines.push('');
  lines.push(`Blasts (BLA + FGC): ${d.blast.count} cells, ${formatPercent(d.blast.percentage)} of NDC (95% CI ${formatInterval(d.blast.ci95)})`);
  // The figure is on the line above; each advisory says only what it adds, as on the screen and in the PDF.
  for (const advisory of informativeBlastAdvisories(d.blast.advisories)) lines.push(`  - ${advisory.note}`);
  const me = d.meRatio;
  lines.push(
    `M:E ratio: ${formatMeRatio(me.ratio)} (myeloid ${me.myeloid}, erythroid ${me.erythroid})` +
      (me.undefinedReason ? ` — ${me.undefinedReason}` : '') +
      (me.provisional ? ` — ${PROVISIONAL_ME_NOTE}` : ''),
  );
  lines.push(`  Convention: ${me.convention}`);
  const t = d.countTarget;
  // The note is the counting core's own sentence ("Count target met: …" once met).
  lines.push(t.met ? t.note : `Count target: ${t.note}`);
  const r = cd.review;
  lines.push(`Flagged for review: ${r.flagged} cells (${r.flaggedReviewed} reviewed); review them in the MarrowCount app before sign-off.`);
  if (d.warnings.length > 0) {
    lines.push('');
    lines.push('Warnings:');
    for (const w of d.warnings) lines.push(`  - ${w}`);
  }
  // Both lists make the exit code 2, but only the first is missing from the count: a cell whose file changed after it
  // was analysed still counts as it was analysed.
  const changed = summary.failures.filter(isChangedAfterAnalysis);
  const notCounted = summary.failures.filter((f) => !isChangedAfterAnalysis(f));
  if (notCounted.length > 0) {
    lines.push('');
    lines.push(`Failed files (${notCounted.length}), not counted:`);
    for (const f of notCounted) lines.push(failureLine(f));
  }
  if (changed.length > 0) {
    lines.push('');
    lines.push(`Failed files (${changed.length}), changed on disk after they were analysed; their cells still count as analysed:`);
    for (const f of changed) lines.push(failureLine(f));
  }
  if (summary.reportPath) {
    lines.push('');
    lines.push(`Report written to ${summary.reportPath}`);
  }
  if (summary.cellsCsvPath) {
    if (!summary.reportPath) lines.push('');
    lines.push(`Per-cell CSV written to ${summary.cellsCsvPath}`);
  }
  return `${lines.join('\n')}\n`;
}

const failureLine = (f: ImportFailure): string => `  - ${f.reason.startsWith(f.file) ? f.reason : `${f.file}: ${f.reason}`}`;

export function isChangedAfterAnalysis(failure: ImportFailure): boolean {
  return failure.reason.includes(KEPT_AS_IMPORTED);
}

export function renderJson(summary: AnalysisSummary): string {
  const { caseDetail: c } = summary;
  return `${JSON.stringify(
    {
      case: { id: c.id, accession: c.accession, patient: c.patientLabId, folder: c.folder, status: c.status, statusText: statusText(c), partial: c.partial },
      model: c.model,
      analysis: summary.progress === null ? null : { ...summary.progress, seconds: summary.seconds },
      note: summary.note,
      differential: summary.differential.differential,
      review: summary.differential.review,
      failures: summary.failures,
      report: summary.reportPath,
      cellsCsv: summary.cellsCsvPath,
    },
    null,
    2,
  )}\n`;
}

/** One progress line or bar. On a terminal the bar is redrawn in place; elsewhere one line per step. */
export function progressText(progress: AnalysisProgress, width = 30): string {
  if (progress.phase === 'importing') return 'Reading the case folder…';
  if (progress.phase !== 'classifying') {
    return `${progress.phase === 'done' ? 'Done' : progress.phase === 'cancelled' ? 'Cancelled' : 'Failed'}: ${progress.done}/${progress.total} cells`;
  }
  const fraction = progress.total > 0 ? progress.done / progress.total : 0;
  const filled = Math.round(fraction * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const eta = progress.etaSeconds === null ? '' : `, about ${Math.ceil(progress.etaSeconds)} s left`;
  return `[${bar}] ${progress.done}/${progress.total} cells, ${progress.cellsPerSecond.toFixed(0)} cells/s${eta}`;
}
