import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServerUrl, pinDecision, readStationConfig, writeStationConfig, type StationConfig } from '../../../src/main/station/station-config';

const FP_A = Array.from({ length: 32 }, (_, i) => ((i * 7) % 256).toString(16).toUpperCase().padStart(2, '0')).join(':');
const FP_B = Array.from({ length: 32 }, (_, i) => ((i * 11) % 256).toString(16).toUpperCase().padStart(2, '0')).join(':');
const dir = mkdtempSync(join(tmpdir(), 'marrowcount-station-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('station configuration', () => {
  it('accepts an HTTPS server address (scheme optional) and refuses plain HTTP, credentials and page paths', () => {
    expect(parseServerUrl('marrow.lab.local:8443')).toBe('https://marrow.lab.local:8443');
    expect(parseServerUrl(' https://10.0.0.5:8443/ ')).toBe('https://10.0.0.5:8443');
    expect(() => parseServerUrl('http://marrow.lab.local:8443')).toThrow(/HTTPS only/);
    expect(() => parseServerUrl('https://sam:pw@marrow.lab.local')).toThrow(/without a name or password/);
    expect(() => parseServerUrl('https://marrow.lab.local/#/case/1')).toThrow(/not a page on it/);
    expect(() => parseServerUrl('')).toThrow(/Type the lab server/);
  });

  it('pins the certificate on first use, accepts it after, and refuses a changed one; other hosts are left to Chromium', () => {
    const first: StationConfig = { mode: 'server', url: 'https://marrow.lab.local:8443', fingerprint256: null };
    expect(pinDecision(first, 'marrow.lab.local', FP_A)).toEqual({ action: 'ask-first-use', fingerprint256: FP_A });
    const pinned: StationConfig = { ...first, fingerprint256: FP_A };
    expect(pinDecision(pinned, 'marrow.lab.local', FP_A)).toEqual({ action: 'accept' });
    expect(pinDecision(pinned, 'marrow.lab.local', FP_B)).toEqual({ action: 'refuse-changed', pinned: FP_A, presented: FP_B });
    expect(pinDecision(pinned, 'example.org', FP_B)).toEqual({ action: 'default' });
    expect(pinDecision({ mode: 'local' }, 'marrow.lab.local', FP_B)).toEqual({ action: 'default' });
  });

  it('reads what it wrote, is local without a file, and names a damaged file', () => {
    const file = join(dir, 'station.json');
    expect(readStationConfig(file)).toEqual({ mode: 'local' });
    const config: StationConfig = { mode: 'server', url: 'https://marrow.lab.local:8443', fingerprint256: FP_A };
    writeStationConfig(file, config);
    expect(readStationConfig(file)).toEqual(config);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(config);
    writeFileSync(file, '{"mode":"server","url":"http://x","fingerprint256":null}');
    expect(() => readStationConfig(file)).toThrow(/HTTPS only/);
    writeFileSync(file, '{"mode":"server","url":"https://x","fingerprint256":"nope"}');
    expect(() => readStationConfig(file)).toThrow(/station\.json does not say/);
    writeFileSync(file, '{');
    expect(() => readStationConfig(file)).toThrow(/not valid JSON/);
  });
});
