// Over every tab of a case whose crops are also another patient's case (issue 21): which case and patient, how many
// files, and who confirmed it, when and why, as recorded when the case was made. Nothing for most cases.
import type { CaseDetail } from '../../../shared/api';
import { formatDateTime } from '../format';
import { caseRoute, routeToHash } from '../navigation/route';

export function SharedCropsNotice({ detail }: { detail: Pick<CaseDetail, 'sharedCrops'> }) {
  if (detail.sharedCrops.length === 0) return null;
  return (
    <div className="panel panel-warning shared-crops-notice" role="note" data-testid="shared-crops-notice">
      <p>
        <strong>This case’s crops are also filed under another patient.</strong>
      </p>
      <ul>
        {detail.sharedCrops.map((s) => (
          <li key={s.otherCaseId} data-testid="shared-crops-record">
            {s.sharedFiles.toLocaleString('en-GB')} {s.sharedFiles === 1 ? 'file' : 'files'} shared with{' '}
            <a href={routeToHash(caseRoute(s.otherCaseId, 'differential'))}>case {s.otherAccession}</a> of patient {s.otherPatientLabId}
            {s.otherPatientName !== null ? ` (${s.otherPatientName})` : ''}. Confirmed by {s.confirmedBy} on {formatDateTime(s.confirmedAt)}: “{s.reason}”
          </li>
        ))}
      </ul>
    </div>
  );
}
