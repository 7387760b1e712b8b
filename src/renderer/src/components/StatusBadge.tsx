import { CASE_STATUS_LABELS, CASE_STATUS_MEANINGS, type CaseStatus } from '../../../shared/case-lifecycle';

// Labels come from the lifecycle module so the badge, the case list's filter and the CLI say the same word.
export const STATUS_LABELS = CASE_STATUS_LABELS;

export function StatusBadge({ status, testId, text }: { status: CaseStatus; testId?: string; text?: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid={testId} title={CASE_STATUS_MEANINGS[status]}>
      {text ?? STATUS_LABELS[status]}
    </span>
  );
}
