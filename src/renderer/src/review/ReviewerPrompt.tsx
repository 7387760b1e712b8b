import { useState, type FormEvent } from 'react';
import { Dialog } from '../components/Dialog';
import { errorText } from '../components/messages';
import { useSettings } from '../hooks/settings';

/** Asks once for the reviewer's name: every decision is stored with who made it. */
export function ReviewerPrompt({ onClose }: { onClose: () => void }) {
  const { settings, save } = useSettings();
  const [name, setName] = useState(settings?.reviewerName ?? '');
  const [role, setRole] = useState(settings?.reviewerRole ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') {
      setError('Enter your name: each decision is recorded with it.');
      return;
    }
    if (settings === null) return;
    setBusy(true);
    try {
      await save({ ...settings, reviewerName: name.trim(), reviewerRole: role.trim() });
      onClose();
    } catch (caught) {
      setError(errorText(caught));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Who is reviewing?" testId="reviewer-prompt" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <p>Every decision is saved with the reviewer’s name. You can change it later in Settings.</p>
        <label className="field">
          <span className="field-label">Your name (required)</span>
          <input value={name} data-testid="reviewer-prompt-name" onChange={(event) => setName(event.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Role</span>
          <input
            value={role}
            placeholder="e.g. Biomedical scientist"
            data-testid="reviewer-prompt-role"
            onChange={(event) => setRole(event.target.value)}
          />
        </label>
        {error !== null && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || settings === null} data-testid="reviewer-prompt-save">
            Save and continue
          </button>
        </div>
      </form>
    </Dialog>
  );
}
