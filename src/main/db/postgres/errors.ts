// PostgreSQL's errors sorted into the same DatabaseError kinds as SQLite's (../errors.ts): a trigger's "[kind] "
// message gives the same typed error on both engines, and SQLSTATE classes stand in for SQLite's result codes.
import { DatabaseError, TRIGGER_TAG, type DatabaseErrorKind } from '../errors';

function sqlState(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Node's socket errors (server down, wrong host or port, connection cut). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/**
 * Node's TLS errors when the database server's certificate does not check out (sslmode=verify-full): a lab CA that
 * did not sign it, a name it was not made for, an expired one. The connection is refused before any data is sent.
 */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Maps an error thrown by node-postgres to a DatabaseError; null when it is not a database error (a programming
 * error such as bad SQL, which callers let through unchanged).
 */
export function classifyPostgresError(e: unknown, context?: string): DatabaseError | null {
  if (e instanceof DatabaseError) return e;
  const where = context ? `${context}: ` : '';
  const raw = e instanceof Error ? e.message : String(e);
  const nodeCode = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (NETWORK_CODES.has(nodeCode)) {
    return new DatabaseError('io', `${where}the database server cannot be reached (${raw}). Check the server and the network.`, {
      detail: nodeCode,
      cause: e,
    });
  }
  if (TLS_CODES.has(nodeCode)) {
    return new DatabaseError(
      'io',
      `${where}the database server's certificate was not accepted (${raw}). Check the sslrootcert file in the database URL: it must be the certificate of the authority that signed the server's certificate, and the URL's host a name the certificate was made for.`,
      { detail: nodeCode, cause: e },
    );
  }
  // The URL asks for TLS (sslmode) and the server has it switched off.
  if (raw === 'The server does not support SSL connections') {
    return new DatabaseError(
      'io',
      `${where}the database server does not offer TLS, and the database URL requires it (sslmode). Ask IT to switch on ssl in postgresql.conf.`,
      {
        detail: raw,
        cause: e,
      },
    );
  }
  const code = sqlState(e);
  if (code === undefined) return null;
  const detail = `SQLSTATE ${code}: ${raw}`;
  const make = (kind: DatabaseErrorKind, message: string) => new DatabaseError(kind, `${where}${message}`, { detail, cause: e });

  const tagged = TRIGGER_TAG.exec(raw);
  if (tagged && code === 'P0001') {
    const tag = tagged[1];
    const kind: DatabaseErrorKind = tag === 'immutable' ? 'constraint' : (tag as DatabaseErrorKind);
    return make(kind, raw.slice(tagged[0].length));
  }
  if (code === '23505') return make('duplicate', `this record already exists (${raw}).`);
  if (code.startsWith('23')) return make('constraint', `the change breaks a rule of the database (${raw}).`);
  // Serialization failure, deadlock, lock timeout: another station changed the same rows; the caller may retry.
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '57014') {
    return make('locked', 'another station changed the same records at the same time. Try again.');
  }
  if (code === '25006') return make('read_only', 'the database connection is read-only.');
  if (code === '42501') return make('read_only', `the database role may not do this (${raw}). Ask IT to grant the privileges in the README.`);
  if (code === 'XX001' || code === 'XX002') {
    return make('corrupt', `the database server reports damaged data (${raw}). Ask IT to restore the latest backup.`);
  }
  if (code === '53100') return make('io', 'the database server is out of disk space.');
  if (code === '3D000') return make('not_found', `the database does not exist (${raw}).`);
  if (code.startsWith('08') || code.startsWith('28') || code.startsWith('53') || code.startsWith('57')) {
    return make('io', `the database server refused or dropped the connection (${raw}).`);
  }
  return null;
}
