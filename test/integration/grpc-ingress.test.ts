// The gRPC server behind an Ingress: every call authenticated from its metadata, a model outside
// the caller's allow-list indistinguishable from a missing one, the rate limit per call and per
// stream request, the stream cap and the message size limit.
//
// TokenIngress below is a small, complete implementation of the Ingress contract (bearer tokens,
// allow-lists, a counted budget per caller), so that these tests do not depend on the production
// ingress, which is built separately.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type * as m from '../../src/backends/triton/messages';
import type { GRPCInferenceServiceClient, MessageInit } from '../../src/backends/triton/proto';
import { InferError, notFound, unauthenticated } from '../../src/errors';
import { Runtime } from '../../src/runtime/runtime';
import { GrpcServer } from '../../src/server/grpc/grpc-server';
import type { Ingress, Principal } from '../../src/server/ingress/ingress';
import { SystemSharedMemoryRegistry } from '../../src/server/shared-memory/system-shared-memory-registry';
import { FIXTURES, MODELS } from '../helpers';
import { assertStatus, call, callError, grpcClient } from '../support/grpc-client';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { width: number; tensors: number[][] };

class TokenIngress implements Ingress {
  readonly maxRequestBytes = 16 * 1024;
  readonly maxConcurrentStreams = 1;
  private readonly spent = new Map<string, number>();

  constructor(private readonly callers: Record<string, { principal: Principal; budget: number }>) {}

  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Principal {
    const auth = headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const caller = token === undefined ? undefined : this.callers[token];
    if (!caller) throw unauthenticated('a valid bearer token is required');
    return caller.principal;
  }

  authorizeModel(principal: Principal, model: string): void {
    if (principal.models !== '*' && !principal.models.has(model)) throw notFound(`no model "${model}" for you`);
  }

  admit(principal: Principal): void {
    const budget = Object.values(this.callers).find((c) => c.principal === principal)?.budget ?? 0;
    const spent = this.spent.get(principal.id) ?? 0;
    if (spent >= budget) throw new InferError('resource_exhausted', `caller "${principal.id}" is over its rate`, { retryAfterSeconds: 2 });
    this.spent.set(principal.id, spent + 1);
  }
}

const bearer = (token: string): grpc.Metadata => {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
};

function rawRequest(rows: number): MessageInit<m.ModelInferRequest> {
  const f = Float32Array.from(golden.tensors.slice(0, rows).flat());
  return {
    model_name: 'fraud',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, golden.width] }],
    raw_input_contents: [Buffer.from(f.buffer, f.byteOffset, f.byteLength)],
  };
}

