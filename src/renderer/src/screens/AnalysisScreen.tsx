import { isAnalysisUnderway, partialResultText, statusText } from '../../../shared/case-lifecycle';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AnalysisPhase, AnalysisProgress, CaseDetail, ImportFailure } from '../../../shared/api';
import { plural } from '../../../shared/format';
import { getApi } from '../api';
import { ProgressBar } from '../components/ProgressBar';
import { useMessages } from '../components/messages';
import { useApiAction } from '../hooks/useApiAction';
import { formatDateTime, formatDuration } from '../format';
import { usePolling } from '../hooks/usePolling';
import { FormError } from '../components/FormError';

/** ~4 Hz: smooth enough for a progress bar, light on the service. */
const POLL_MS = 250;

const PHASE_TEXT: Readonly<Record<AnalysisPhase, string>> = {
  importing: 'Reading the image folder…',
  classifying: 'Classifying cells…',
  done: 'Analysis complete',
  cancelled: 'Analysis cancelled',
  failed: 'Analysis failed',
};

interface Props {
  caseId: number;
  /** The case as last loaded: says whether an analysis finished before this screen (progress is not kept forever). */
  detail: CaseDetail;
  onDone: () => void;
  /** Called when the phase changes, so the case header's status badge can follow. */
  onPhaseChange: () => void;
  /** True when the user just started this analysis (or opened a running one): a finish moves on by itself. */
  autoAdvance: boolean;
}

export function AnalysisScreen({ caseId, detail, onDone, onPhaseChange, autoAdvance }: Props) {
  const { reportError } = useMessages();
  const [progress, setProgress] = useState<AnalysisProgress | null>(null);
  const [checked, setChecked] = useState(false);
  const { busy, run } = useApiAction();
  const lastPhase = useRef<AnalysisPhase | null>(null);
  // Only a run watched to its end moves on by itself; opening the tab of a finished analysis stays here.
  const sawRunning = useRef(autoAdvance);

  const apply = useCallback(
    (next: AnalysisProgress | null) => {
      setProgress(next);
      setChecked(true);
      const phase = next?.phase ?? null;
      if (phase !== lastPhase.current) {
        lastPhase.current = phase;
        onPhaseChange();
        if (phase === 'importing' || phase === 'classifying') sawRunning.current = true;
        if (phase === 'done' && sawRunning.current) onDone();
      }
    },
    [onDone, onPhaseChange],
  );

  const running = progress === null ? !checked : progress.phase === 'importing' || progress.phase === 'classifying';
  usePolling(
    async () => {
      try {
        apply(await getApi().getAnalysisProgress(caseId));
      } catch (error) {
        reportError(error, 'Reading the analysis progress');
      }
    },
    POLL_MS,
    running,
  );

  useEffect(() => {
    lastPhase.current = null;
    sawRunning.current = autoAdvance;
  }, [caseId, autoAdvance]);

  const act = (what: 'start' | 'cancel') =>
    run(
      async () => {
        const api = getApi();
        apply(what === 'start' ? await api.startAnalysis(caseId) : await api.cancelAnalysis(caseId));
      },
      { report: what === 'start' ? 'Starting the analysis' : 'Cancelling the analysis' },
    );

  // The service keeps no progress for an analysis finished in an earlier session: the case itself says it is done.
  const finishedEarlier = checked && progress === null && detail.analysedAt !== null && detail.status !== 'cancelled' && !isAnalysisUnderway(detail.status);
  // A run stopped in an earlier session: the case records how far it got.
  if (checked && progress === null && detail.status === 'cancelled') {
    return (
      <section className="screen" data-testid="analysis-screen">
        <ImportProblemsNotice failures={detail.importFailures} testId="analysis-problems-notice" />
        <div className="panel analysis-panel">
          <h2 data-testid="analysis-phase">{statusText(detail)}</h2>
          <p data-testid="analysis-partial">{partialResultText(detail.partial)}</p>
          <div className="form-actions">
            <button type="button" className="button-primary" disabled={busy} data-testid="analysis-resume" onClick={() => void act('start')}>
              Resume analysis
            </button>
          </div>
        </div>
        {detail.importFailures.length > 0 && <FailureList failures={detail.importFailures} testId="analysis-failures" itemPrefix="analysis-failure" />}
      </section>
    );
  }
  if (finishedEarlier) {
    return (
      <section className="screen" data-testid="analysis-screen">
        <ImportProblemsNotice failures={detail.importFailures} testId="analysis-problems-notice" />
        <div className="panel analysis-panel">
          <h2 data-testid="analysis-phase">{PHASE_TEXT.done}</h2>
          <p>
            {plural(detail.cellCount, 'cell', 'cells')} classified on {formatDateTime(detail.analysedAt)}
            {detail.model !== null && (
              <>
                {' '}
                by {detail.model.name} ({detail.model.id} {detail.model.version})
              </>
            )}
            .
          </p>
          <div className="form-actions">
            <button type="button" className="button-primary" data-testid="analysis-open-differential" onClick={onDone}>
              Open the differential
            </button>
          </div>
        </div>
        {detail.importFailures.length > 0 && <FailureList failures={detail.importFailures} testId="analysis-failures" itemPrefix="analysis-failure" />}
      </section>
    );
  }

  return (
    <section className="screen" data-testid="analysis-screen">
      {progress !== null && <ImportProblemsNotice failures={progress.failures} testId="analysis-problems-notice" />}
      <div className="panel analysis-panel">
        <h2 data-testid="analysis-phase">{progress === null ? (checked ? 'Analysis not started' : 'Checking the analysis…') : PHASE_TEXT[progress.phase]}</h2>
        {progress !== null && (
          <>
            <ProgressBar
              value={progress.done}
              max={progress.total}
              label="Cells classified"
              testId="analysis-progress"
              tone={progress.phase === 'done' ? 'done' : progress.phase === 'failed' ? 'warning' : 'normal'}
            />
            <div className="analysis-figures">
              <span data-testid="analysis-count" className="figure-large">
                {progress.done} / {progress.total} cells
              </span>
              <span data-testid="analysis-outcomes">
                {plural(progress.classified, 'cell', 'cells')} classified · {plural(progress.failed, 'file', 'files')} failed ·{' '}
                {plural(progress.duplicates, 'copy', 'copies')}
              </span>
              <span data-testid="analysis-rate">{progress.cellsPerSecond.toFixed(1)} cells/s</span>
              {running && <span data-testid="analysis-eta">{formatDuration(progress.etaSeconds)}</span>}
            </div>
            {progress.total > 0 && progress.duplicates * 2 > progress.total && (
              <p className="form-error" role="alert" data-testid="analysis-mostly-copies">
                {progress.duplicates.toLocaleString('en-GB')} of {progress.total.toLocaleString('en-GB')} files are copies of others — wrong folder?
              </p>
            )}
            {progress.phase === 'cancelled' && detail.partial !== null && <p data-testid="analysis-partial">{partialResultText(detail.partial)}</p>}
            <FormError text={progress.message} testId="analysis-message" />
          </>
        )}
        <div className="form-actions">
          {running && progress !== null && (
            <button type="button" disabled={busy} data-testid="analysis-cancel" onClick={() => void act('cancel')}>
              Cancel analysis
            </button>
          )}
          {!running && progress?.phase !== 'done' && (
            <button type="button" className="button-primary" disabled={busy} data-testid="analysis-resume" onClick={() => void act('start')}>
              {progress === null ? 'Start analysis' : 'Resume analysis'}
            </button>
          )}
          {progress?.phase === 'done' && (
            <button type="button" className="button-primary" data-testid="analysis-open-differential" onClick={onDone}>
              Open the differential
            </button>
          )}
        </div>
      </div>
      {progress !== null && progress.failures.length > 0 && (
        <FailureList failures={progress.failures} testId="analysis-failures" itemPrefix="analysis-failure" />
      )}
    </section>
  );
}

