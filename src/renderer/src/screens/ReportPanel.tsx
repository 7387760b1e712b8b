import { isReleased } from '../../../shared/case-lifecycle';
import { useState } from 'react';
import type { CaseDetail, ExportFormat, SavedFile } from '../../../shared/api';
import { getApi, getShell } from '../api';
import { isLabServerStation } from '../api/upload';
import { useMessages } from '../components/messages';
import { useApiAction } from '../hooks/useApiAction';
import { useSettings } from '../hooks/settings';
import { REPORT_TITLE } from '../../../shared/format';
import { reviewSavesSettled } from '../review/pendingReviewSaves';

const EXPORTS: { format: ExportFormat; label: string; kind: 'csv' | 'json'; suffix: string; testId: string }[] = [
  { format: 'csv-classes', label: 'CSV — class counts', kind: 'csv', suffix: '-classes.csv', testId: 'export-csv-classes' },
  { format: 'csv-cells', label: 'CSV — every cell', kind: 'csv', suffix: '-cells.csv', testId: 'export-csv-cells' },
  { format: 'json', label: 'JSON — full case', kind: 'json', suffix: '.json', testId: 'export-json' },
];

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export interface ReportActions {
  /** Asks where to save (desktop shell), saves and opens the PDF; `open` false only saves. */
  savePdf: (open?: boolean) => Promise<SavedFile | null>;
  /** Prints the PDF saved in this session, saving one first when there is none. */
  print: () => Promise<void>;
  savedReport: SavedFile | null;
}

/** Saving and printing, shared by the panel's buttons and the shell menu ('save-report', 'print'). */
export function useReportActions(detail: CaseDetail): ReportActions {
  const { reportError, notify } = useMessages();
  const shell = getShell();
  // Remembered per case, so a report saved for one case is never printed for another.
  const [saved, setSaved] = useState<{ caseId: number; file: SavedFile } | null>(null);
  const current = saved !== null && saved.caseId === detail.id ? saved.file : null;
  const onSaved = (file: SavedFile) => setSaved({ caseId: detail.id, file });

  const savePdf = async (open = true): Promise<SavedFile | null> => {
    try {
      let path: string | undefined;
      if (shell) {
        const chosen = await shell.chooseSavePath(`${safeName(detail.accession)}.pdf`, 'pdf');
        if (chosen === null) return null;
        path = chosen;
      }
      // A report or export written now must include the decisions still being saved from the review screen.
      await reviewSavesSettled();
      const saved = await getApi().saveReport({ caseId: detail.id, ...(path !== undefined ? { path } : {}) });
      onSaved(saved);
      notify(`Report saved: ${saved.path}`);
      if (shell && open) await shell.openPath(saved.path);
      return saved;
    } catch (error) {
      reportError(error, 'Saving the PDF report');
      return null;
    }
  };

  const print = async () => {
    if (!shell) return;
    // Always print a PDF written now: one saved earlier may predate later reviews or the sign-off. It overwrites the
    // file saved in this session (same path, current figures), or asks where to save when there is none.
    let saved: SavedFile | null;
    if (current !== null) {
      try {
        await reviewSavesSettled();
        saved = await getApi().saveReport({ caseId: detail.id, path: current.path });
        onSaved(saved);
      } catch (error) {
        reportError(error, 'Saving the PDF report before printing');
        return;
      }
    } else {
      saved = await savePdf(false);
    }
    if (saved === null) return;
    try {
      await shell.printFile(saved.path);
    } catch (error) {
      reportError(error, 'Printing the report');
    }
  };

  return { savePdf, print, savedReport: current };
}

interface Props {
  detail: CaseDetail;
  report: ReportActions;
}

export function ReportPanel({ detail, report }: Props) {
  const { settings } = useSettings();
  const { savedReport } = report;
  const { reportError, notify } = useMessages();
  const shell = getShell();
  const [exported, setExported] = useState<SavedFile | null>(null);
  const { busy, run: runAction } = useApiAction();
  // Each piece of work reports its own failures with its own context; this one is for anything it did not foresee.
  const run = (work: () => Promise<unknown>) => runAction(work, { report: 'Saving the report or export' });

  const exportAs = async (entry: (typeof EXPORTS)[number]) => {
    try {
      let path: string | undefined;
      if (shell) {
        const chosen = await shell.chooseSavePath(`${safeName(detail.accession)}${entry.suffix}`, entry.kind);
        if (chosen === null) return;
        path = chosen;
      }
      await reviewSavesSettled();
      const saved = await getApi().exportCase({ caseId: detail.id, format: entry.format, ...(path !== undefined ? { path } : {}) });
      setExported(saved);
      notify(`Exported: ${saved.path}`);
    } catch (error) {
      reportError(error, `Exporting ${entry.label}`);
    }
  };

  return (
    <div className="panel" data-testid="report-panel">
      <h2>Report</h2>
      {!isReleased(detail.status) && <p className="muted">The case is not signed yet; sign it off before releasing the report.</p>}
      {settings !== null && settings.labName === '' && (
        <p className="panel panel-info small" data-testid="report-lab-name-hint">
          The report is titled “{REPORT_TITLE}” because no laboratory name is set. Set it in Settings to print it at the top of every page.
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="button-primary" disabled={busy} data-testid="report-save-pdf" onClick={() => void run(() => report.savePdf())}>
          Save PDF
        </button>
        {shell && (
          <button type="button" disabled={busy} data-testid="report-print" onClick={() => void run(report.print)}>
            Print
          </button>
        )}
        {shell && savedReport !== null && (
          <button
            type="button"
            data-testid="report-open"
            onClick={() => void shell.openPath(savedReport.path).catch((error: unknown) => reportError(error, 'Opening the PDF'))}
          >
            Open PDF
          </button>
        )}
      </div>
      {savedReport !== null && (
        <p className="saved-path">
          Saved: <code data-testid="report-saved-path">{savedReport.path}</code> ({formatBytes(savedReport.bytes)})
          {isLabServerStation() && <DownloadLink path={savedReport.path} testId="report-download" />}
        </p>
      )}
      <h3>Exports</h3>
      <div className="form-actions">
        {EXPORTS.map((entry) => (
          <button key={entry.format} type="button" disabled={busy} data-testid={entry.testId} onClick={() => void run(() => exportAs(entry))}>
            {entry.label}
          </button>
        ))}
      </div>
      {exported !== null && (
        <p className="saved-path">
          Saved: <code data-testid="export-saved-path">{exported.path}</code> ({formatBytes(exported.bytes)})
          {isLabServerStation() && <DownloadLink path={exported.path} testId="export-download" />}
        </p>
      )}
    </div>
  );
}

/** At a lab-server station the file is saved on the server: a link fetches it with the session (GET /reports/<name>). */
function DownloadLink({ path, testId }: { path: string; testId: string }) {
  const name = path.split(/[\\/]/).pop() ?? path;
  return (
    <>
      {' '}
      <a href={`/reports/${encodeURIComponent(name)}`} download={name} data-testid={testId}>
        Download
      </a>
    </>
  );
}
