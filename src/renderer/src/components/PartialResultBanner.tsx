// Over every tab of a case whose analysis stopped part-way: the figures cover only the files analysed, and the
// two ways on — resume the analysis where it stopped, or exclude the remaining files with a recorded reason
// (release stays refused until one of them is done; the lifecycle table says so).
import { useState, type FormEvent } from 'react';
import type { CaseDetail } from '../../../shared/api';
import { canDo, partialResultText } from '../../../shared/case-lifecycle';
import { getApi } from '../api';
import { errorText, useMessages } from './messages';

interface Props {
  detail: CaseDetail;
  /** Starts the analysis again; it continues where it stopped. */
  onResume: () => void;
  onChanged: (detail: CaseDetail) => void;
}

export function PartialResultBanner({ detail, onResume, onChanged }: Props) {
  const { notify } = useMessages();
  const [excluding, setExcluding] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const text = partialResultText(detail.partial);
  if (text === null) return null;
  const resume = canDo('resume', detail);
  const exclude = canDo('exclude_remaining', detail);
  const left = detail.partial === null ? 0 : detail.partial.filesTotal - detail.partial.filesAnalysed;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim() === '') {
      setError('Enter why the remaining files are left out.');
      return;
    }
    setBusy(true);
    try {
      const updated = await getApi().excludeRemainingFiles({ caseId: detail.id, reason: reason.trim() });
      setExcluding(false);
      setReason('');
      setError(null);
      onChanged(updated);
      notify(`The remaining ${left.toLocaleString('en-GB')} files of case ${updated.accession} are excluded; the case is in review.`);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel panel-warning partial-banner" role="status" data-testid="partial-banner">
      <p>
        <strong data-testid="partial-banner-text">{text}</strong>
      </p>
      {(resume.allowed || exclude.allowed) && (
        <div className="form-actions">
          {resume.allowed && (
            <button type="button" className="button-primary" data-testid="partial-resume" onClick={onResume}>
              Resume analysis
            </button>
          )}
          {exclude.allowed && !excluding && (
            <button type="button" data-testid="partial-exclude-open" onClick={() => setExcluding(true)}>
              Exclude the remaining {left.toLocaleString('en-GB')} files…
            </button>
          )}
        </div>
      )}
      {excluding && (
        <form className="form" onSubmit={(event) => void submit(event)}>
          <label className="field">
            <span className="field-label">Why are the remaining files left out? (recorded and printed on the report)</span>
            <textarea rows={2} value={reason} autoFocus data-testid="partial-exclude-reason" onChange={(event) => setReason(event.target.value)} />
          </label>
          <div className="form-actions">
            <button type="submit" className="button-primary" disabled={busy} data-testid="partial-exclude-submit">
              Exclude and review the analysed files
            </button>
            <button type="button" disabled={busy} onClick={() => setExcluding(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error !== null && (
        <p className="form-error" role="alert" data-testid="partial-exclude-error">
          {error}
        </p>
      )}
    </div>
  );
}
