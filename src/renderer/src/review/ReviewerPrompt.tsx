import { useState, type FormEvent } from 'react';
import { Dialog } from '../components/Dialog';
import { PersonFields } from '../components/PersonFields';
import { useSettings } from '../hooks/settings';
import { useApiAction } from '../hooks/useApiAction';
import { FormError } from '../components/FormError';

/** Asks once for the reviewer's name: every decision is stored with who made it. */
export function ReviewerPrompt({ onClose }: { onClose: () => void }) {
  const { settings, save } = useSettings();
  const [name, setName] = useState(settings?.reviewerName ?? '');
  const [role, setRole] = useState(settings?.reviewerRole ?? '');
  const action = useApiAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') {
      action.setError({ field: 'reviewerName', text: 'Enter your name: each decision is recorded with it.' });
      return;
    }
    if (settings === null) return;
    if (await action.run(() => save({ ...settings, reviewerName: name.trim(), reviewerRole: role.trim() }))) onClose();
  };

  return (
    <Dialog title="Who is reviewing?" testId="reviewer-prompt" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <p>Every decision is saved with the reviewer’s name. You can change it later in Settings.</p>
        <PersonFields
          name={name}
          role={role}
          onName={setName}
          onRole={setRole}
          nameLabel="Your name (required)"
          rolePlaceholder="e.g. Biomedical scientist"
          testIds={{ name: 'reviewer-prompt-name', role: 'reviewer-prompt-role' }}
        />
        <FormError text={action.error?.text} />
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={action.busy || settings === null} data-testid="reviewer-prompt-save">
            Save and continue
          </button>
        </div>
      </form>
    </Dialog>
  );
}
