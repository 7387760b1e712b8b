import type { CaseStatus } from '../../../shared/api';

export const STATUS_LABELS: Readonly<Record<CaseStatus, string>> = {
  importing: 'Importing',
  analysing: 'Analysing',
  in_review: 'In review',
  signed: 'Signed',
};

export function StatusBadge({ status, testId }: { status: CaseStatus; testId?: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid={testId}>
      {STATUS_LABELS[status]}
    </span>
  );
}
