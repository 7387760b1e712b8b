import { canDo, isReleased } from '../../../shared/case-lifecycle';
import { useEffect, useState, type FormEvent } from 'react';
import { SIGNATURE_MEANING_TEXT, type CaseDetail, type SignatureRecord } from '../../../shared/api';
import { plural } from '../../../shared/format';
import { getApi } from '../api';
import { errorText, isApiError, useMessages } from '../components/messages';
import { formatDateTime } from '../format';
import { useSession } from '../hooks/session';
import { reviewSavesPending, reviewSavesSettled } from '../review/pendingReviewSaves';

interface Props {
  detail: CaseDetail;
  onChanged: (detail: CaseDetail) => void;
}

/** One signature as printed everywhere: "Technically validated by Alex Technician (Technician), 4 Dec 2026 10:02". */
export function signatureLine(s: SignatureRecord): string {
  return `${SIGNATURE_MEANING_TEXT[s.meaning]} ${s.printedName} (${s.role}), ${formatDateTime(s.signedAt)}`;
}

export function SignOffPanel({ detail, onChanged }: Props) {
  const { user, may } = useSession();
  const { notify } = useMessages();
  const [refusal, setRefusal] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [overrideReason, setOverrideReason] = useState('');
  const [password, setPassword] = useState('');
  const [comment, setComment] = useState('');
  const [amending, setAmending] = useState(false);
  const [amendReason, setAmendReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [signAlone, setSignAlone] = useState(false);
  const signed = isReleased(detail.status);
  const amendable = canDo('amend', detail);
  const latest = detail.signOffs[detail.signOffs.length - 1];

  useEffect(() => {
    let live = true;
    getApi()
      .getSecuritySettings()
      .then((s) => live && setSignAlone(s.pathologistMaySignAlone))
      .catch((e: unknown) => console.warn('MarrowCount: could not read the security settings', e));
    return () => {
      live = false;
    };
  }, []);

  // Which signature this person can give now: technical validation (technician, case in review) or medical
  // authorisation (pathologist, case submitted, or in review where the lab lets a pathologist sign alone).
  const step: 'submit' | 'authorise' | null =
    detail.status === 'in_review' && may('submitCase')
      ? 'submit'
      : (detail.status === 'submitted' || (detail.status === 'in_review' && signAlone)) && may('authoriseCase')
        ? 'authorise'
        : null;

  const sign = async (withOverride: boolean) => {
    setError(null);
    if (withOverride && overrideReason.trim() === '') {
      setError('Enter the reason for signing with unreviewed cells.');
      return;
    }
    if (password === '') {
      setError('Give your password: a signature is made with it, at the moment of signing.');
      return;
    }
    setBusy(true);
    try {
      // Decisions still being saved from the review screen must be in the case before it is signed. They were made
      // on this screen, so the case signed is the one including them: its version is read once they are in.
      const ownSavesPending = reviewSavesPending();
      await reviewSavesSettled();
      const caseVersion = ownSavesPending ? (await getApi().getCase(detail.id)).version : detail.version;
      // The case as this panel shows it: signed only if no one else changed it since.
      const override = { ...(withOverride ? { overrideReason: overrideReason.trim() } : {}), caseVersion };
      const updated =
        step === 'submit'
          ? await getApi().submitCase({ caseId: detail.id, password, ...override })
          : await getApi().authoriseCase({
              caseId: detail.id,
              password,
              ...override,
              ...(comment.trim() === '' ? {} : { interpretiveComment: comment.trim() }),
            });
      setRefusal(null);
      setOverrideReason('');
      setPassword('');
      onChanged(updated);
      notify(step === 'submit' ? `Case ${updated.accession} submitted for authorisation.` : `Case ${updated.accession} authorised and released.`);
    } catch (caught) {
      if (isApiError(caught, 'unreviewed')) setRefusal(caught.message);
      else setError(errorText(caught));
      if (isApiError(caught, 'stale')) await showCurrent();
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
      const updated = await getApi().amendCase({ caseId: detail.id, reason: amendReason.trim(), caseVersion: detail.version });
      setAmending(false);
      setAmendReason('');
      onChanged(updated);
      notify(`Case ${updated.accession} re-opened for amendment.`);
    } catch (caught) {
      setError(errorText(caught));
      if (isApiError(caught, 'stale')) await showCurrent();
    } finally {
      setBusy(false);
    }
  };

  /** After a 'stale' refusal: the case as it is now, so the person looks again at what changed. */
  async function showCurrent(): Promise<void> {
    try {
      onChanged(await getApi().getCase(detail.id));
    } catch (caught) {
      setError(errorText(caught));
    }
  }

  const waitingFor =
    detail.status === 'in_review'
      ? `A technician submits the case (technical validation); then a pathologist authorises it.${may('authoriseCase') && !signAlone ? ' This laboratory requires the two signatures of two people.' : ''}`
      : detail.status === 'submitted'
        ? `Awaiting medical authorisation by a pathologist. Only a pathologist authorises; ${user.displayName} is not one.`
        : (() => {
            // Before review (analysing, cancelled): the lifecycle's own sentence for why it cannot be submitted yet.
            const submit = canDo('submit', detail);
            return submit.allowed ? 'The analysis must finish before the case can be signed.' : submit.why;
          })();

  return (
    <div className="panel" data-testid="signoff-panel">
      <h2>Signatures and release</h2>
      {signed && latest !== undefined ? (
        <p className="signed-line" data-testid="signoff-status">
          <strong>Released</strong> on {formatDateTime(latest.signedAt)}
          {latest.overrideReason !== null && <> — override: {latest.overrideReason}</>}
        </p>
      ) : (
        <p data-testid="signoff-status">
          {detail.status === 'submitted' ? 'Submitted, not yet authorised: not released.' : 'Not released.'}{' '}
          {detail.flaggedUnreviewed > 0
            ? `${plural(detail.flaggedUnreviewed, 'flagged cell is', 'flagged cells are')} not reviewed yet.`
            : 'All flagged cells are reviewed.'}
        </p>
      )}
      {detail.signatures.length > 0 && (
        <ul className="signatures" data-testid="signoff-signatures">
          {detail.signatures.map((s) => (
            <li key={`${s.meaning}-${s.signedAt}`} data-testid={`signature-${s.meaning}`}>
              {signatureLine(s)}
            </li>
          ))}
        </ul>
      )}
      {detail.interpretiveComment !== null && (
        <div className="interpretive-comment" data-testid="signoff-comment-shown">
          <h3>Interpretive comment</h3>
          <p>{detail.interpretiveComment}</p>
        </div>
      )}

      {!signed && step === null && (
        <p className="muted" data-testid="signoff-signer">
          {waitingFor}
        </p>
      )}
      {!signed && step !== null && (
        <div className="form">
          <p data-testid="signoff-signer">
            {step === 'submit' ? (
              <>
                Submitting for authorisation as <strong>{user.displayName}</strong> (Technician): your signature means “Technically validated by”.
              </>
            ) : (
              <>
                Authorising as <strong>{user.displayName}</strong> (Pathologist): your signature means “Medically authorised by”
                {detail.status === 'in_review' ? ' and, as you counted the case, “Technically validated by”' : ''}. It releases the result.
              </>
            )}
          </p>
          {step === 'authorise' && (
            <label className="field">
              <span className="field-label">Interpretive comment (printed on the report and sent to the LIS)</span>
              <textarea rows={3} value={comment} data-testid="signoff-comment" onChange={(event) => setComment(event.target.value)} />
            </label>
          )}
          <label className="field">
            <span className="field-label">Your password, to sign</span>
            <input
              type="password"
              autoComplete="current-password"
              value={password}
              data-testid="signoff-password"
              onChange={(event) => setPassword(event.target.value)}
            />
          </label>
          <div className="form-actions">
            <button
              type="button"
              className="button-primary"
              disabled={busy}
              data-testid={step === 'submit' ? 'signoff-submit' : 'signoff-authorise'}
              onClick={() => void sign(false)}
            >
              {step === 'submit' ? 'Submit for authorisation' : 'Authorise and release'}
            </button>
            {step !== null && !canDo(step, detail).allowed && (
              <span className="muted" data-testid="signoff-why-not">
                {(canDo(step, detail) as { why: string }).why}
              </span>
            )}
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
                {step === 'submit' ? 'Submit with override' : 'Authorise with override'}
              </button>
            </div>
          )}
        </div>
      )}

      {amendable.allowed &&
        may('amendCase') &&
        (amending ? (
          <form className="form" onSubmit={(event) => void amend(event)}>
            <label className="field">
              <span className="field-label">Reason for the amendment (required)</span>
              <textarea rows={2} value={amendReason} autoFocus data-testid="amend-reason" onChange={(event) => setAmendReason(event.target.value)} />
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

      {(detail.signOffs.length > 0 || detail.amendments.length > 0 || detail.sharedCrops.length > 0) && (
        <div className="history-block" data-testid="signoff-history">
          <h3>History</h3>
          <ul className="history">
            {[
              ...detail.signOffs.map((entry) => ({
                at: entry.signedAt,
                text: `Released: medically authorised by ${entry.signedBy} (${entry.role})${entry.overrideReason !== null ? ` — override: ${entry.overrideReason}` : ''}`,
              })),
              ...detail.amendments.map((entry) => ({ at: entry.at, text: `Amended by ${entry.by}: ${entry.reason}` })),
              ...detail.sharedCrops.map((entry) => ({
                at: entry.confirmedAt,
                text: `Crops shared with case ${entry.otherAccession} of patient ${entry.otherPatientLabId} (${entry.sharedFiles} files) confirmed by ${entry.confirmedBy}: ${entry.reason}`,
              })),
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
