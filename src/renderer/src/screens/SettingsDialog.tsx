import { useState, type FormEvent } from 'react';
import type { Settings } from '../../../shared/api';
import { Dialog } from '../components/Dialog';
import { useMessages } from '../components/messages';
import { useSettings } from '../hooks/settings';
import { useApiAction } from '../hooks/useApiAction';
import { LisSettingsForm } from './LisSettingsForm';
import { FormError } from '../components/FormError';

const EMPTY: Settings = { labName: '', reviewerName: '', reviewerRole: '' };

export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const { settings, save } = useSettings();
  const { notify } = useMessages();
  const [draft, setDraft] = useState<Settings>(settings ?? EMPTY);
  const { busy, error, run } = useApiAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await run(() =>
      save({
        labName: draft.labName.trim(),
        reviewerName: draft.reviewerName.trim(),
        reviewerRole: draft.reviewerRole.trim(),
      }),
    );
    if (!saved) return;
    notify('Settings saved.');
    onClose();
  };

  const input = (field: keyof Settings, label: string, testId: string, placeholder: string) => (
    <label className={error?.field === field ? 'field field-invalid' : 'field'}>
      <span className="field-label">{label}</span>
      <input
        value={draft[field]}
        placeholder={placeholder}
        data-testid={testId}
        onChange={(event) => setDraft((current) => ({ ...current, [field]: event.target.value }))}
      />
    </label>
  );

  return (
    <Dialog title="Settings" testId="settings-dialog" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        {input('labName', 'Laboratory name (printed on reports)', 'settings-lab-name', 'e.g. Haematology laboratory')}
        {input('reviewerName', 'Reviewer name', 'settings-reviewer-name', 'Your name')}
        {input('reviewerRole', 'Reviewer role', 'settings-reviewer-role', 'e.g. Biomedical scientist')}
        <FormError text={error?.text} testId="settings-error" />
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || settings === null} data-testid="settings-save">
            Save
          </button>
          <button type="button" data-testid="settings-cancel" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
      <LisSettingsForm />
    </Dialog>
  );
}
