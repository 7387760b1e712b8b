import { isReleased } from '../../../shared/case-lifecycle';
import { useCallback, useState } from 'react';
import type { CaseDetail } from '../../../shared/api';
import type { CaseLisStatus, LisDeliveryStatus, LisDeliveryView } from '../../../shared/lis';
import { getApi } from '../api';
import { errorText, useMessages } from '../components/messages';
import { useApiAction } from '../hooks/useApiAction';
import { formatDateTime } from '../format';
import { usePolling } from '../hooks/usePolling';
import { useSession } from '../hooks/session';
import { FormError } from '../components/FormError';

/** Often enough that an ACK shows up while the technician looks; the loop itself retries on its own schedule. */
const POLL_MS = 2000;

const STATUS_TEXT: Readonly<Record<LisDeliveryStatus, string>> = {
  queued: 'Queued',
  sent: 'Sent',
  acknowledged: 'Acknowledged',
  error: 'Error',
};

const CHANNEL_TEXT: Readonly<Record<LisDeliveryView['channel'], string>> = { outbox: 'Outbox folder', mllp: 'MLLP' };
const FORMAT_TEXT: Readonly<Record<LisDeliveryView['format'], string>> = { hl7v2: 'HL7 v2.5.1 ORU^R01', 'fhir-r4': 'FHIR R4 Bundle' };

function statusBadgeClass(status: LisDeliveryStatus): string {
  return status === 'error' ? 'badge badge-research' : status === 'acknowledged' || status === 'sent' ? 'badge badge-signed' : 'badge badge-in_review';
}

function detailText(d: LisDeliveryView): string {
  if (d.status === 'error') return d.lastError ?? 'Failed.';
  if (d.status === 'queued' && d.lastError !== null) {
    return `${d.lastError}${d.nextAttemptAt === null ? '' : ` Next try ${formatDateTime(d.nextAttemptAt)}.`}`;
  }
  if (d.status === 'sent' && d.channel === 'mllp') return 'Waiting for the LIS to acknowledge.';
  if (d.channel === 'outbox' && d.destination !== null) return d.destination;
  return '';
}

/** Where the case's result stands with the LIS, message by message, and a way to send it again. */
export function LisPanel({ detail }: { detail: CaseDetail }) {
  const { notify } = useMessages();
  const { may } = useSession();
  const [status, setStatus] = useState<CaseLisStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const resendAction = useApiAction();
  const { setError: setResendError } = resendAction;
  const signed = isReleased(detail.status);

  const load = useCallback(async () => {
    try {
      setStatus(await getApi().getLisStatus(detail.id));
      setError(null);
      setResendError(null);
    } catch (caught) {
      setError(errorText(caught));
    }
  }, [detail.id, setResendError]);
  // Polled while anything can still change: a signed case's messages move from queued to acknowledged by themselves.
  usePolling(load, POLL_MS, true);

  const resend = async () => {
    setError(null);
    // The first sending of a result signed while delivery was off is not an "again".
    const first = status === null || status.deliveries.length === 0;
    await resendAction.run(async () => {
      setStatus(await getApi().resendToLis(detail.id));
      notify(first ? `Case ${detail.accession}: the result is queued for the LIS.` : `Case ${detail.accession}: queued for the LIS again, as new messages.`);
    });
  };
  const shownError = resendAction.error?.text ?? error;

  return (
    <div className="panel" data-testid="lis-panel">
      <h2>Laboratory information system</h2>
      {status === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          {!status.enabled && (
            <p className="muted" data-testid="lis-disabled">
              Sending to the LIS is off. Turn it on in Settings → LIS; cases signed while it is off are sent only with “Send to LIS”.
            </p>
          )}
          {status.pendingResults > 0 && <p data-testid="lis-pending">Preparing the messages of the signed result (the PDF is rendered first)…</p>}
          {status.buildErrors.map((text, i) => (
            <p key={i} className="form-error" role="alert" data-testid="lis-build-error">
              {text}
            </p>
          ))}
          {status.deliveries.length === 0 ? (
            <p className="muted" data-testid="lis-none">
              Nothing sent for this case yet.
            </p>
          ) : (
            <table className="table table-compact lis-deliveries" data-testid="lis-deliveries">
              <thead>
                <tr>
                  <th>Message</th>
                  <th>Result</th>
                  <th>To</th>
                  <th>Status</th>
                  <th className="num">Attempts</th>
                  <th className="lis-details">Details</th>
                </tr>
              </thead>
              <tbody>
                {status.deliveries.map((d) => (
                  <tr key={`${d.messageId}-${d.channel}`} data-testid={`lis-delivery-${d.controlId}-${d.channel}`}>
                    <td>
                      {FORMAT_TEXT[d.format]}
                      <div className="muted">{d.controlId}</div>
                    </td>
                    <td>{d.resultStatus === 'C' ? 'Corrected' : 'Final'}</td>
                    <td>{CHANNEL_TEXT[d.channel]}</td>
                    <td>
                      <span className={statusBadgeClass(d.status)} data-testid="lis-delivery-status">
                        {STATUS_TEXT[d.status]}
                      </span>
                    </td>
                    <td className="num">{d.attempts}</td>
                    <td data-testid="lis-delivery-detail">{detailText(d)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {signed && may('resendToLis') && (
        <div className="form-actions">
          <button type="button" disabled={resendAction.busy} data-testid="lis-resend" onClick={() => void resend()}>
            {status !== null && status.deliveries.length > 0 ? 'Resend to LIS' : 'Send to LIS'}
          </button>
          <span className="muted">A resend goes as new messages with new control ids, built with the current settings.</span>
        </div>
      )}
      <FormError text={shownError} testId="lis-error" />
    </div>
  );
}
