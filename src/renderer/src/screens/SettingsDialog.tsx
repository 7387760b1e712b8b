import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ReviewLayout, Settings } from '../../../shared/api';
import { reviewLayoutProblem } from '../../../shared/review-layout';
import type { LisSettings } from '../../../shared/lis';
import { getApi } from '../api';
import { Dialog } from '../components/Dialog';
import { errorText, isApiError, useMessages } from '../components/messages';
import { useSettings } from '../hooks/settings';
import { useApiQuery } from '../hooks/useApiQuery';
import { LisSettingsSection, RequiredMark } from './LisSettingsForm';
import { ReviewLayoutSection } from './ReviewLayoutSection';
import { checkGeneralDraft, checkLisDraft, differs, lisDraftOf, type DraftError, type LisDraft } from './settingsDraft';

const EMPTY: Settings = { labName: '' };
const GENERAL_FIELDS = ['labName'];

/**
 * Every setting the dialog shows is saved by its one Save button (there used to be a second Save for the LIS section,
 * and the top one closed the dialog and dropped the LIS edits). Nothing is written until every section's checks pass;
 * a refusal names the field, marks it and puts the focus there, and the dialog stays open with every edit in place.
 */
export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const { settings, save, reviewLayout, reviewLayoutLoaded, saveReviewLayout } = useSettings();
  const { notify } = useMessages();
  const lis = useApiQuery(() => getApi().getLisSettings(), 'lis-settings', 'Loading the LIS settings');
  const [general, setGeneral] = useState<Settings | null>(null);
  const [lisEdited, setLisEdited] = useState<LisDraft | null>(null);
  const [layoutEdited, setLayoutEdited] = useState<ReviewLayout | null>(null);
  const layoutDraft = layoutEdited ?? reviewLayout;
  const [error, setError] = useState<DraftError | { field: null; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const generalDraft = general ?? settings ?? EMPTY;
  const lisDraft = lisEdited ?? (lis.data === null ? null : lisDraftOf(lis.data));

  // The field a refusal names gets the focus, so the technician can type the fix at once.
  useEffect(() => {
    if (error === null || error.field === null) return;
    const field = form.current?.querySelector<HTMLElement>(`[name="${error.field}"]`);
    // Centred, so the sticky foot with the Save button and the message does not cover it.
    field?.scrollIntoView?.({ block: 'center' });
    field?.focus({ preventScroll: true });
  }, [error]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (lisDraft === null || settings === null || !reviewLayoutLoaded) return;
    setError(null);
    const checkedGeneral = checkGeneralDraft(generalDraft);
    if (!checkedGeneral.ok) return setError(checkedGeneral.error);
    const layoutProblem = reviewLayoutProblem(layoutDraft);
    if (layoutProblem !== null) return setError({ field: layoutProblem.field, text: layoutProblem.message });
    const checkedLis = checkLisDraft(lisDraft);
    if (!checkedLis.ok) return setError(checkedLis.error);
    setBusy(true);
    try {
      if (differs(settings, checkedGeneral.value)) await save(checkedGeneral.value);
      if (differs(reviewLayout, layoutDraft)) await saveReviewLayout(layoutDraft);
      if (differs<LisSettings>(lis.data, checkedLis.value)) {
        const saved = await getApi().saveLisSettings(checkedLis.value);
        setLisEdited(lisDraftOf(saved));
      }
      notify('Settings saved.');
      onClose();
    } catch (caught) {
      // A section saved before the failure stays saved; the failed one keeps its edits on screen.
      const field = isApiError(caught, 'validation') ? (caught.field ?? null) : null;
      setError({ field, text: errorText(caught) } as DraftError | { field: null; text: string });
      setBusy(false);
    }
  };

  const input = (field: keyof Settings, label: string, testId: string, placeholder: string, required = false) => (
    <label className={error?.field === field ? 'field field-invalid' : 'field'}>
      <span className="field-label">
        {label}
        {required && <RequiredMark />}
      </span>
      <input
        name={field}
        value={generalDraft[field]}
        placeholder={placeholder}
        aria-required={required}
        aria-invalid={error?.field === field}
        data-testid={testId}
        onChange={(event) => setGeneral({ ...generalDraft, [field]: event.target.value })}
      />
    </label>
  );

  const isLayoutField = (field: string) =>
    field === 'order' || field === 'hidden' || field.startsWith('keys.') || field.startsWith('order[') || field.startsWith('hidden[');
  const layoutError = error !== null && error.field !== null && isLayoutField(error.field) ? error : null;
  const lisError = error !== null && error.field !== null && !GENERAL_FIELDS.includes(error.field) && !isLayoutField(error.field) ? error : null;

  return (
    <Dialog title="Settings" testId="settings-dialog" onClose={onClose} wide>
      <form ref={form} className="form settings-form" onSubmit={(event) => void submit(event)} noValidate>
        <p className="small muted">
          One Save for every section below. Fields marked <span className="required-mark">*</span> are required (the LIS fields once sending to the LIS is
          switched on).
        </p>
        <fieldset className="form settings-section" data-testid="settings-general">
          <legend>Laboratory</legend>
          {input('labName', 'Laboratory name (printed on reports)', 'settings-lab-name', 'e.g. Haematology laboratory')}
        </fieldset>
        <ReviewLayoutSection draft={layoutDraft} onChange={setLayoutEdited} error={layoutError} />
        {lisDraft === null ? (
          <p className="muted">Loading the LIS settings…</p>
        ) : (
          <LisSettingsSection draft={lisDraft} onChange={setLisEdited} error={lisError} />
        )}
        <div className="form-actions settings-actions">
          {/* In the sticky foot, beside the button, so the refusal is seen wherever the dialog is scrolled. */}
          {error !== null && (
            <p className="form-error settings-error" role="alert" data-testid="settings-error">
              {error.text}
            </p>
          )}
          <button
            type="submit"
            className="button-primary"
            disabled={busy || settings === null || lisDraft === null || !reviewLayoutLoaded}
            data-testid="settings-save"
          >
            Save settings
          </button>
          <button type="button" data-testid="settings-cancel" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
