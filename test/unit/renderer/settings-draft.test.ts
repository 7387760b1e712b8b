import { describe, expect, it } from 'vitest';
import { DEFAULT_LIS_SETTINGS } from '../../../src/shared/lis';
import { checkLisDraft, differs, lisDraftOf } from '../../../src/renderer/src/screens/settingsDraft';

const base = () => lisDraftOf({ ...DEFAULT_LIS_SETTINGS, codeMapping: [] });

describe('Settings dialog checks before one Save writes every section', () => {
  it('names the code-mapping field for a mapping line it cannot read', () => {
    const checked = checkLisDraft({ ...base(), mapping: 'BLA = 12345-6 | LN\nLYT = LYM' });
    expect(checked).toEqual({ ok: false, error: { field: 'codeMapping', text: expect.stringContaining('Line 2') } });
  });

  it('refuses a port that is not a whole number from 1 to 65535, naming the port', () => {
    for (const port of ['25x5', '0', '70000', '-1']) {
      expect(checkLisDraft({ ...base(), port })).toMatchObject({ ok: false, error: { field: 'mllpPort' } });
    }
    expect(checkLisDraft({ ...base(), port: ' 2575 ', settings: { ...base().settings, mllpHost: 'lis' } })).toMatchObject({
      ok: true,
      value: { mllpPort: 2575 },
    });
  });

  it('names the first field required to send once delivery is switched on', () => {
    const draft = base();
    const on = { ...draft, settings: { ...draft.settings, enabled: true, sendingApplication: '  ' } };
    expect(checkLisDraft(on)).toMatchObject({ ok: false, error: { field: 'sendingApplication' } });
    const filled = { ...on, settings: { ...on.settings, sendingApplication: 'MC', patientIdAuthority: 'HOSP' } };
    expect(checkLisDraft(filled)).toMatchObject({ ok: false, error: { field: 'patientIdSystem' } });
    // Switched off, the same empty fields are no reason to refuse.
    expect(checkLisDraft({ ...filled, settings: { ...filled.settings, enabled: false } }).ok).toBe(true);
  });

  it('trims the text fields and tells a changed section from an unchanged one', () => {
    const draft = base();
    const checked = checkLisDraft({ ...draft, settings: { ...draft.settings, sendingFacility: '  HAEM  ' } });
    if (!checked.ok) throw new Error(checked.error.text);
    expect(checked.value.sendingFacility).toBe('HAEM');
    expect(differs(draft.settings, checked.value)).toBe(true);
    const same = checkLisDraft(draft);
    if (!same.ok) throw new Error(same.error.text);
    expect(differs(draft.settings, same.value)).toBe(false);
  });
});
