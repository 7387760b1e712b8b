import { useState, type DragEvent, type FormEvent, type ReactNode } from 'react';
import { SPECIMEN_TYPES, type CaseDetail, type CaseSummary, type SpecimenType } from '../../../shared/api';
import { caseRoute, routeToHash } from '../navigation/route';
import { getApi, getShell } from '../api';
import { isLabServerStation } from '../api/upload';
import { UploadFromStation } from './UploadFromStation';
import { SharedCropsWarning } from './SharedCropsWarning';
import { errorText, isApiError, useMessages } from '../components/messages';
import { useApiAction } from '../hooks/useApiAction';
import { SPECIMEN_LABELS } from '../format';
import { FormError } from '../components/FormError';
import { EMPTY_FORM, formFieldOf, toNewCaseInput, validateNewCase, type FieldErrors, type NewCaseField, type NewCaseForm } from './newCaseForm';

interface Props {
  onCreated: (created: CaseDetail) => void;
  onCancel: () => void;
}

export function NewCaseScreen({ onCreated, onCancel }: Props) {
  const { reportError } = useMessages();
  const shell = getShell();
  const [form, setForm] = useState<NewCaseForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const { busy, run } = useApiAction();
  const [dragging, setDragging] = useState(false);
  // The case that already has the accession number typed: the refusal links to it.
  const [existing, setExisting] = useState<CaseSummary | null>(null);
  // The service's refusal when the folder's crops are another patient's case (names the case and patient); null: none.
  const [sharedCrops, setSharedCrops] = useState<string | null>(null);

  const set = (field: NewCaseField, value: string) => {
    setForm((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, [field]: undefined }));
    // A confirmation is about this folder for this patient: changing either asks the service again.
    if (field === 'folder' || field === 'labId') setSharedCrops(null);
  };

  const submit = async (event: FormEvent | null, confirmSharedCrops?: { reason: string }) => {
    event?.preventDefault();
    setFormError(null);
    setExisting(null);
    const found = validateNewCase(form);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    const done: { created: CaseDetail | null } = { created: null };
    await run(
      async () => {
        const created = await getApi().createCase({ ...toNewCaseInput(form), ...(confirmSharedCrops === undefined ? {} : { confirmSharedCrops }) });
        setSharedCrops(null);
        done.created = created;
        try {
          await getApi().startAnalysis(created.id);
        } catch (error) {
          // The case exists; its analysis screen offers to start again.
          reportError(error, `Starting the analysis of case ${created.accession}`);
        }
      },
      {
        onError: (error) => {
          if (isApiError(error, 'shared_crops')) {
            setSharedCrops(errorText(error));
            return true;
          }
          // Any error that names a form field (validation, or a conflict such as a duplicate accession) is shown beside it.
          const field = isApiError(error) ? formFieldOf(error.field) : null;
          if (field !== null) setErrors({ [field]: errorText(error) });
          else setFormError(errorText(error));
          if (isApiError(error, 'conflict') && field === 'accession') void findExisting(form.accession.trim());
          return true;
        },
      },
    );
    if (done.created !== null) onCreated(done.created);
  };

  // Accession numbers are unique without regard to case (the database's NOCASE); the search matches parts, so the
  // exact one is picked from what it finds.
  const findExisting = async (accession: string) => {
    try {
      const matches = await getApi().listCases({ search: accession, limit: 50 });
      setExisting(matches.find((summary) => summary.accession.toLowerCase() === accession.toLowerCase()) ?? null);
    } catch (error) {
      reportError(error, `Looking up case ${accession}`);
    }
  };

  const browse = async () => {
    if (!shell) return;
    try {
      const folder = await shell.chooseFolder();
      if (folder !== null) set('folder', folder);
    } catch (error) {
      reportError(error, 'Choosing a folder');
    }
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file === undefined) return;
    const path = shell?.pathForDroppedFile(file) ?? null;
    if (path === null) {
      setErrors((current) => ({
        ...current,
        folder: 'The dropped item has no path here; type the folder path instead.',
      }));
      return;
    }
    set('folder', path);
  };

  return (
    <section className="screen" data-testid="new-case-screen">
      <div className="screen-head">
        <h1>New case</h1>
      </div>
      <form
        className={dragging ? 'form panel dropping' : 'form panel'}
        noValidate
        onSubmit={(event) => void submit(event)}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
        data-testid="new-case-dropzone"
      >
        <Field label="Patient identifier (MRN)" required error={errors.labId} field="labId">
          <input value={form.labId} autoFocus data-testid="new-case-patient-id" onChange={(event) => set('labId', event.target.value)} />
        </Field>
        <div className="form-row">
          <Field label="Patient name" error={errors.name} field="name">
            <input value={form.name} data-testid="new-case-patient-name" onChange={(event) => set('name', event.target.value)} />
          </Field>
          <Field label="Birth date" error={errors.birthDate} field="birthDate">
            <input type="date" value={form.birthDate} data-testid="new-case-birth-date" onChange={(event) => set('birthDate', event.target.value)} />
          </Field>
        </div>
        <div className="form-row">
          <Field label="Case / accession number" required error={errors.accession} field="accession">
            <input value={form.accession} data-testid="new-case-accession" onChange={(event) => set('accession', event.target.value)} />
          </Field>
          <Field label="Specimen" error={errors.specimen} field="specimen">
            <select value={form.specimen} data-testid="new-case-specimen" onChange={(event) => set('specimen', event.target.value as SpecimenType)}>
              {SPECIMEN_TYPES.map((type) => (
                <option key={type} value={type}>
                  {SPECIMEN_LABELS[type]}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Specimen taken on" error={errors.specimenDate} field="specimenDate">
            <input
              type="date"
              value={form.specimenDate}
              title="The patient's marrows are compared in the order of this date. Empty: the day the case is created."
              data-testid="new-case-specimen-date"
              onChange={(event) => set('specimenDate', event.target.value)}
            />
          </Field>
        </div>
        {existing !== null && errors.accession !== undefined && (
          <p className="field-link" data-testid="new-case-existing">
            <a href={routeToHash(caseRoute(existing.id, 'differential'))} data-testid="new-case-open-existing">
              Open case {existing.accession}
            </a>{' '}
            <span className="muted">
              (patient {existing.patientLabId}
              {existing.patientName !== null ? `, ${existing.patientName}` : ''})
            </span>
          </p>
        )}
        <Field label="Folder of cell images" required error={errors.folder} field="folder">
          <div className="input-with-button">
            <input
              value={form.folder}
              placeholder="/path/to/the/case/crops"
              spellCheck={false}
              data-testid="new-case-folder"
              onChange={(event) => set('folder', event.target.value)}
            />
            {shell && (
              <button type="button" data-testid="new-case-browse" onClick={() => void browse()}>
                Browse…
              </button>
            )}
          </div>
          <span className="hint">
            {shell ? 'Or drop the folder onto this form.' : 'Type the absolute path of the folder.'} Every JPEG or PNG in it is one cell.
          </span>
          {isLabServerStation() && <UploadFromStation busy={busy} onUploaded={(folder) => set('folder', folder)} />}
        </Field>
        <FormError text={formError} testId="new-case-form-error" />
        {sharedCrops !== null && (
          <SharedCropsWarning
            message={sharedCrops}
            busy={busy}
            onConfirm={(reason) => void submit(null, { reason })}
            onCancel={() => {
              setSharedCrops(null);
              setErrors((current) => ({ ...current, folder: 'Check the folder (and the patient identifier), then create the case.' }));
            }}
          />
        )}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || sharedCrops !== null} data-testid="new-case-submit">
            {busy ? 'Creating…' : 'Create case and analyse'}
          </button>
          <button type="button" disabled={busy} data-testid="new-case-cancel" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

interface FieldProps {
  label: string;
  field: NewCaseField;
  error: string | undefined;
  required?: boolean;
  children: ReactNode;
}

function Field({ label, field, error, required = false, children }: FieldProps) {
  return (
    <label className={error ? 'field field-invalid' : 'field'}>
      <span className="field-label">
        {label}
        {required && <span className="required"> (required)</span>}
      </span>
      {children}
      {error && (
        <span className="field-error" role="alert" data-testid={`new-case-error-${field}`}>
          {error}
        </span>
      )}
    </label>
  );
}
