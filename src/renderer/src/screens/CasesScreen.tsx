import { isAnalysisUnderway, isReleased, statusText } from '../../../shared/case-lifecycle';
import { useState } from 'react';
import { CASE_STATUSES, type CaseStatus, type CaseSummary } from '../../../shared/api';
import { formatPercent } from '../../../shared/format';
import { getApi } from '../api';
import { Loading } from '../components/Loading';
import { STATUS_LABELS, StatusBadge } from '../components/StatusBadge';
import { formatDateTime } from '../format';
import { useApiQuery } from '../hooks/useApiQuery';
import { useLiveCase } from '../hooks/useLive';
import { usePolling } from '../hooks/usePolling';

interface Props {
  onOpen: (summary: CaseSummary) => void;
  onNew: () => void;
}

export function CasesScreen({ onOpen, onNew }: Props) {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<CaseStatus | ''>('');
  const trimmed = search.trim();
  const cases = useApiQuery(
    () => getApi().listCases({ ...(trimmed ? { search: trimmed } : {}), ...(status ? { status } : {}), limit: 500 }),
    `${trimmed}|${status}`,
    'Loading the case list',
  );

  // While a case is being analysed its status and counts change; keep the list current without a manual refresh.
  const anyRunning = (cases.data ?? []).some((row) => isAnalysisUnderway(row.status));
  const reloadCases = cases.reload;
  usePolling(
    async () => {
      await reloadCases();
    },
    2000,
    anyRunning,
  );
  useLiveCase('any', () => void reloadCases());

  return (
    <section className="screen" data-testid="cases-screen">
      <div className="screen-head">
        <h1>Cases</h1>
        <button type="button" className="button-primary" data-testid="cases-new" onClick={onNew}>
          New case
        </button>
      </div>
      <div className="toolbar">
        <label className="field-inline">
          Search
          <input
            type="search"
            value={search}
            placeholder="Patient, name or case number"
            data-testid="cases-search"
            onChange={(event) => setSearch(event.target.value)}
          />
        </label>
        <label className="field-inline">
          Status
          <select value={status} data-testid="cases-status-filter" onChange={(event) => setStatus(event.target.value as CaseStatus | '')}>
            <option value="">All</option>
            {CASE_STATUSES.map((value) => (
              <option key={value} value={value}>
                {STATUS_LABELS[value]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {cases.data === null ? (
        cases.loading ? (
          <Loading what="cases" />
        ) : null
      ) : cases.data.length === 0 ? (
        <p className="empty" data-testid="cases-empty">
          {trimmed || status ? 'No case matches this search.' : 'No cases yet. Create one with “New case”.'}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="table table-clickable" data-testid="cases-table">
            <thead>
              <tr>
                <th>Patient</th>
                <th>Case number</th>
                <th>Date</th>
                <th>Status</th>
                <th className="num">Blasts</th>
                <th className="num">To review</th>
                <th>Signed by</th>
                <th>
                  <span className="visually-hidden">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {cases.data.map((row) => (
                <tr
                  key={row.id}
                  tabIndex={0}
                  data-testid={`case-row-${row.id}`}
                  onClick={() => onOpen(row)}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter') onOpen(row);
                  }}
                >
                  <td className="case-patient-cell" data-testid={`case-patient-${row.id}`}>
                    <strong className="nowrap">{row.patientLabId}</strong>
                    {row.patientName !== null && <span className="muted"> · {row.patientName}</span>}
                  </td>
                  <td className="nowrap" data-testid={`case-accession-${row.id}`}>
                    {row.accession}
                  </td>
                  <td className="nowrap" data-testid={`case-date-${row.id}`}>
                    {formatDateTime(row.createdAt)}
                  </td>
                  <td data-testid={`case-status-${row.id}`}>
                    <StatusBadge status={row.status} text={statusText(row)} />
                    {row.amended && (
                      <span className="badge badge-amended" data-testid={`case-amended-${row.id}`} title="Amended after release">
                        Amended
                      </span>
                    )}
                  </td>
                  <td className="num" data-testid={`case-blast-${row.id}`}>
                    {formatPercent(row.blastPercentage)}
                  </td>
                  <td className="num">{row.flaggedUnreviewed > 0 ? row.flaggedUnreviewed : ''}</td>
                  {/* An amended case is back in review: its earlier signer has not signed what it shows now. */}
                  <td data-testid={`case-reviewer-${row.id}`}>{isReleased(row.status) ? (row.signedBy ?? '') : ''}</td>
                  <td>
                    <button
                      type="button"
                      data-testid={`case-open-${row.id}`}
                      onClick={(event) => {
                        event.stopPropagation();
                        onOpen(row);
                      }}
                    >
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