describe('gRPC server with an Ingress', () => {
  let rt: Runtime;
  let registry: SystemSharedMemoryRegistry;
  let server: GrpcServer;
  let client: GRPCInferenceServiceClient;

  before(async () => {
    rt = await Runtime.load({ repository: MODELS, executorThreads: 1 });
    registry = new SystemSharedMemoryRegistry();
    const ingress = new TokenIngress({
      full: { principal: { id: 'full', models: '*' }, budget: 1000 },
      other: { principal: { id: 'other', models: new Set(['other']) }, budget: 1000 },
      once: { principal: { id: 'once', models: '*' }, budget: 1 },
      streamer: { principal: { id: 'streamer', models: '*' }, budget: 2 },
    });
    server = new GrpcServer(rt, { port: 0, sharedMemory: registry, ingress });
    client = grpcClient(`127.0.0.1:${await server.listen()}`);
  });

  after(async () => {
    client.close();
    await server.close();
    registry.close();
    await rt.close();
  });

  it('authenticates every call from its metadata', async () => {
    assertStatus(await callError(client, 'ServerLive', {}), grpc.status.UNAUTHENTICATED, 'bearer token');
    assertStatus(await callError(client, 'ModelInfer', rawRequest(1), bearer('wrong')), grpc.status.UNAUTHENTICATED);
    assertStatus(await callError(client, 'TraceSetting', {}), grpc.status.UNAUTHENTICATED);
    assert.deepEqual(await call(client, 'ServerLive', {}, bearer('full')), { live: true });
    assert.equal((await call(client, 'ModelInfer', rawRequest(1), bearer('full'))).outputs.length, 1);
  });

  it('shows a model outside the allow-list exactly as a missing one', async () => {
    const hidden = await callError(client, 'ModelMetadata', { name: 'fraud' }, bearer('other'));
    const missing = await callError(client, 'ModelMetadata', { name: 'fraux' }, bearer('other'));
    assertStatus(hidden, grpc.status.NOT_FOUND, '"fraud"');
    assert.equal(hidden.details.replace('fraud', 'fraux'), missing.details);
    // A caller allowed every model learns no other model's name from a miss either.
    assert.equal((await callError(client, 'ModelInfer', { ...rawRequest(1), model_name: 'fraux' }, bearer('full'))).details, missing.details);
    assertStatus(await callError(client, 'ModelInfer', rawRequest(1), bearer('other')), grpc.status.NOT_FOUND, '"fraud"');
    assertStatus(await callError(client, 'ModelConfig', { name: 'fraud' }, bearer('other')), grpc.status.NOT_FOUND);
    assertStatus(await callError(client, 'ModelStatistics', { name: 'fraud' }, bearer('other')), grpc.status.NOT_FOUND);
    assertStatus(await callError(client, 'RepositoryModelUnload', { model_name: 'fraud' }, bearer('other')), grpc.status.NOT_FOUND);
    assert.deepEqual(await call(client, 'ModelReady', { name: 'fraud' }, bearer('other')), { ready: false });
    assert.deepEqual((await call(client, 'RepositoryIndex', {}, bearer('other'))).models, []);
    assert.deepEqual((await call(client, 'ModelStatistics', {}, bearer('other'))).model_stats, []);
    assert.deepEqual((await call(client, 'RepositoryIndex', {}, bearer('full'))).models.map((e) => e.name), ['fraud']);
  });

  it('applies the rate limit per call, with retry-after', async () => {
    assert.deepEqual(await call(client, 'ServerReady', {}, bearer('once')), { ready: true });
    const err = await callError(client, 'ServerReady', {}, bearer('once'));
    assertStatus(err, grpc.status.RESOURCE_EXHAUSTED, '"once"');
    assert.deepEqual(err.metadata.get('retry-after'), ['2']);
  });

  it('applies the rate limit per stream request, and caps the streams open at once', async () => {
    const stream = client.ModelStreamInfer(bearer('streamer'));
    const answers: m.ModelStreamInferResponse[] = [];
    stream.on('data', (a: m.ModelStreamInferResponse) => answers.push(a));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(rawRequest(1));
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    // The cap is one stream: a second is refused while the first is open.
    const second = client.ModelStreamInfer(bearer('full'));
    const refused = await new Promise<grpc.StatusObject>((resolve) => {
      second.on('status', resolve);
      second.on('error', () => undefined);
      second.on('data', () => assert.fail('the second stream should get no answer'));
    });
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, refused.details);
    assert.match(refused.details, /1 streams open/);
    for (let i = 0; i < 2; i++) stream.write(rawRequest(1));
    stream.end();
    await done;
    assert.deepEqual(
      answers.map((a) => a.error_message),
      ['', '', 'caller "streamer" is over its rate'],
    );
  });

  it('refuses a stream without credentials', async () => {
    const stream = client.ModelStreamInfer();
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      stream.on('status', resolve);
      stream.on('error', () => undefined);
    });
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
  });

  it('refuses a message larger than ingress.maxRequestBytes', async () => {
    // 200 rows of 40 floats: 32 000 bytes, over the 16 KiB limit.
    assertStatus(await callError(client, 'ModelInfer', rawRequest(200), bearer('full')), grpc.status.RESOURCE_EXHAUSTED);
    assert.equal((await call(client, 'ModelInfer', rawRequest(20), bearer('full'))).outputs.length, 1);
  });
});
