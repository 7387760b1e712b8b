import { describe, expect, it } from 'vitest';
import { validateArgs } from '../../../src/main/boundary/validate';
import { DEFAULT_LIS_SETTINGS, lisSettingsProblem, type LisSettings } from '../../../src/shared/lis';

const settings = (change: Partial<LisSettings>): LisSettings => ({ ...DEFAULT_LIS_SETTINGS, codeMapping: [], ...change });

// The settings form and the boundary (boundary/validate.ts) apply the same checks from src/shared/lis.ts.
describe('LIS settings checks shared by the form and the boundary', () => {
  it.each([
    [{ patientIdSystem: 'hospital mrn' }, 'patientIdSystem', 'must be a URI'],
    [{ outboxFolder: 'outbox' }, 'outboxFolder', 'must be a full path'],
    [{ mllpHost: 'lis host', mllpPort: 2575 }, 'mllpHost', 'host name or an IP address'],
    [{ mllpHost: 'lis.example', mllpPort: 70000 }, 'mllpPort', 'from 1 to 65535'],
    [{ mllpHost: 'lis.example', mllpPort: null }, 'mllpPort', 'both the MLLP host and port'],
    [{ mllpHost: '', mllpPort: 2575 }, 'mllpHost', 'both the MLLP host and port'],
  ] as const)('refuses %j naming %s, in the form and at the boundary alike', (change, field, words) => {
    const problem = lisSettingsProblem(settings(change));
    expect(problem?.field).toBe(field);
    expect(problem?.message).toContain(words);
    expect(() => validateArgs('saveLisSettings', [settings(change)])).toThrow(problem!.message);
  });

  it('accepts settings with a URI, a full path and both host and port', () => {
    const good = settings({ patientIdSystem: 'urn:oid:1.2.3', outboxFolder: '/srv/lis', mllpHost: 'lis.example', mllpPort: 2575 });
    expect(lisSettingsProblem(good)).toBeNull();
    expect(validateArgs('saveLisSettings', [good])[0]).toMatchObject({ mllpHost: 'lis.example', mllpPort: 2575 });
  });
});
