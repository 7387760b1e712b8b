import { useState, type FormEvent } from 'react';
import type { CaseDetail } from '../../../shared/api';
import { plural } from '../../../shared/format';
import { getApi } from '../api';
import { isApiError, useMessages } from '../components/messages';
import { PersonFields } from '../components/PersonFields';
import { formatDateTime } from '../format';
import { useSettings } from '../hooks/settings';
import { useApiAction } from '../hooks/useApiAction';
import { reviewSavesSettled } from '../review/pendingReviewSaves';
import { FormError } from '../components/FormError';

interface Props {
  detail: CaseDetail;
  onChanged: (detail: CaseDetail) => void;
}

export function SignOffPanel({ detail, onChanged }: Props) {
  const { settings } = useSettings();
  const { notify } = useMessages();
  // Edited copies start from Settings; what the user types here wins over later Settings loads.
  const [reviewerEdit, setReviewer] = useState<string | null>(null);
  const [roleEdit, setRole] = useState<string | null>(null);
  const reviewer = reviewerEdit ?? settings?.reviewerName ?? '';
  const role = roleEdit ?? settings?.reviewerRole ?? '';
  const [refusal, setRefusal] = useState<string | null>(null);
  const [overrideReason, setOverrideReason] = useState('');
  const [amending, setAmending] = useState(false);
  const [amendReason, setAmendReason] = useState('');
  const action = useApiAction();
  const { busy } = action;
  const error = action.error?.text ?? null;
  const setError = (text: string | null) => action.setError(text === null ? null : { field: null, text });
  const signed = detail.status === 'signed';
  const latest = detail.signOffs[detail.signOffs.length - 1];

  const sign = async (withOverride: boolean) => {
    setError(null);
    if (reviewer.trim() === '' || role.trim() === '') {
      setError('Enter the reviewer’s name and role.');
      return;
    }
    if (withOverride && overrideReason.trim() === '') {
      setError('Enter the reason for signing with unreviewed cells.');
      return;
    }
    await action.run(
      async () => {
        // Decisions still being saved from the review screen must be in the case before it is signed.
        await reviewSavesSettled();
        const updated = await getApi().signOff({
          caseId: detail.id,
          reviewer: reviewer.trim(),
          role: role.trim(),
          ...(withOverride ? { overrideReason: overrideReason.trim() } : {}),
        });
        setRefusal(null);
        setOverrideReason('');
        onChanged(updated);
        notify(`Case ${updated.accession} signed.`);
      },
      {
        onError: (caught) => {
          if (!isApiError(caught, 'unreviewed')) return false;
          setRefusal(caught.message);
          return true;
        },
      },
    );
  };

  const amend = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (amendReason.trim() === '') {
      setError('Enter the reason for the amendment.');
      return;
    }
    if (reviewer.trim() === '') {
      setError('Enter your name as reviewer before amending.');
      return;
    }
    await action.run(async () => {
      const updated = await getApi().amendCase({ caseId: detail.id, by: reviewer.trim(), reason: amendReason.trim() });
      setAmending(false);
      setAmendReason('');
      onChanged(updated);
      notify(`Case ${updated.accession} re-opened for amendment.`);
    });
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
          <div className="form-row">
            <PersonFields
              name={reviewer}
              role={role}
              onName={setReviewer}
              onRole={setRole}
              nameLabel="Reviewer"
              rolePlaceholder="e.g. Consultant haematologist"
              testIds={{ name: 'signoff-reviewer', role: 'signoff-role' }}
            />
          </div>
          <div className="form-actions">
            <button
              type="button"
              className="button-primary"
              disabled={busy || detail.status !== 'in_review'}
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

      <FormError text={error} testId="signoff-error" />

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
