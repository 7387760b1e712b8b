import type { ReactNode } from 'react';
import './history.css';
import { CASE_STATUS_LABELS } from '../../../shared/case-lifecycle';
import { formatInterval, formatMeRatio, formatPercent, NOT_AVAILABLE } from '../../../shared/format';
import { HISTORY_LINEAGE_NAMES, HISTORY_LINEAGES, type MarrowResult } from '../../../shared/marrow-history';
import { SPECIMEN_LABELS } from '../format';

/** How a result stands, in words: released, released after an amendment, re-opened (last released shown), draft. */
export function resultStateLabel(m: MarrowResult): string {
  if (m.state === 'draft') return `Not released (${CASE_STATUS_LABELS[m.status].toLowerCase()})`;
  if (m.state === 'reopened') return 'Amended — back in review; last released result shown';
  return m.amended ? `Released (amended, version ${m.releasedVersions})` : 'Released';
}

interface Props {
  marrows: readonly MarrowResult[];
  testId: string;
  /** The case the table is shown for, marked "this case". */
  currentCaseId?: number;
  /** An extra last column (e.g. the difference with this case), per row. */
  extra?: { heading: string; cell: (m: MarrowResult) => ReactNode };
  onOpen?: (caseId: number) => void;
  /** Print the specimen type under the case (the patient view mixes marrow and blood; a case's comparison does not). */
  showSpecimen?: boolean;
  /** Lineage columns; a case's comparison lists the lineages in words above its table instead. */
  showLineages?: boolean;
}

/** A patient's marrows, one row each, with the figures followed over time. Drafts are greyed and labelled. */
export function MarrowTable({ marrows, testId, currentCaseId, extra, onOpen, showSpecimen = true, showLineages = true }: Props) {
  return (
    <div className="history-table-box">
      <table className="table history-table" data-testid={testId}>
        <thead>
          <tr>
            <th>Specimen date</th>
            <th>Case</th>
            <th>Result</th>
            <th className="num">Blasts</th>
            <th className="num">95% CI</th>
            <th className="num">NDC</th>
            <th className="num">M:E</th>
            {(showLineages ? HISTORY_LINEAGES : []).map((lineage) => (
              <th key={lineage} className="num">
                {HISTORY_LINEAGE_NAMES[lineage]}
              </th>
            ))}
            {extra && <th>{extra.heading}</th>}
          </tr>
        </thead>
        <tbody>
          {marrows.map((m) => {
            const f = m.figures;
            const classes = ['history-row', `history-${m.state}`, m.caseId === currentCaseId ? 'history-current' : ''].join(' ').trim();
            return (
              <tr key={m.caseId} className={classes} data-testid={`${testId}-row-${m.caseId}`} data-state={m.state}>
                <td className="nowrap">
                  {m.specimenDate}
                  {m.specimenDateSource === 'case_created' && (
                    <span className="muted small" title="No specimen date was recorded; the day the case was created is shown.">
                      {' '}
                      (entered)
                    </span>
                  )}
                </td>
                <td>
                  {onOpen ? (
                    <button type="button" className="link-button" data-testid={`${testId}-open-${m.caseId}`} onClick={() => onOpen(m.caseId)}>
                      {m.accession}
                    </button>
                  ) : (
                    m.accession
                  )}
                  {m.caseId === currentCaseId && <span className="muted small"> (this case)</span>}
                  {showSpecimen && <div className="muted small">{SPECIMEN_LABELS[m.specimen]}</div>}
                </td>
                <td data-testid={`${testId}-state-${m.caseId}`}>
                  {resultStateLabel(m)}
                  {m.problem !== null && (
                    <div className="field-error" role="alert" data-testid={`${testId}-problem-${m.caseId}`}>
                      {m.problem}
                    </div>
                  )}
                </td>
                <td className="num" data-testid={`${testId}-blast-${m.caseId}`}>
                  {f === null ? NOT_AVAILABLE : formatPercent(f.blast.percentage)}
                </td>
                <td className="num">{f === null ? NOT_AVAILABLE : formatInterval(f.blast.ci95)}</td>
                <td className="num">{f === null ? NOT_AVAILABLE : f.nucleatedDifferentialCount}</td>
                <td className="num">{f === null ? NOT_AVAILABLE : formatMeRatio(f.meRatio)}</td>
                {(showLineages ? HISTORY_LINEAGES : []).map((lineage) => {
                  const l = f?.lineages[lineage];
                  const note = l !== undefined && l.notAssessed.length > 0 ? `Not assessed by the model: ${l.notAssessed.join(', ')}` : undefined;
                  return (
                    <td key={lineage} className="num" title={note}>
                      {l === undefined ? NOT_AVAILABLE : formatPercent(l.percentage)}
                      {note !== undefined && l?.percentage !== null && <span className="muted">*</span>}
                    </td>
                  );
                })}
                {extra && <td className="history-extra">{extra.cell(m)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
