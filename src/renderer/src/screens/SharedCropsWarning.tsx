// Issue 21 on the new-case form: the folder's crops are already another patient's case. The service's message names
// that case and patient and how many files; the technician either goes back to fix the folder or patient, or gives
// the reason and creates the case anyway (the reason is recorded with their name). Keyboard: the reason field takes
// the focus when the warning appears, Enter in it does not submit (it is a textarea), Tab reaches the two buttons.
import { useState, type FormEvent } from 'react';

interface Props {
  message: string;
  busy: boolean;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}

export function SharedCropsWarning({ message, busy, onConfirm, onCancel }: Props) {
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const confirm = (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim() === '') {
      setMissing(true);
      return;
    }
    onConfirm(reason.trim());
  };
  return (
    <div className="panel panel-warning shared-crops" role="alert" data-testid="shared-crops-warning">
      <p>
        <strong>These crops are already filed under another patient.</strong>
      </p>
      <p data-testid="shared-crops-message">{message}</p>
      <label className={missing ? 'field field-invalid' : 'field'}>
        <span className="field-label">Why do these images belong to this patient too? (recorded with your name)</span>
        <textarea
          rows={2}
          value={reason}
          autoFocus
          data-testid="shared-crops-reason"
          onChange={(event) => {
            setReason(event.target.value);
            setMissing(false);
          }}
        />
        {missing && (
          <span className="field-error" data-testid="shared-crops-reason-error">
            Give the reason, or go back and check the folder and the patient.
          </span>
        )}
      </label>
      <div className="form-actions">
        <button type="button" disabled={busy} data-testid="shared-crops-confirm" onClick={confirm}>
          Create anyway
        </button>
        <button type="button" disabled={busy} data-testid="shared-crops-cancel" onClick={onCancel}>
          Check the folder or patient
        </button>
      </div>
    </div>
  );
}
