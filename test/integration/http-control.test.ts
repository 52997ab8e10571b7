// The HTTP server's control APIs over the example repository: statistics, model configuration, the
// model repository (unload, load, index), system shared memory (register, infer through regions,
// unregister, bad registrations), ingress (authentication, per-model authorization, rate limit,
// body limit) and TLS.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferError, notFound, unauthenticated } from '../../src/errors';
import { Runtime } from '../../src/runtime/runtime';
import { HttpServer } from '../../src/server/http-server';
import type { Ingress, Principal } from '../../src/server/ingress/ingress';
import { FIXTURES, MODELS } from '../helpers';
import { FileSharedMemoryRegistry } from '../support/file-shared-memory-registry';
import { call } from '../support/http-call';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { width: number; tensors: number[][] };
const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;
const rows = golden.tensors.slice(0, 3);
const features = Buffer.from(Float32Array.from(rows.flat()).buffer);
const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(url, 'POST', body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), { headers });

describe('HTTP control APIs', () => {
  let runtime: Runtime;
  let server: HttpServer;
  let url: string;
  const registry = new FileSharedMemoryRegistry();
  const shmName = `infergate-http-test-${process.pid}`;
  const shmFile = `/dev/shm/${shmName}`;

  before(async () => {
    runtime = await Runtime.load({ repository: MODELS, models: ['fraud'] });
    server = new HttpServer(runtime, { port: 0, sharedMemory: registry, serverVersion: '9.9.9' });
    url = `http://127.0.0.1:${(await server.listen()).port}`;
    writeFileSync(shmFile, Buffer.alloc(4096));
  });

  after(async () => {
    registry.close();
    rmSync(shmFile, { force: true });
    await server?.close();
    await runtime?.close();
  });

  it('lists its extensions in the server metadata', async () => {
    const r = await call(`${url}/v2`, 'GET');
    assert.deepEqual(r.json, {
      name: 'infergate',
      version: '9.9.9',
      extensions: ['binary_tensor_data', 'model_configuration', 'model_repository', 'parameters', 'statistics', 'system_shared_memory'],
    });
  });

  it('reports statistics in Triton\'s shape, and they count the requests served', async () => {
    const stats = async (p: string) => {
      const r = await call(`${url}${p}`, 'GET');
      assert.equal(r.status, 200, r.body.toString());
      return r.json.model_stats as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const [before] = await stats('/v2/models/fraud/stats');
    assert.deepEqual(Object.keys(before), [
      'name', 'version', 'last_inference', 'inference_count', 'execution_count', 'inference_stats', 'response_stats', 'batch_stats', 'memory_usage',
    ]);
    assert.deepEqual(Object.keys(before.inference_stats), [
      'success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss',
    ]);
    for (const d of Object.values(before.inference_stats) as { count: unknown; ns: unknown }[]) {
      assert.equal(typeof d.count, 'number');
      assert.equal(typeof d.ns, 'number');
    }
    assert.equal(before.name, 'fraud');
    assert.equal(before.version, '1');

    for (let i = 0; i < 4; i++) assert.equal((await post(`${url}/v1/models/fraud/score`, example)).status, 200);
    const [afterRun] = await stats('/v2/models/fraud/versions/1/stats');
    assert.equal(afterRun.inference_count, before.inference_count + 4);
    assert.ok(afterRun.execution_count > before.execution_count);
    assert.ok(afterRun.execution_count <= before.execution_count + 4);

    const all = await stats('/v2/models/stats');
    assert.deepEqual(all.map((s) => s.name), ['fraud']);
    const missing = await call(`${url}/v2/models/fraud/versions/9/stats`, 'GET');
    assert.equal(missing.status, 404);
    assert.match(missing.json.error, /model "fraud" has no version "9" loaded/);
    assert.equal((await call(`${url}/v2/models/nope/stats`, 'GET')).status, 404);
  });

  it('shows the model configuration as Triton\'s ModelConfig JSON', async () => {
    const r = await call(`${url}/v2/models/fraud/config`, 'GET');
    assert.equal(r.status, 200);
    const c = r.json;
    assert.equal(c.name, 'fraud');
    assert.equal(c.platform, 'onnxruntime_onnx');
    assert.equal(c.backend, 'onnxruntime');
    assert.equal(c.max_batch_size, 256);
    assert.deepEqual(c.version_policy, { latest: { num_versions: 1 } });
    assert.deepEqual(c.input, [
      { name: 'features', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [40], is_shape_tensor: false, allow_ragged_batch: false, optional: false, is_non_linear_format_io: false },
    ]);
    assert.deepEqual(c.output, [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [2], label_filename: '', is_shape_tensor: false, is_non_linear_format_io: false }]);
    assert.deepEqual(c.dynamic_batching, {
      preferred_batch_size: [32, 64],
      max_queue_delay_microseconds: 500,
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
      default_queue_policy: { timeout_action: 'REJECT', default_timeout_microseconds: 0, allow_timeout_override: true, max_queue_size: 4096 },
      priority_queue_policy: {},
    });
    assert.deepEqual(c.parameters['infergate.decision_bands'], { string_value: 'step_up:0.60,block:0.82' });
    assert.equal(c.default_model_filename, 'model.onnx');
    assert.deepEqual((await call(`${url}/v2/models/fraud/versions/1/config`, 'GET')).json, c);
    assert.equal((await call(`${url}/v2/models/fraud/versions/2/config`, 'GET')).status, 404);
  });

  it('unloads a model (then 404), indexes the repository, and loads it again (then 200)', async () => {
    const index = async (body?: unknown) => (await post(`${url}/v2/repository/index`, body)).json;
    assert.deepEqual(await index(), [{ name: 'fraud', version: '1', state: 'READY' }]);

    const unload = await post(`${url}/v2/repository/models/fraud/unload`);
    assert.equal(unload.status, 200);
    assert.equal(unload.body.length, 0, 'Triton answers control calls with an empty body');
    assert.equal((await post(`${url}/v1/models/fraud/score`, example)).status, 404);
    assert.equal((await call(`${url}/v2/models/fraud/ready`, 'GET')).status, 404);
    assert.deepEqual(await index(), [{ name: 'fraud', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    assert.deepEqual(await index({ ready: true }), []);
    assert.equal((await post(`${url}/v2/repository/models/fraud/unload`)).status, 404);

    const load = await post(`${url}/v2/repository/models/fraud/load`);
    assert.equal(load.status, 200, load.body.toString());
    assert.equal((await post(`${url}/v1/models/fraud/score`, example)).status, 200);
    assert.deepEqual(await index({ ready: true }), [{ name: 'fraud', version: '1', state: 'READY' }]);

    const nope = await post(`${url}/v2/repository/models/nope/load`);
    assert.equal(nope.status, 404);
    assert.equal(nope.json.model, 'nope');
    const badIndex = await post(`${url}/v2/repository/index`, { ready: 'yes' });
    assert.equal(badIndex.status, 400);
    assert.equal(badIndex.json.field, 'ready');
    const override = await post(`${url}/v2/repository/models/fraud/load`, { parameters: { config: '{}' } });
    assert.equal(override.status, 400);
    assert.match(override.json.error, /body\.parameters: not supported here/);
  });

  it('registers a region, infers through it, reports and unregisters it', async () => {
    const region = Buffer.alloc(4096);
    features.copy(region);
    writeFileSync(shmFile, region);
    const reg = await post(`${url}/v2/systemsharedmemory/region/io/register`, { key: `/${shmName}`, offset: 0, byte_size: 4096 });
    assert.equal(reg.status, 200, reg.body.toString());
    assert.equal(reg.body.length, 0);
    const status = await call(`${url}/v2/systemsharedmemory/status`, 'GET');
    assert.deepEqual(status.json, [{ name: 'io', key: `/${shmName}`, offset: 0, byte_size: 4096 }]);
    assert.deepEqual((await call(`${url}/v2/systemsharedmemory/region/io/status`, 'GET')).json, status.json);

    const input = { name: 'features', shape: [3, golden.width], datatype: 'FP32' };
    const viaJson = await post(`${url}/v2/models/fraud/infer`, { inputs: [{ ...input, data: rows }] });
    const want = Buffer.from(Float32Array.from(viaJson.json.outputs[0].data as number[]).buffer);
    const r = await post(`${url}/v2/models/fraud/infer`, {
      inputs: [{ ...input, parameters: { shared_memory_region: 'io', shared_memory_byte_size: features.length } }],
      outputs: [{ name: 'probabilities', parameters: { shared_memory_region: 'io', shared_memory_offset: 2048, shared_memory_byte_size: 64 } }],
    });
    assert.equal(r.status, 200, r.body.toString());
    // As Triton: an output written to shared memory carries neither data nor parameters.
    assert.deepEqual(r.json.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [3, 2] }]);
    assert.ok(readFileSync(shmFile).subarray(2048, 2048 + want.length).equals(want), 'the output landed in the region');

    const tooSmall = await post(`${url}/v2/models/fraud/infer`, {
      inputs: [{ ...input, data: rows }],
      outputs: [{ name: 'probabilities', parameters: { shared_memory_region: 'io', shared_memory_offset: 2048, shared_memory_byte_size: 8 } }],
    });
    assert.equal(tooSmall.status, 400);
    assert.equal(tooSmall.json.field, 'outputs[0].parameters.shared_memory_byte_size');
    assert.match(tooSmall.json.error, /needs 24 bytes, the request gives 8/);
    const noSize = await post(`${url}/v2/models/fraud/infer`, { inputs: [{ ...input, parameters: { shared_memory_region: 'io' } }] });
    assert.equal(noSize.status, 400);
    assert.equal(noSize.json.field, 'inputs[0].parameters.shared_memory_byte_size');

    assert.equal((await post(`${url}/v2/systemsharedmemory/region/io/unregister`)).status, 200);
    assert.deepEqual((await call(`${url}/v2/systemsharedmemory/status`, 'GET')).json, []);
    const gone = await post(`${url}/v2/models/fraud/infer`, {
      inputs: [{ ...input, parameters: { shared_memory_region: 'io', shared_memory_byte_size: features.length } }],
    });
    assert.equal(gone.status, 404);
    assert.match(gone.json.error, /no shared memory region "io"/);
    // Unregister everything.
    await post(`${url}/v2/systemsharedmemory/region/a/register`, { key: `/${shmName}`, byte_size: 16 });
    await post(`${url}/v2/systemsharedmemory/region/b/register`, { key: `/${shmName}`, offset: 16, byte_size: 16 });
    assert.equal((await call(`${url}/v2/systemsharedmemory/status`, 'GET')).json.length, 2);
    assert.equal((await post(`${url}/v2/systemsharedmemory/unregister`)).status, 200);
    assert.deepEqual((await call(`${url}/v2/systemsharedmemory/status`, 'GET')).json, []);
  });

  it('refuses bad registrations with 400 naming the field', async () => {
    const register = (body: unknown) => post(`${url}/v2/systemsharedmemory/region/bad/register`, body);
    const cases: [unknown, string, RegExp][] = [
      [{ offset: 0, byte_size: 16 }, 'key', /key: must be the shared-memory object's name/],
      [{ key: 7, byte_size: 16 }, 'key', /key: must be/],
      [{ key: `/${shmName}`, offset: -1, byte_size: 16 }, 'offset', /offset: must be a non-negative integer/],
      [{ key: `/${shmName}`, offset: 0, byte_size: 'x' }, 'byte_size', /byte_size: must be a positive integer/],
      [{ key: `/${shmName}`, offset: 0 }, 'byte_size', /byte_size: must be a positive integer/],
      [[1, 2], 'body', /body: must be a JSON object/],
      [{ key: `/${shmName}`, offset: 4000, byte_size: 200 }, 'byte_size', /exceeds the object's 4096 bytes/],
      [{ key: '/infergate-no-such-region', byte_size: 16 }, 'key', /cannot open shared-memory object/],
    ];
    for (const [body, field, message] of cases) {
      const r = await register(body);
      assert.equal(r.status, 400, `${field}: ${r.body.toString()}`);
      assert.equal(r.json.field, field);
      assert.match(r.json.error, message);
    }
    assert.deepEqual((await call(`${url}/v2/systemsharedmemory/status`, 'GET')).json, []);
  });

  it('answers that shared memory is off when the server has no registry', async () => {
    const plain = new HttpServer(runtime, { port: 0 });
    const u = `http://127.0.0.1:${(await plain.listen()).port}`;
    try {
      const r = await call(`${u}/v2/systemsharedmemory/status`, 'GET');
      assert.equal(r.status, 404);
      assert.match(r.json.error, /system shared memory is not enabled/);
      const infer = await post(`${u}/v2/models/fraud/infer`, {
        inputs: [{ name: 'features', shape: [3, golden.width], datatype: 'FP32', parameters: { shared_memory_region: 'io', shared_memory_byte_size: 480 } }],
      });
      assert.equal(infer.status, 400);
      assert.equal(infer.json.field, 'inputs[0].parameters.shared_memory_region');
      assert.ok(!(await call(`${u}/v2`, 'GET')).json.extensions.includes('system_shared_memory'));
    } finally {
      await plain.close();
    }
  });
});

/** Bearer tokens: "all" may use every model, "other" only a model named "other", "slow" is rate limited. */
function testIngress(maxRequestBytes: number): Ingress {
  const principals: Record<string, Principal> = {
    'Bearer all': { id: 'all', models: '*' },
    'Bearer other': { id: 'other', models: new Set(['other']) },
    'Bearer slow': { id: 'slow', models: '*' },
  };
  return {
    authenticate(headers) {
      const p = principals[String(headers.authorization)];
      if (!p) throw unauthenticated('missing or invalid credentials');
      return p;
    },
    authorizeModel(p, model) {
      if (p.models !== '*' && !p.models.has(model)) throw notFound(`model "${model}" is not loaded`, { model });
    },
    admit(p) {
      if (p.id === 'slow') throw new InferError('resource_exhausted', 'rate limit exceeded', { retryAfterSeconds: 1.5 });
    },
    maxRequestBytes,
    maxConcurrentStreams: 1,
  };
}

describe('HTTP ingress and TLS', () => {
  let runtime: Runtime;
  let certDir: string;

  before(async () => {
    runtime = await Runtime.load({ repository: MODELS, models: ['fraud'] });
    certDir = mkdtempSync(path.join(tmpdir(), 'infergate-http-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
  });

  after(async () => {
    await runtime?.close();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('authenticates every request but health, authorizes per model, rate limits, and uses its body limit', async () => {
    const server = new HttpServer(runtime, { port: 0, ingress: testIngress(2048) });
    const url = `http://127.0.0.1:${(await server.listen()).port}`;
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    try {
      assert.equal((await call(`${url}/v2/health/ready`, 'GET')).status, 200);
      assert.equal((await call(`${url}/v2/health/live`, 'GET')).status, 200);
      for (const [method, p] of [['GET', '/v2/models/fraud'], ['GET', '/v2/models/stats'], ['POST', '/v2/models/fraud/infer'], ['GET', '/v2/nothing'], ['POST', '/v2/repository/index']]) {
        const r = await call(`${url}${p}`, method as string, method === 'POST' ? '{}' : undefined, { headers: as('wrong') });
        assert.equal(r.status, 401, `${method} ${p}`);
        assert.deepEqual(r.json, { error: 'missing or invalid credentials', code: 'unauthenticated' }, 'no model information');
      }
      assert.equal((await call(`${url}/v2/models/fraud`, 'GET')).status, 401, 'no credentials at all');

      assert.equal((await call(`${url}/v2/models/fraud`, 'GET', undefined, { headers: as('all') })).status, 200);
      const score = await post(`${url}/v1/models/fraud/score`, example, as('all'));
      assert.equal(score.status, 200, score.body.toString());

      // A model outside the allow-list reads exactly like a missing one.
      const hidden = await call(`${url}/v2/models/fraud/config`, 'GET', undefined, { headers: as('other') });
      const missing = await call(`${url}/v2/models/nothing/config`, 'GET', undefined, { headers: as('all') });
      assert.equal(hidden.status, 404);
      assert.equal(missing.status, 404);
      assert.equal((await post(`${url}/v1/models/fraud/score`, example, as('other'))).status, 404);
      assert.equal((await post(`${url}/v2/repository/models/fraud/unload`, undefined, as('other'))).status, 404);
      assert.deepEqual((await call(`${url}/v2/models/stats`, 'GET', undefined, { headers: as('other') })).json, { model_stats: [] });
      assert.deepEqual((await post(`${url}/v2/repository/index`, undefined, as('other'))).json, []);

      const limited = await call(`${url}/v2/models/fraud`, 'GET', undefined, { headers: as('slow') });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], '2');

      const big = await post(`${url}/v1/models/fraud/score`, { ...example, pad: 'x'.repeat(4096) }, as('all'));
      assert.equal(big.status, 413);
      assert.match(big.json.error, /exceeds the limit of 2048 bytes/);
    } finally {
      await server.close();
    }
  });

  it('serves HTTPS, and with requireClientCert refuses a client without a certificate', async () => {
    const cert = readFileSync(path.join(certDir, 'cert.pem'));
    const key = readFileSync(path.join(certDir, 'key.pem'));
    const server = new HttpServer(runtime, { port: 0, tls: { cert, key } });
    assert.equal(server.scheme, 'https');
    const url = `https://localhost:${(await server.listen()).port}`;
    const mutual = new HttpServer(runtime, { port: 0, tls: { cert, key, ca: cert, requireClientCert: true } });
    const mutualUrl = `https://localhost:${(await mutual.listen()).port}`;
    try {
      const r = await call(`${url}/v2/models/fraud/ready`, 'GET', undefined, { ca: cert });
      assert.equal(r.status, 200);
      await assert.rejects(call(`${url}/v2/health/live`, 'GET'), /self.signed|unable to verify/i, 'an untrusted server certificate is refused by the client');

      assert.equal((await call(`${mutualUrl}/v2/health/live`, 'GET', undefined, { ca: cert, cert, key })).status, 200);
      await assert.rejects(call(`${mutualUrl}/v2/health/live`, 'GET', undefined, { ca: cert }));
    } finally {
      await server.close();
      await mutual.close();
    }
  });
});
