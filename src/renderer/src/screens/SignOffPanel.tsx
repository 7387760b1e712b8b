import { useState, type FormEvent } from 'react';
import type { CaseDetail } from '../../../shared/api';
import { plural } from '../../../shared/format';
import { getApi } from '../api';
import { errorText, isApiError, useMessages } from '../components/messages';
import { formatDateTime } from '../format';
import { useSession } from '../hooks/session';
import { reviewSavesSettled } from '../review/pendingReviewSaves';

interface Props {
  detail: CaseDetail;
  onChanged: (detail: CaseDetail) => void;
}

export function SignOffPanel({ detail, onChanged }: Props) {
  const { user, may } = useSession();
  const { notify } = useMessages();
  const [refusal, setRefusal] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [overrideReason, setOverrideReason] = useState('');
  const [amending, setAmending] = useState(false);
  const [amendReason, setAmendReason] = useState('');
  const [busy, setBusy] = useState(false);
  const signed = detail.status === 'signed';
  const latest = detail.signOffs[detail.signOffs.length - 1];

  const sign = async (withOverride: boolean) => {
    setError(null);
    if (withOverride && overrideReason.trim() === '') {
      setError('Enter the reason for signing with unreviewed cells.');
      return;
    }
    setBusy(true);
    try {
      // Decisions still being saved from the review screen must be in the case before it is signed.
      await reviewSavesSettled();
      const updated = await getApi().signOff({
        caseId: detail.id,
        ...(withOverride ? { overrideReason: overrideReason.trim() } : {}),
      });
      setRefusal(null);
      setOverrideReason('');
      onChanged(updated);
      notify(`Case ${updated.accession} signed.`);
    } catch (caught) {
      if (isApiError(caught, 'unreviewed')) setRefusal(caught.message);
      else setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };

  const amend = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (amendReason.trim() === '') {
      setError('Enter the reason for the amendment.');
      return;
    }
    setBusy(true);
    try {
      const updated = await getApi().amendCase({ caseId: detail.id, reason: amendReason.trim() });
      setAmending(false);
      setAmendReason('');
      onChanged(updated);
      notify(`Case ${updated.accession} re-opened for amendment.`);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel" data-testid="signoff-panel">
      <h2>Sign-off</h2>
      {signed && latest !== undefined ? (
        <p className="signed-line" data-testid="signoff-status">
          <strong>Signed</strong> by {latest.signedBy} ({latest.role}) on {formatDateTime(latest.signedAt)}
          {latest.overrideReason !== null && <> — override: {latest.overrideReason}</>}
        </p>
      ) : (
        <p data-testid="signoff-status">
          Not signed.{' '}
          {detail.flaggedUnreviewed > 0
            ? `${plural(detail.flaggedUnreviewed, 'flagged cell is', 'flagged cells are')} not reviewed yet.`
            : 'All flagged cells are reviewed.'}
        </p>
      )}

      {!signed && (
        <div className="form">
          <p data-testid="signoff-signer">
            {may('signOff') ? (
              <>
                Signing as <strong>{user.displayName}</strong> (Pathologist).
              </>
            ) : (
              <>Only a pathologist signs (releases) a result; {user.displayName} is not one.</>
            )}
          </p>
          <div className="form-actions">
            <button
              type="button"
              className="button-primary"
              disabled={busy || detail.status !== 'in_review' || !may('signOff')}
              data-testid="signoff-submit"
              onClick={() => void sign(false)}
            >
              Sign off
            </button>
            {detail.status !== 'in_review' && <span className="muted">The analysis must finish before sign-off.</span>}
          </div>
          {refusal !== null && (
            <div className="panel panel-warning">
              <p role="alert" data-testid="signoff-refusal">
                {refusal}
              </p>
              <label className="field">
                <span className="field-label">Override with reason</span>
                <textarea
                  rows={2}
                  value={overrideReason}
                  placeholder="Why the case can be signed with cells unreviewed"
                  data-testid="signoff-override-reason"
                  onChange={(event) => setOverrideReason(event.target.value)}
                />
              </label>
              <button type="button" disabled={busy} data-testid="signoff-override-submit" onClick={() => void sign(true)}>
                Sign off with override
              </button>
            </div>
          )}
        </div>
      )}

      {signed &&
        may('amendCase') &&
        (amending ? (
          <form className="form" onSubmit={(event) => void amend(event)}>
            <label className="field">
              <span className="field-label">Reason for the amendment (required)</span>
              <textarea
                rows={2}
                value={amendReason}
                autoFocus
                data-testid="amend-reason"
                onChange={(event) => setAmendReason(event.target.value)}
              />
            </label>
            <div className="form-actions">
              <button type="submit" className="button-primary" disabled={busy} data-testid="amend-submit">
                Re-open for amendment
              </button>
              <button type="button" disabled={busy} data-testid="amend-cancel" onClick={() => setAmending(false)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <button type="button" data-testid="amend-open" onClick={() => setAmending(true)}>
            Amend…
          </button>
        ))}

      {error !== null && (
        <p className="form-error" role="alert" data-testid="signoff-error">
          {error}
        </p>
      )}

      {(detail.signOffs.length > 0 || detail.amendments.length > 0) && (
        <div className="history-block" data-testid="signoff-history">
          <h3>History</h3>
          <ul className="history">
            {[
              ...detail.signOffs.map((entry) => ({
                at: entry.signedAt,
                text: `Signed by ${entry.signedBy} (${entry.role})${entry.overrideReason !== null ? ` — override: ${entry.overrideReason}` : ''}`,
              })),
              ...detail.amendments.map((entry) => ({ at: entry.at, text: `Amended by ${entry.by}: ${entry.reason}` })),
            ]
              .sort((a, b) => a.at.localeCompare(b.at))
              .map((entry, index) => (
                <li key={`${entry.at}-${index}`}>
                  <span className="muted">{formatDateTime(entry.at)}</span> {entry.text}
                </li>
              ))}
          </ul>
        </div>
      )}
    </div>
  );
}
