// Password hashing with Node's built-in scrypt (RFC 7914). Why scrypt and not argon2id: scrypt is memory-hard too,
// ships inside Node (OpenSSL), so there is no native package to build for Electron's ABI and for the CLI's Node on
// every platform, and no new dependency to audit. Parameters: N = 2^15, r = 8, p = 1 (32 MiB per hash, OWASP's
// scrypt minimum is N = 2^17 with r = 8, p = 1 or an equivalent; we chose 2^15 with the cost measured on the
// lab PC in the README, and store the parameters with every hash so they can be raised without breaking old ones).
// Each hash has its own 16-byte random salt; verification compares with timingSafeEqual. The password itself is
// never stored, logged or returned: only this module sees it, and only to hash it.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParameters {
  log2N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: Readonly<ScryptParameters> = Object.freeze({ log2N: 15, r: 8, p: 1 });
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function scrypt(password: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  const N = 2 ** params.log2N;
  // scrypt needs 128 * N * r bytes; Node refuses above maxmem (32 MiB by default), so allow twice what is needed.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** "scrypt$<log2 N>$<r>$<p>$<salt base64>$<key base64>" */
export async function hashPassword(password: string, params: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, params);
  return ['scrypt', params.log2N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

const HASH_FORMAT = /^scrypt\$(\d{1,2})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** True when `password` matches `stored`. A malformed stored hash never matches (and is not an error to the caller). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = HASH_FORMAT.exec(stored);
  if (match === null) return false;
  const params = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.log2N < 10 || params.log2N > 22 || params.r < 1 || params.p < 1) return false;
  const expected = Buffer.from(match[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(match[4]!, 'base64'), params);
  return expected.length === key.length && timingSafeEqual(expected, key);
}

/**
 * A hash that matches no password, to verify against when a login names no account: the answer then takes as long
 * as for a real account, so timing does not tell which logins exist.
 */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(32).toString('base64'));
  return decoy;
}

/** The password rules, in one place for the service, the CLI and the screens' hints. */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

/** Null when acceptable; otherwise what is wrong, in words (never echoing the password). */
export function passwordProblem(password: string, context: { login: string; displayName: string }): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `A password needs at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `A password has at most ${PASSWORD_MAX_LENGTH} characters.`;
  const lower = password.toLowerCase();
  if (lower === context.login.toLowerCase() || lower === context.displayName.toLowerCase()) return 'A password must not be the login or the name.';
  return null;
}
