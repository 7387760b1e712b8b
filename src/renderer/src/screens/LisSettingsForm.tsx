import { useState, type FormEvent } from 'react';
import {
  DEFAULT_LIS_SETTINGS,
  LIS_COMPONENTS,
  defaultLisCode,
  formatLisCodeMapping,
  LIS_SETTINGS_CHECKS,
  LisMappingError,
  lisSettingsProblem,
  parseLisCodeMapping,
  type LisSettings,
} from '../../../shared/lis';
import { getApi } from '../api';
import { errorText, useMessages } from '../components/messages';
import { useApiAction } from '../hooks/useApiAction';
import { useApiQuery } from '../hooks/useApiQuery';
import { FormError } from '../components/FormError';

type TextField = Exclude<keyof LisSettings, 'enabled' | 'mllpPort' | 'codeMapping'>;

interface Draft {
  settings: LisSettings;
  port: string;
  mapping: string;
}

function draftOf(settings: LisSettings): Draft {
  return { settings, port: settings.mllpPort === null ? '' : String(settings.mllpPort), mapping: formatLisCodeMapping(settings.codeMapping) };
}

/** The LIS part of Settings: where results go, how they are addressed, and which codes they carry. */
export function LisSettingsForm() {
  const { notify } = useMessages();
  const query = useApiQuery(() => getApi().getLisSettings(), 'lis-settings', 'Loading the LIS settings');
  const [edited, setEdited] = useState<Draft | null>(null);
  const draft = edited ?? (query.data === null ? null : draftOf(query.data));
  const { busy, error, setError, run } = useApiAction();

  if (draft === null) return <p className="muted">Loading the LIS settings…</p>;
  const update = (change: Partial<Draft>) => setEdited({ ...draft, ...change });
  const set = (field: keyof LisSettings, value: LisSettings[keyof LisSettings]) => update({ settings: { ...draft.settings, [field]: value } });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    let codeMapping;
    try {
      codeMapping = parseLisCodeMapping(draft.mapping);
    } catch (caught) {
      setError({ field: 'codeMapping', text: caught instanceof LisMappingError ? caught.message : errorText(caught) });
      return;
    }
    const port = draft.port.trim();
    if (port !== '' && !/^\d+$/.test(port)) {
      setError({ field: 'mllpPort', text: LIS_SETTINGS_CHECKS.mllpPort(Number.NaN)!.message });
      return;
    }
    const settings: LisSettings = {
      ...draft.settings,
      ...Object.fromEntries(
        (Object.keys(DEFAULT_LIS_SETTINGS) as (keyof LisSettings)[])
          .filter((k) => typeof draft.settings[k] === 'string')
          .map((k) => [k, (draft.settings[k] as string).trim()]),
      ),
      mllpPort: port === '' ? null : Number(port),
      codeMapping,
    };
    // The same checks main applies (src/shared/lis.ts): the field is marked before anything is sent.
    const problem = lisSettingsProblem(settings);
    if (problem !== null) {
      setError({ field: problem.field, text: problem.message });
      return;
    }
    await run(async () => {
      const saved = await getApi().saveLisSettings(settings);
      setEdited(draftOf(saved));
      notify('LIS settings saved.');
    });
  };

  const text = (field: TextField, label: string, placeholder: string) => (
    <label className={error?.field === field ? 'field field-invalid' : 'field'}>
      <span className="field-label">{label}</span>
      <input value={draft.settings[field]} placeholder={placeholder} data-testid={`lis-settings-${field}`} onChange={(event) => set(field, event.target.value)} />
    </label>
  );

  return (
    <form className="form" data-testid="lis-settings" onSubmit={(event) => void submit(event)}>
      <h3>LIS (laboratory information system)</h3>
      <label className={error?.field === 'enabled' ? 'field field-invalid' : 'field'}>
        <span>
          <input
            type="checkbox"
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
          <input value={draft.port} placeholder="e.g. 2575" inputMode="numeric" data-testid="lis-settings-mllpPort" onChange={(event) => update({ port: event.target.value })} />
        </label>
      </div>
      <label className={error?.field === 'codeMapping' ? 'field field-invalid' : 'field'}>
        <span className="field-label">Code mapping (one line each: COMPONENT = CODE | HL7 SYSTEM | FHIR SYSTEM)</span>
        <textarea
          rows={4}
          value={draft.mapping}
          placeholder={'BLA = 12345-6 | LN\nLYT = LYM% | 99LAB | urn:oid:1.2.3.4.5'}
          data-testid="lis-settings-codeMapping"
          onChange={(event) => update({ mapping: event.target.value })}
        />
      </label>
      <details data-testid="lis-settings-codes">
        <summary>Codes sent when nothing is mapped</summary>
        <p className="muted">
          LOINC is used only for 47286-0 (bone marrow differential panel), 38257-2 (cells counted) and 11138-5 (M:E ratio): codes taken
          from the issue that specified this feature and not re-verified against a LOINC release. Every other figure — each class
          percentage, the blast percentage, the nucleated count — is sent under MarrowCount’s local code system (HL7 99MCNT, FHIR
          urn:marrowcount:code) with the app’s own class codes. Map them here to the codes your LIS expects.
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
      <FormError text={error?.text} testId="lis-settings-error" />
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="lis-settings-save">
          Save LIS settings
        </button>
      </div>
    </form>
  );
}
