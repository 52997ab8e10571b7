// The gRPC server over TLS, and with client certificates required (mutual TLS). Certificates are
// made for the test with openssl.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Runtime } from '../../src/runtime/runtime';
import { GrpcServer } from '../../src/server/grpc/grpc-server';
import { SystemSharedMemoryRegistry } from '../../src/server/shared-memory/system-shared-memory-registry';
import { MODELS } from '../helpers';
import { call, callError, grpcClient } from '../support/grpc-client';

// The server listens on 127.0.0.1; its certificate names "localhost".
const AS_LOCALHOST: grpc.ClientOptions = { 'grpc.ssl_target_name_override': 'localhost' };

/** A self-signed certificate for "localhost" (it signs nothing else, so it is its own root). */
function selfSigned(dir: string, name: string): { cert: Buffer; key: Buffer } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost'],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

describe('gRPC server over TLS', () => {
  let dir: string;
  let rt: Runtime;
  let registry: SystemSharedMemoryRegistry;
  let serverCert: { cert: Buffer; key: Buffer };
  let clientCert: { cert: Buffer; key: Buffer };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'infergate-grpc-tls-'));
    serverCert = selfSigned(dir, 'server');
    clientCert = selfSigned(dir, 'client');
    rt = await Runtime.load({ repository: MODELS, executorThreads: 1 });
    registry = new SystemSharedMemoryRegistry();
  });

  after(async () => {
    registry.close();
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves TLS clients and refuses plaintext ones', async () => {
    const server = new GrpcServer(rt, { port: 0, sharedMemory: registry, tls: serverCert });
    const port = await server.listen();
    const secure = grpcClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(serverCert.cert), AS_LOCALHOST);
    const plain = grpcClient(`127.0.0.1:${port}`);
    try {
      assert.deepEqual(await call(secure, 'ServerLive', {}), { live: true });
      assert.equal((await callError(plain, 'ServerLive', {})).code, grpc.status.UNAVAILABLE);
    } finally {
      secure.close();
      plain.close();
      await server.close();
    }
  });

  it('requires a client certificate signed by tls.ca when asked to', async () => {
    const server = new GrpcServer(rt, { port: 0, sharedMemory: registry, tls: { ...serverCert, ca: clientCert.cert, requireClientCert: true } });
    const port = await server.listen();
    const withCert = grpcClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(serverCert.cert, clientCert.key, clientCert.cert), AS_LOCALHOST);
    const without = grpcClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(serverCert.cert), AS_LOCALHOST);
    try {
      assert.deepEqual(await call(withCert, 'ServerLive', {}), { live: true });
      assert.equal((await callError(without, 'ServerLive', {})).code, grpc.status.UNAVAILABLE);
    } finally {
      withCert.close();
      without.close();
      await server.close();
    }
    assert.throws(() => new GrpcServer(rt, { sharedMemory: registry, tls: { ...serverCert, requireClientCert: true } }), /tls.ca/);
  });
});
