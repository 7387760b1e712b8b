import { useMemo, type KeyboardEvent } from 'react';
import type { CaseDetail } from '../../../shared/api';
import { CELL_CLASSES, type CellClassCode } from '../../../shared/cell-classes';
import { informativeBlastAdvisories, PROVISIONAL_ME_NOTE, provisionalRowNote, type BlastAdvisoryStatus, type Differential } from '../../../shared/differential';
import { formatInterval, formatMeRatio, formatPercent, NOT_AVAILABLE, plural } from '../../../shared/format';
import { getApi } from '../api';
import { BarChart, type Bar } from '../components/BarChart';
import { Loading } from '../components/Loading';
import { ProgressBar } from '../components/ProgressBar';
import { useApiQuery } from '../hooks/useApiQuery';
import { useLiveCase } from '../hooks/useLive';
import { FailureList, ImportProblemsNotice } from './AnalysisScreen';

interface Props {
  detail: CaseDetail;
  onOpenClass: (code: CellClassCode) => void;
  onReview: () => void;
}

const ADVISORY_CLASS: Readonly<Record<BlastAdvisoryStatus, string>> = {
  below: 'advisory advisory-below',
  near: 'advisory advisory-near',
  at_or_above: 'advisory advisory-above',
};

export function DifferentialScreen({ detail, onOpenClass, onReview }: Props) {
  const query = useApiQuery(() => getApi().getDifferential(detail.id), String(detail.id), 'Loading the differential');
  const reload = query.reload;
  useLiveCase(detail.id, () => void reload());
  const result = query.data;
  if (result === null) return query.loading ? <Loading what="the differential" /> : null;
  const { differential, review } = result;
  const unreviewed = review.flagged - review.flaggedReviewed;

  return (
    <section className="screen" data-testid="differential-screen">
      <ImportProblemsNotice failures={detail.importFailures} testId="differential-problems-notice" />
      <div className="summary-grid">
        <BlastCard differential={differential} />
        <div className="panel summary-card">
          <h3>M:E ratio</h3>
          <p className="figure-large" data-testid="me-ratio">
            {formatMeRatio(differential.meRatio.ratio)}
          </p>
          <p className="muted small">
            Myeloid {differential.meRatio.myeloid} · erythroid {differential.meRatio.erythroid}
            {differential.meRatio.undefinedReason !== null && <> — {differential.meRatio.undefinedReason}</>}
          </p>
          {differential.meRatio.provisional && (
            <p className="small provisional-note" data-testid="me-provisional">
              {PROVISIONAL_ME_NOTE}
            </p>
          )}
          <p className="small" data-testid="me-convention">
            {differential.meRatio.convention}
          </p>
        </div>
        <div className="panel summary-card">
          <h3>Count target</h3>
          <p className="figure-large">
            <span data-testid="ndc-total">{differential.nucleatedDifferentialCount}</span>
            <span className="figure-unit"> / {differential.countTarget.target} nucleated cells</span>
          </p>
          <ProgressBar
            value={differential.countTarget.counted}
            max={differential.countTarget.target}
            label="Nucleated cells counted of the target"
            testId="count-target"
            tone={differential.countTarget.met ? 'done' : differential.countTarget.counted < differential.countTarget.minimumAcceptable ? 'warning' : 'normal'}
          />
          <p className="small" data-testid="count-target-text">
            {differential.countTarget.note}
          </p>
        </div>
        <div className={unreviewed > 0 ? 'panel summary-card summary-attention' : 'panel summary-card'}>
          <h3>Review</h3>
          <p className="figure-large" data-testid="review-remaining">
            {unreviewed > 0 ? plural(unreviewed, 'cell flagged', 'cells flagged') : 'All flagged cells reviewed'}
          </p>
          <p className="muted small">
            {review.flaggedReviewed} of {review.flagged} flagged reviewed · {review.reviewed} reviewed in all · {review.reclassified} reclassified
          </p>
          <button type="button" className={unreviewed > 0 ? 'button-primary' : ''} data-testid="review-start" onClick={onReview}>
            Review flagged cells
          </button>
        </div>
      </div>

      {differential.warnings.length > 0 && (
        <ul className="panel panel-warning warning-list" data-testid="differential-warnings">
          {differential.warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}

      <div className="differential-body">
        <div className="panel">
          <h3>Nucleated differential</h3>
          <ClassTable differential={differential} onOpenClass={onOpenClass} />
          <h3>Excluded from the differential</h3>
          <ExcludedTable differential={differential} onOpenClass={onOpenClass} />
        </div>
        <div className="panel">
          <h3>% of nucleated cells</h3>
          <DifferentialChart differential={differential} />
        </div>
      </div>

      {detail.importFailures.length > 0 && <FailureList failures={detail.importFailures} testId="import-failures" itemPrefix="import-failure" />}
    </section>
  );
}

function BlastCard({ differential }: { differential: Differential }) {
  const { blast } = differential;
  // The figure is said once, above; each advisory line then says only where it stands against its threshold.
  const advisories = informativeBlastAdvisories(blast.advisories);
  return (
    <div className="panel summary-card blast-card">
      <h3>Blasts (BLA + FGC)</h3>
      <p className="figure-huge" data-testid="blast-percentage">
        {formatPercent(blast.percentage)}
      </p>
      <p className="figure-sub" data-testid="blast-interval">
        95% CI {formatInterval(blast.ci95)} · {plural(blast.count, 'cell', 'cells')}
      </p>
      {advisories.length > 0 && (
        <ul className="advisories" data-testid="blast-advisories">
          {advisories.map((advisory, index) => (
            <li key={advisory.threshold} className={ADVISORY_CLASS[advisory.status]} data-testid={`blast-advisory-${index}`}>
              {advisory.note.charAt(0).toUpperCase() + advisory.note.slice(1)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A table row that opens its class's cells, by mouse or by Enter from the keyboard. */
function openClassRow(row: { code: CellClassCode; name: string }, onOpenClass: (code: CellClassCode) => void) {
  return {
    tabIndex: 0,
    title: `Show the ${row.name} cells`,
    onClick: () => onOpenClass(row.code),
    onKeyDown: (event: KeyboardEvent) => {
      if (event.key === 'Enter') onOpenClass(row.code);
    },
  };
}

function ClassTable({ differential, onOpenClass }: { differential: Differential; onOpenClass: (code: CellClassCode) => void }) {
  return (
    <table className="table table-clickable table-compact" data-testid="differential-table">
      <thead>
        <tr>
          <th>Code</th>
          <th>Class</th>
          <th className="num">Count</th>
          <th className="num">% of NDC</th>
          <th className="num">95% CI</th>
        </tr>
      </thead>
      <tbody>
        {differential.rows
          .filter((row) => row.inNdc)
          .map((row) => (
            <tr
              key={row.code}
              {...openClassRow(row, onOpenClass)}
              className={CELL_CLASSES[row.code].blastEquivalent ? 'row-blast' : row.flagged ? 'row-flagged' : undefined}
              data-testid={`class-row-${row.code}`}
            >
              <td className="code">{row.code}</td>
              <td>
                {row.name}
                {!row.assessedByModel && (
                  <span className="muted small" title="The model cannot output this class; counts come from reviewers only">
                    {' '}
                    (reviewer only)
                  </span>
                )}
                {row.provisionalUnreviewed > 0 && (
                  <span
                    className="muted small"
                    data-testid={`class-provisional-${row.code}`}
                    title="Counted on predictions of a class the model learned without marrow images; review these cells"
                  >
                    {' '}
                    ({provisionalRowNote(row)})
                  </span>
                )}
              </td>
              <td className="num" data-testid={`class-count-${row.code}`}>
                {row.count}
              </td>
              <td className="num" data-testid={`class-percent-${row.code}`}>
                {formatPercent(row.percentOfNdc)}
              </td>
              <td className="num muted" data-testid={`class-interval-${row.code}`}>
                {formatInterval(row.ci95)}
              </td>
            </tr>
          ))}
      </tbody>
      <tfoot>
        <tr>
          <td />
          <td>Nucleated differential count (NDC)</td>
          <td className="num">{differential.nucleatedDifferentialCount}</td>
          <td className="num">{differential.nucleatedDifferentialCount > 0 ? '100%' : NOT_AVAILABLE}</td>
          <td />
        </tr>
      </tfoot>
    </table>
  );
}

function ExcludedTable({ differential, onOpenClass }: { differential: Differential; onOpenClass: (code: CellClassCode) => void }) {
  return (
    <table className="table table-clickable table-compact" data-testid="excluded-table">
      <thead>
        <tr>
          <th>Code</th>
          <th>Class</th>
          <th className="num">Count</th>
          <th className="num">per 100 NDC</th>
        </tr>
      </thead>
      <tbody>
        {differential.excluded.map((row) => (
          <tr key={row.code} {...openClassRow(row, onOpenClass)} data-testid={`excluded-row-${row.code}`}>
            <td className="code">{row.code}</td>
            <td>
              {row.name}
              {!row.assessedByModel && (
                <span
                  className="muted small"
                  data-testid={`excluded-reviewer-only-${row.code}`}
                  title="The model cannot output this class; counts come from reviewers only"
                >
                  {' '}
                  (reviewer only)
                </span>
              )}
            </td>
            <td className="num" data-testid={`excluded-count-${row.code}`}>
              {row.count}
            </td>
            <td className="num" data-testid={`excluded-per100-${row.code}`}>
              {row.per100Ndc === null ? NOT_AVAILABLE : row.per100Ndc.toFixed(1)}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td />
          <td>All cells counted</td>
          <td className="num">{differential.totalCellsCounted}</td>
          <td />
        </tr>
      </tfoot>
    </table>
  );
}

function DifferentialChart({ differential }: { differential: Differential }) {
  const bars = useMemo<Bar[]>(
    () =>
      differential.rows
        .filter((row) => row.inNdc)
        .map((row) => ({
          label: row.code,
          value: row.percentOfNdc ?? 0,
          title: `${row.code} — ${row.name} (${row.count})`,
          highlight: CELL_CLASSES[row.code].blastEquivalent,
        })),
    [differential],
  );
  return (
    <BarChart
      bars={bars}
      axisLabel="% of nucleated cells"
      testId="differential-chart"
      ariaLabel="Bar chart of the percentage of each class in the nucleated differential"
    />
  );
}
