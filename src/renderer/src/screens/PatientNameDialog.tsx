import { useState, type FormEvent } from 'react';
import type { CaseDetail } from '../../../shared/api';
import { getApi } from '../api';
import { Dialog } from '../components/Dialog';
import { errorText, isApiError, useMessages } from '../components/messages';

interface Props {
  detail: CaseDetail;
  onClose: () => void;
  onCorrected: (detail: CaseDetail) => void;
}

/**
 * Corrects the name on record for the case's patient (a typing error at registration). A reason is required; the
 * old name, the new one and the reason go into the audit log. The new-case form never renames a patient: a name
 * that differs there is far more likely a mistyped identifier.
 */
export function PatientNameDialog({ detail, onClose, onCorrected }: Props) {
  const { notify } = useMessages();
  const [name, setName] = useState(detail.patientName ?? '');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<{ field: string | null; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (name.trim() === '') return setError({ field: 'name', text: 'Enter the patient’s name as it should read.' });
    if (reason.trim() === '') return setError({ field: 'reason', text: 'Give the reason for the correction (e.g. typing error at registration).' });
    setBusy(true);
    try {
      const corrected = await getApi().correctPatientName({ caseId: detail.id, name: name.trim(), reason: reason.trim() });
      notify(`Patient ${detail.patientLabId}: name corrected to ${corrected.patientName ?? ''}.`);
      onCorrected(corrected);
      onClose();
    } catch (caught) {
      setError({ field: isApiError(caught, 'validation') ? (caught.field ?? null) : null, text: errorText(caught) });
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Correct the name of patient ${detail.patientLabId}`} testId="patient-name-dialog" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)} noValidate>
        <p className="small muted">
          On record: {detail.patientName ?? 'no name'}. The correction applies to every case of this patient, earlier reports when printed again included, and
          is kept in the audit log with its reason.
        </p>
        <label className={error?.field === 'name' ? 'field field-invalid' : 'field'}>
          <span className="field-label">Name as it should read</span>
          <input value={name} data-testid="patient-name-input" onChange={(event) => setName(event.target.value)} />
        </label>
        <label className={error?.field === 'reason' ? 'field field-invalid' : 'field'}>
          <span className="field-label">Reason for the correction</span>
          <input
            value={reason}
            placeholder="e.g. typing error at registration"
            data-testid="patient-name-reason"
            onChange={(event) => setReason(event.target.value)}
          />
        </label>
        {error !== null && (
          <p className="form-error" role="alert" data-testid="patient-name-error">
            {error.text}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy} data-testid="patient-name-save">
            Save the correction
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
