// The desktop app as a station of a lab server: which mode this PC is in (its own local database, or a lab server
// at a URL) and the server certificate's pinned fingerprint. Kept in station.json in the user-data folder. Pure
// Node (no Electron), so the rules are tested under plain Node; station-window.ts applies them.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type StationConfig =
  | { mode: 'local' }
  | {
      mode: 'server';
      /** Origin of the lab server, e.g. https://marrow.lab.local:8443 */
      url: string;
      /** SHA-256 fingerprint of the certificate trusted on first use (colon hex); null until the first connection. */
      fingerprint256: string | null;
    };

export class StationConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StationConfigError';
  }
}

/** The lab server's address as typed: HTTPS only, a host and optional port, nothing else. Returns its origin. */
export function parseServerUrl(text: string): string {
  const typed = text.trim();
  if (typed === '') throw new StationConfigError("Type the lab server's address, e.g. https://marrow.lab.local:8443.");
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(typed) ? typed : `https://${typed}`);
  } catch {
    throw new StationConfigError(`"${typed.slice(0, 100)}" is not an address. Type it as https://host:port.`);
  }
  if (url.protocol !== 'https:')
    throw new StationConfigError(`The lab server is reached over HTTPS only; "${typed.slice(0, 100)}" is ${url.protocol.replace(':', '')}.`);
  if (url.username !== '' || url.password !== '')
    throw new StationConfigError("Give the address without a name or password in it; you log in on the server's own screen.");
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new StationConfigError(`Give only the server's address (https://host:port), not a page on it ("${url.pathname}${url.search}").`);
  }
  return url.origin;
}

export function readStationConfig(file: string): StationConfig {
  if (!existsSync(file)) return { mode: 'local' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StationConfigError(`${file} is not valid JSON (${(e as Error).message}). Delete it to use this computer's own database.`);
  }
  const c = parsed as Partial<{ mode: unknown; url: unknown; fingerprint256: unknown }> | null;
  if (c?.mode === 'local') return { mode: 'local' };
  if (
    c?.mode === 'server' &&
    typeof c.url === 'string' &&
    (c.fingerprint256 === null || (typeof c.fingerprint256 === 'string' && /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(c.fingerprint256)))
  ) {
    return { mode: 'server', url: parseServerUrl(c.url), fingerprint256: c.fingerprint256 };
  }
  throw new StationConfigError(
    `${file} does not say "local" or a lab server with its certificate's fingerprint. Delete it to use this computer's own database.`,
  );
}

/** Written to a temporary file and renamed: a crash mid-write leaves the old configuration, never half of one. */
export function writeStationConfig(file: string, config: StationConfig): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

export type PinDecision =
  /** Not the lab server's host: Chromium's own verification applies. */
  | { action: 'default' }
  | { action: 'accept' }
  /** First connection: ask the person to compare the fingerprint, then pin it. */
  | { action: 'ask-first-use'; fingerprint256: string }
  /** The certificate differs from the pinned one: refuse, loudly. */
  | { action: 'refuse-changed'; pinned: string; presented: string };

export function pinDecision(config: StationConfig, hostname: string, presentedFingerprint256: string): PinDecision {
  if (config.mode !== 'server' || new URL(config.url).hostname.replace(/^\[|\]$/g, '') !== hostname.replace(/^\[|\]$/g, '')) return { action: 'default' };
  if (config.fingerprint256 === null) return { action: 'ask-first-use', fingerprint256: presentedFingerprint256 };
  if (config.fingerprint256 === presentedFingerprint256) return { action: 'accept' };
  return { action: 'refuse-changed', pinned: config.fingerprint256, presented: presentedFingerprint256 };
}
