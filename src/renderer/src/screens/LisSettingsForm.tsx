import { LIS_COMPONENTS, defaultLisCode, type LisSettings } from '../../../shared/lis';
import { LIS_REQUIRED_TO_SEND, type DraftError, type LisDraft } from './settingsDraft';

type TextField = Exclude<keyof LisSettings, 'enabled' | 'mllpPort' | 'codeMapping'>;

interface Props {
  draft: LisDraft;
  onChange: (draft: LisDraft) => void;
  /** The dialog's current refusal, when it is about one of this section's fields. */
  error: DraftError | null;
}

/**
 * The LIS part of Settings: where results go, how they are addressed, and which codes they carry. It has no Save of
 * its own: the dialog saves every section with one button, so no section's edits can be lost by pressing the other's.
 */
export function LisSettingsSection({ draft, onChange, error }: Props) {
  const set = (field: keyof LisSettings, value: LisSettings[keyof LisSettings]) => onChange({ ...draft, settings: { ...draft.settings, [field]: value } });
  const requiredNow = (field: string) => draft.settings.enabled && (LIS_REQUIRED_TO_SEND as readonly string[]).includes(field);

  const text = (field: TextField, label: string, placeholder: string) => (
    <label className={error?.field === field ? 'field field-invalid' : 'field'}>
      <span className="field-label">
        {label}
        {requiredNow(field) && <RequiredMark />}
      </span>
      <input
        name={field}
        value={draft.settings[field]}
        placeholder={placeholder}
        aria-required={requiredNow(field)}
        aria-invalid={error?.field === field}
        data-testid={`lis-settings-${field}`}
        onChange={(event) => set(field, event.target.value)}
      />
    </label>
  );

  return (
    <fieldset className="form settings-section" data-testid="lis-settings">
      <legend>LIS (laboratory information system)</legend>
      <label className={error?.field === 'enabled' ? 'field field-invalid' : 'field'}>
        <span>
          <input
            type="checkbox"
            name="enabled"
            checked={draft.settings.enabled}
            data-testid="lis-settings-enabled"
            onChange={(event) => set('enabled', event.target.checked)}
          />{' '}
          Send each signed result to the LIS (HL7 v2.5.1 ORU^R01 and a FHIR R4 Bundle; a corrected result after an amendment)
        </span>
      </label>
      <div className="form-row">
        {text('sendingApplication', 'Sending application (MSH-3)', 'MARROWCOUNT')}
        {text('sendingFacility', 'Sending facility (MSH-4)', 'e.g. HAEM LAB')}
      </div>
      <div className="form-row">
        {text('receivingApplication', 'Receiving application (MSH-5)', 'e.g. LIS')}
        {text('receivingFacility', 'Receiving facility (MSH-6)', 'e.g. HOSPITAL')}
      </div>
      <div className="form-row">
        {text('patientIdAuthority', 'Patient identifier namespace (PID-3.4)', 'e.g. HOSP')}
        {text('patientIdSystem', 'Patient identifier system (FHIR, a URI)', 'e.g. urn:oid:1.2.3.4')}
      </div>
      {text('outboxFolder', 'Outbox folder (full path; empty: lis-outbox beside the database)', 'e.g. /srv/lis/inbox')}
      <div className="form-row">
        {text('mllpHost', 'MLLP host (empty: outbox folder only)', 'e.g. lis.hospital.local')}
        <label className={error?.field === 'mllpPort' ? 'field field-invalid' : 'field'}>
          <span className="field-label">MLLP port</span>
          <input
            name="mllpPort"
            value={draft.port}
            placeholder="e.g. 2575"
            inputMode="numeric"
            aria-invalid={error?.field === 'mllpPort'}
            data-testid="lis-settings-mllpPort"
            onChange={(event) => onChange({ ...draft, port: event.target.value })}
          />
        </label>
      </div>
      <label className={error?.field === 'codeMapping' ? 'field field-invalid' : 'field'}>
        <span className="field-label">Code mapping (one line each: COMPONENT = CODE | HL7 SYSTEM | FHIR SYSTEM)</span>
        <textarea
          name="codeMapping"
          rows={4}
          value={draft.mapping}
          placeholder={'BLA = 12345-6 | LN\nLYT = LYM% | 99LAB | urn:oid:1.2.3.4.5'}
          aria-invalid={error?.field === 'codeMapping'}
          data-testid="lis-settings-codeMapping"
          onChange={(event) => onChange({ ...draft, mapping: event.target.value })}
        />
      </label>
      <details data-testid="lis-settings-codes">
        <summary>Codes sent when nothing is mapped</summary>
        <p className="muted">
          LOINC is sent for the codes checked against LOINC’s published terms (the README lists where): 47286-0 (bone marrow differential panel), 38257-2 (cells
          counted), 11138-5 (M:E ratio), 11152-6 (eosinophils/cells in bone marrow) and 51581-7 (other cells/cells in bone marrow). Every other figure — the
          other class percentages, the blast percentage, the nucleated count — is sent under MarrowCount’s local code system (HL7 99MCNT, FHIR
          urn:marrowcount:code) with the app’s own class codes: no bone-marrow LOINC term without a method was found for them, and the “by Manual count” terms
          do not describe a reviewed machine classification. Map them here to the codes your LIS expects.
        </p>
        <ul className="muted">
          {LIS_COMPONENTS.map((component) => {
            const code = defaultLisCode(component);
            return (
              <li key={component}>
                {component}: {code.code} ({code.hl7System}) — {code.display}
              </li>
            );
          })}
        </ul>
      </details>
    </fieldset>
  );
}

export function RequiredMark() {
  return (
    <span className="required-mark" aria-hidden="true" title="Required">
      {' '}
      *
    </span>
  );
}