const FAILURE_LIST_ID = 'import-problems';

/**
 * At the top of the analysis and differential screens: how many files were not used, with a link to the list
 * (which sits below the figures), so a problem with the folder is seen first, not after a long page.
 */
export function ImportProblemsNotice({ failures, testId }: { failures: readonly ImportFailure[]; testId: string }) {
  if (failures.length === 0) return null;
  return (
    <p className="panel panel-warning import-notice" role="status" data-testid={testId}>
      {plural(failures.length, 'file was', 'files were')} not used as cells (unreadable, or copies of other files).{' '}
      <a
        href={`#${FAILURE_LIST_ID}`}
        onClick={(event) => {
          event.preventDefault();
          document.getElementById(FAILURE_LIST_ID)?.scrollIntoView();
        }}
      >
        See the list
      </a>
    </p>
  );
}

export function FailureList({ failures, testId, itemPrefix }: { failures: ImportFailure[]; testId: string; itemPrefix: string }) {
  return (
    <div className="panel panel-warning" id={FAILURE_LIST_ID}>
      <h3>{plural(failures.length, 'file needs', 'files need')} attention</h3>
      {/* Files changed on disk after they were analysed are listed here too, and their cells still count. */}
      <p className="muted">Each line says what happened. A file that could not be read is not counted; the other cells are analysed normally.</p>
      <ul className="failure-list" data-testid={testId}>
        {failures.map((failure, index) => (
          <li key={`${failure.file}-${index}`} data-testid={`${itemPrefix}-${index}`}>
            <code>{failure.file}</code> — {failure.reason}
          </li>
        ))}
      </ul>
    </div>
  );
}
