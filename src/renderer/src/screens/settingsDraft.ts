// The Settings dialog's drafts and the checks made before anything is saved. Pure, so the rules that decide whether
// a Save may go ahead (and which field the error names) are unit-tested without a DOM.
import type { Settings } from '../../../shared/api';
import {
  DEFAULT_LIS_SETTINGS,
  formatLisCodeMapping,
  LIS_REQUIRED_TO_SEND,
  LIS_SETTINGS_CHECKS,
  LisMappingError,
  lisSettingsProblem,
  parseLisCodeMapping,
  type LisSettings,
} from '../../../shared/lis';

export interface LisDraft {
  settings: LisSettings;
  /** The port as typed, so that "25x5" can be refused with a message instead of silently becoming NaN. */
  port: string;
  /** The code mapping as typed, one line per override. */
  mapping: string;
}

export function lisDraftOf(settings: LisSettings): LisDraft {
  return { settings, port: settings.mllpPort === null ? '' : String(settings.mllpPort), mapping: formatLisCodeMapping(settings.codeMapping) };
}

/** A refusal before saving: the field it is about (the input to focus) and what to do. */
export interface DraftError {
  field: string;
  text: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: DraftError };

/** The general settings as they will be saved (the lab name may stay empty; who reviews is the logged-in person). */
export function checkGeneralDraft(draft: Settings): Checked<Settings> {
  return { ok: true, value: { labName: draft.labName.trim() } };
}

export { LIS_REQUIRED_TO_SEND };

const LIS_LABELS: Readonly<Record<(typeof LIS_REQUIRED_TO_SEND)[number], string>> = {
  sendingApplication: 'the sending application (MSH-3)',
  patientIdAuthority: 'the patient identifier namespace (PID-3.4)',
  patientIdSystem: 'the patient identifier system (FHIR)',
};

/** The LIS settings as they will be saved, or the first field that stops the save. */
export function checkLisDraft(draft: LisDraft): Checked<LisSettings> {
  let codeMapping;
  try {
    codeMapping = parseLisCodeMapping(draft.mapping);
  } catch (caught) {
    return { ok: false, error: { field: 'codeMapping', text: caught instanceof LisMappingError ? caught.message : String(caught) } };
  }
  const port = draft.port.trim();
  if (port !== '' && !/^\d+$/.test(port)) return { ok: false, error: { field: 'mllpPort', text: LIS_SETTINGS_CHECKS.mllpPort(Number.NaN)!.message } };
  const trimmed = Object.fromEntries(
    (Object.keys(DEFAULT_LIS_SETTINGS) as (keyof LisSettings)[])
      .filter((key) => typeof draft.settings[key] === 'string')
      .map((key) => [key, (draft.settings[key] as string).trim()]),
  ) as Partial<LisSettings>;
  const value: LisSettings = { ...draft.settings, ...trimmed, mllpPort: port === '' ? null : Number(port), codeMapping };
  // The checks main applies too (src/shared/lis.ts): URI, full path, host name, port range, host and port together.
  const problem = lisSettingsProblem(value);
  if (problem !== null) return { ok: false, error: { field: problem.field, text: problem.message } };
  if (value.enabled) {
    const missing = LIS_REQUIRED_TO_SEND.find((key) => value[key] === '');
    if (missing !== undefined) {
      return { ok: false, error: { field: missing, text: `To send results to the LIS, fill in ${LIS_LABELS[missing]}.` } };
    }
  }
  return { ok: true, value };
}

/** True when saving `next` would change what is stored (a Save with no change writes no audit row). */
export function differs<T>(stored: T | null, next: T): boolean {
  return stored === null || JSON.stringify(stored) !== JSON.stringify(next);
}
