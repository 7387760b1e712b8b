// The lab server's certificate. Loading: the PEM files named by --tls-cert/--tls-key, and the certificate's SHA-256
// fingerprint, which stations pin on first use (so it is printed where the administrator will see it).
// Making one for trials (`marrowcount server init-tls`) uses the openssl program: node:crypto makes key pairs and
// reads certificates (X509Certificate) but has no API to issue (sign) one, and a hand-written ASN.1 encoder is
// exactly the home-made crypto a lab's IT should not have to trust.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as browsers and openssl print it). */
  fingerprint256: string;
  subject: string;
  validTo: string;
}

export class TlsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsSetupError';
  }
}

export function loadTls(certFile: string, keyFile: string): ServerTls {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
  } catch (e) {
    throw new TlsSetupError(`Could not read the certificate ${certFile}: ${(e as Error).message}.`);
  }
  try {
    key = readFileSync(keyFile);
  } catch (e) {
    throw new TlsSetupError(`Could not read the private key ${keyFile}: ${(e as Error).message}.`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new TlsSetupError(`${certFile} is not a PEM certificate (${(e as Error).message}).`);
  }
  return { cert, key, fingerprint256: x509.fingerprint256, subject: x509.subject, validTo: x509.validTo };
}

/** Names the certificate is valid for: the ones given, plus localhost and the loopback addresses. */
function subjectAltNames(names: readonly string[]): string {
  const all = new Set(['localhost', '127.0.0.1', '::1', ...names]);
  return [...all].map((n) => (/^[0-9.]+$/.test(n) || n.includes(':') ? `IP:${n}` : `DNS:${n}`)).join(',');
}

/**
 * A self-signed certificate and key (ECDSA P-256, 825 days: the longest browsers accept) in `outDir`, for trials.
 * Refuses to overwrite: a new certificate breaks every station's pin.
 */
export async function makeSelfSignedCertificate(outDir: string, names: readonly string[]): Promise<{ certFile: string; keyFile: string; tls: ServerTls }> {
  const dir = resolve(outDir);
  const certFile = join(dir, 'marrowcount-server.crt');
  const keyFile = join(dir, 'marrowcount-server.key');
  if (existsSync(certFile) || existsSync(keyFile)) {
    throw new TlsSetupError(
      `${certFile} or its key already exists. A new certificate makes every station refuse the server until it is pinned again; delete both files first if that is what you want.`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const commonName = names[0] ?? 'localhost';
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '825',
      '-subj',
      `/CN=${commonName}/O=MarrowCount lab server (self-signed, for trials)`,
      '-addext',
      `subjectAltName=${subjectAltNames(names)}`,
      '-addext',
      'extendedKeyUsage=serverAuth',
    ]);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new TlsSetupError(
        "The openssl program is not installed, and MarrowCount makes certificates with it (Node cannot sign one). Install it (Debian: apt-get install openssl) or give the server a certificate from the lab's own certificate authority with --tls-cert and --tls-key.",
      );
    }
    throw new TlsSetupError(`openssl could not make the certificate: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile, tls: loadTls(certFile, keyFile) };
}
