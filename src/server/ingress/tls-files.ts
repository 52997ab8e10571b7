// TLS for both listeners from PEM files: the server certificate (chain) and its key, and optionally
// a CA bundle, which turns on mutual TLS (clients must present a certificate it signed). Files are
// read and checked once, at startup, so a wrong path, a key that is not the certificate's or an
// encrypted key is a clear error naming the file rather than a failed handshake later.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { IngressConfigError } from './ingress-config-error';

export interface TlsFiles {
  /** PEM server certificate, optionally followed by its intermediates. */
  certFile: string;
  /** PEM private key of that certificate, unencrypted. */
  keyFile: string;
  /** PEM CA certificates that sign client certificates; set for mutual TLS. */
  caFile?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

const MAX_PEM_BYTES = 1024 * 1024;

export function loadTlsFiles(files: TlsFiles): TlsMaterial {
  if (typeof files.certFile !== 'string' || typeof files.keyFile !== 'string' || files.certFile === '' || files.keyFile === '') {
    throw new IngressConfigError('TLS needs both a certificate file and a key file');
  }
  const cert = readPem(files.certFile, 'certificate');
  const key = readPem(files.keyFile, 'key');
  const ca = files.caFile === undefined ? undefined : readPem(files.caFile, 'CA');

  const x509 = certificate(cert, files.certFile, 'certificate');
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new IngressConfigError(`TLS key file "${files.keyFile}" holds no unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new IngressConfigError(`TLS key file "${files.keyFile}" is not the key of the certificate in "${files.certFile}"`);
  }
  if (ca !== undefined) certificate(ca, files.caFile!, 'CA');
  return { cert, key, ca };
}

/** Options for https.createServer (and http2.createSecureServer). */
export function httpsServerOptions(m: TlsMaterial): HttpsServerOptions {
  const mutual = m.ca !== undefined;
  return { cert: m.cert, key: m.key, ...(mutual ? { ca: m.ca } : {}), requestCert: mutual, rejectUnauthorized: mutual };
}

/** Credentials for grpc.Server#bindAsync. */
export function grpcServerCredentials(m: TlsMaterial): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(m.ca ?? null, [{ cert_chain: m.cert, private_key: m.key }], m.ca !== undefined);
}

function readPem(file: string, what: string): Buffer {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new IngressConfigError(`TLS ${what} file "${file}" is not a regular file`);
    if (st.size > MAX_PEM_BYTES) throw new IngressConfigError(`TLS ${what} file "${file}" is ${st.size} bytes; the limit is ${MAX_PEM_BYTES}`);
    return readFileSync(file);
  } catch (err) {
    if (err instanceof IngressConfigError) throw err;
    throw new IngressConfigError(`TLS ${what} file "${file}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function certificate(pem: Buffer, file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new IngressConfigError(`TLS ${what} file "${file}" holds no PEM certificate`);
  }
}
