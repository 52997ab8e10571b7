// TLS for the listeners: files loaded and checked with errors naming the file, then real handshakes
// (OpenSSL-made certificates, Node's TLS and grpc-js on both ends) with and without mutual TLS.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { inferenceService } from '../../src/backends/triton/proto';
import { IngressConfigError } from '../../src/server/ingress/ingress-config-error';
import { type TlsMaterial, grpcServerCredentials, httpsServerOptions, loadTlsFiles } from '../../src/server/ingress/tls-files';

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, both signed by it. */
function makePki(dir: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=infergate test CA');
  for (const [name, ext] of [['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  openssl(dir, 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', 'pass:secret', '-out', 'encrypted.key');
  writeFileSync(path.join(dir, 'garbage.pem'), 'not a certificate\n');
}

function configError(message: RegExp) {
  return (err: unknown): true => {
    assert.ok(err instanceof IngressConfigError, String(err));
    assert.match(err.message, message);
    return true;
  };
}

describe('ingress: TLS files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'infergate-ingress-tls-'));
  const f = (name: string) => path.join(dir, name);
  before(() => makePki(dir));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a certificate and its key, with an optional CA bundle', () => {
    const plain = loadTlsFiles({ certFile: f('server.pem'), keyFile: f('server.key') });
    assert.match(plain.cert.toString(), /BEGIN CERTIFICATE/);
    assert.equal(plain.ca, undefined);
    assert.deepEqual(httpsServerOptions(plain), { cert: plain.cert, key: plain.key, requestCert: false, rejectUnauthorized: false });
    const mutual = loadTlsFiles({ certFile: f('server.pem'), keyFile: f('server.key'), caFile: f('ca.pem') });
    assert.match(mutual.ca!.toString(), /BEGIN CERTIFICATE/);
    assert.equal(httpsServerOptions(mutual).requestCert, true);
  });

  it('names the file that is missing, wrong, encrypted or not the certificate\'s key', () => {
    const load = (certFile: string, keyFile: string, caFile?: string) => () => loadTlsFiles({ certFile: f(certFile), keyFile: f(keyFile), ...(caFile ? { caFile: f(caFile) } : {}) });
    assert.throws(load('nope.pem', 'server.key'), configError(/^TLS certificate file ".*nope\.pem" cannot be read: ENOENT$/));
    assert.throws(load('server.pem', 'nope.key'), configError(/^TLS key file ".*nope\.key" cannot be read: ENOENT$/));
    assert.throws(load('server.pem', 'server.key', 'nope.pem'), configError(/^TLS CA file ".*nope\.pem" cannot be read: ENOENT$/));
    assert.throws(() => loadTlsFiles({ certFile: dir, keyFile: f('server.key') }), configError(/^TLS certificate file ".*" is not a regular file$/));
    assert.throws(load('garbage.pem', 'server.key'), configError(/^TLS certificate file ".*garbage\.pem" holds no PEM certificate$/));
    assert.throws(load('server.key', 'server.key'), configError(/^TLS certificate file ".*server\.key" holds no PEM certificate$/));
    assert.throws(load('server.pem', 'garbage.pem'), configError(/^TLS key file ".*garbage\.pem" holds no unencrypted PEM private key$/));
    assert.throws(load('server.pem', 'encrypted.key'), configError(/^TLS key file ".*encrypted\.key" holds no unencrypted PEM private key$/));
    assert.throws(load('server.pem', 'client.key'), configError(/^TLS key file ".*client\.key" is not the key of the certificate in ".*server\.pem"$/));
    assert.throws(load('server.pem', 'server.key', 'garbage.pem'), configError(/^TLS CA file ".*garbage\.pem" holds no PEM certificate$/));
    assert.throws(() => loadTlsFiles({ certFile: f('server.pem'), keyFile: '' }), configError(/^TLS needs both a certificate file and a key file$/));
  });

  describe('handshakes', () => {
    let server: TlsMaterial;
    let mutual: TlsMaterial;
    let ca: Buffer;
    let client: { key: Buffer; cert: Buffer };
    before(() => {
      server = loadTlsFiles({ certFile: f('server.pem'), keyFile: f('server.key') });
      mutual = loadTlsFiles({ certFile: f('server.pem'), keyFile: f('server.key'), caFile: f('ca.pem') });
      const other = loadTlsFiles({ certFile: f('client.pem'), keyFile: f('client.key') });
      ca = mutual.ca!;
      client = { key: other.key, cert: other.cert };
    });

    it('serves HTTPS, and with a CA requires a client certificate it signed', async () => {
      for (const [material, withClientCert, ok] of [
        [server, false, true],
        [mutual, true, true],
        [mutual, false, false],
      ] as const) {
        const srv = https.createServer(httpsServerOptions(material), (_req, res) => res.end('ok'));
        await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
        const { port } = srv.address() as AddressInfo;
        try {
          const get = new Promise<string>((resolve, reject) => {
            const req = https.get({ host: '127.0.0.1', port, path: '/', ca, ...(withClientCert ? client : {}), agent: false }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve(body));
              res.on('error', reject);
            });
            req.on('error', reject);
          });
          if (ok) assert.equal(await get, 'ok');
          else await assert.rejects(get);
        } finally {
          srv.closeAllConnections();
          await new Promise((resolve) => srv.close(resolve));
        }
      }
    });

    it('serves gRPC, and with a CA requires a client certificate it signed', async () => {
      for (const [material, withClientCert, ok] of [
        [server, false, true],
        [mutual, true, true],
        [mutual, false, false],
      ] as const) {
        const srv = new grpc.Server();
        srv.addService(inferenceService().service, {
          ServerLive: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { live: true }),
        });
        const port = await new Promise<number>((resolve, reject) =>
          srv.bindAsync('127.0.0.1:0', grpcServerCredentials(material), (err, p) => (err ? reject(err) : resolve(p))),
        );
        const { Client } = inferenceService();
        const creds = withClientCert ? grpc.credentials.createSsl(ca, client.key, client.cert) : grpc.credentials.createSsl(ca);
        const c = new Client(`localhost:${port}`, creds) as unknown as grpc.Client & {
          ServerLive(req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { live: boolean }) => void): void;
        };
        try {
          const call = new Promise<{ live: boolean } | undefined>((resolve, reject) =>
            c.ServerLive({}, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))),
          );
          if (ok) assert.deepEqual(await call, { live: true });
          else await assert.rejects(call, (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
        } finally {
          c.close();
          srv.forceShutdown();
        }
      }
    });
  });
});
