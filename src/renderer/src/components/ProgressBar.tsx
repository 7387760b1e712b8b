interface Props {
  value: number;
  max: number;
  label: string;
  testId: string;
  tone?: 'normal' | 'done' | 'warning';
}

/** A determinate progress bar with the ARIA values tests and screen readers read. */
export function ProgressBar({ value, max, label, testId, tone = 'normal' }: Props) {
  const fraction = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  return (
    <div
      className={`progress progress-${tone}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      data-testid={testId}
    >
      <div className="progress-fill" style={{ width: `${(fraction * 100).toFixed(2)}%` }} />
    </div>
  );
}
