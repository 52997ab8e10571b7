// The KServe v2 gRPC server in process, over the example repository, through the project's own
// generated client: every RPC and its errors, inference equal to Model.inferTensors (raw, typed
// contents, shared memory), a stream with a bad request in the middle, statistics, repository
// unload and load, and a graceful close with a call in flight.

import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type * as m from '../../src/backends/triton/messages';
import type { GRPCInferenceServiceClient, MessageInit } from '../../src/backends/triton/proto';
import { MemoryLogger } from '../../src/observability/logger';
import type { Model } from '../../src/runtime/model';
import { Runtime } from '../../src/runtime/runtime';
import { GrpcServer } from '../../src/server/grpc/grpc-server';
import { SystemSharedMemoryRegistry } from '../../src/server/shared-memory/system-shared-memory-registry';
import type { Tensor } from '../../src/tensor';
import { FIXTURES, MODELS } from '../helpers';
import { assertStatus, call, callError, grpcClient } from '../support/grpc-client';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { width: number; tensors: number[][] };
const WIDTH = golden.width;
const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

function features(rows: number, from = 0): Float32Array {
  return Float32Array.from(golden.tensors.slice(from, from + rows).flat());
}

function bytesOf(t: Tensor): Buffer {
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

function rawRequest(rows: number, extra: Partial<MessageInit<m.ModelInferRequest>> = {}): MessageInit<m.ModelInferRequest> {
  const f = features(rows);
  return {
    model_name: 'fraud',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, WIDTH] }],
    raw_input_contents: [Buffer.from(f.buffer, f.byteOffset, f.byteLength)],
    ...extra,
  };
}

/** What the model itself answers for the first `rows` golden tensors. */
async function expected(model: Model, rows: number, from = 0): Promise<Buffer> {
  const result = await model.inferTensors({ features: { datatype: 'FP32', shape: [rows, WIDTH], data: features(rows, from) } });
  return Buffer.from(bytesOf(result.outputs['probabilities'] as Tensor));
}

describe('gRPC server', () => {
  let rt: Runtime;
  let registry: SystemSharedMemoryRegistry;
  let server: GrpcServer;
  let client: GRPCInferenceServiceClient;
  let port: number;
  const logger = new MemoryLogger();
  const shmFiles: string[] = [];

  before(async () => {
    rt = await Runtime.load({ repository: MODELS, executorThreads: 1 });
    registry = new SystemSharedMemoryRegistry({ maxRegions: 3 });
    server = new GrpcServer(rt, { port: 0, sharedMemory: registry, serverVersion: '9.9.9-test', logger });
    port = await server.listen();
    client = grpcClient(`127.0.0.1:${port}`);
  });

  after(async () => {
    client.close();
    await server.close();
    registry.close();
    await rt.close();
    for (const f of shmFiles) rmSync(f, { force: true });
  });

  it('answers health and server metadata', async () => {
    assert.deepEqual(await call(client, 'ServerLive', {}), { live: true });
    assert.deepEqual(await call(client, 'ServerReady', {}), { ready: true });
    const meta = await call(client, 'ServerMetadata', {});
    assert.equal(meta.name, 'infergate');
    assert.equal(meta.version, '9.9.9-test');
    for (const ext of ['model_repository', 'model_configuration', 'system_shared_memory', 'statistics']) assert.ok(meta.extensions.includes(ext), ext);
    assert.ok(!meta.extensions.includes('cuda_shared_memory'));
  });

  it('reports model readiness: a missing model or version is not ready', async () => {
    assert.deepEqual(await call(client, 'ModelReady', { name: 'fraud' }), { ready: true });
    assert.deepEqual(await call(client, 'ModelReady', { name: 'fraud', version: '1' }), { ready: true });
    assert.deepEqual(await call(client, 'ModelReady', { name: 'fraud', version: '7' }), { ready: false });
    assert.deepEqual(await call(client, 'ModelReady', { name: 'ghost' }), { ready: false });
  });

  it('answers model metadata, NOT_FOUND naming an unknown model or version', async () => {
    const meta = await call(client, 'ModelMetadata', { name: 'fraud' });
    assert.deepEqual(meta, {
      name: 'fraud',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, WIDTH] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    });
    assertStatus(await callError(client, 'ModelMetadata', { name: 'ghost' }), grpc.status.NOT_FOUND, '"ghost"');
    assertStatus(await callError(client, 'ModelMetadata', { name: 'fraud', version: '7' }), grpc.status.NOT_FOUND, '"fraud"', '"7"');
    assertStatus(await callError(client, 'ModelMetadata', { name: '' }), grpc.status.INVALID_ARGUMENT, 'model name');
  });

  it('answers the model configuration as config.pbtxt states it', async () => {
    const { config } = await call(client, 'ModelConfig', { name: 'fraud' });
    assert.ok(config);
    const c = config as m.ModelConfig & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(c.name, 'fraud');
    assert.equal(c.platform, 'onnxruntime_onnx');
    assert.equal(c.backend, 'onnxruntime');
    assert.equal(c.max_batch_size, 256);
    assert.deepEqual(
      c.input.map((i) => [i.name, i.data_type, i.dims]),
      [['features', 'TYPE_FP32', [WIDTH]]],
    );
    assert.deepEqual(
      c.output.map((o) => [o.name, o.data_type, o.dims]),
      [['probabilities', 'TYPE_FP32', [2]]],
    );
    assert.equal(c.scheduling_choice, 'dynamic_batching');
    assert.deepEqual(c.dynamic_batching.preferred_batch_size, [32, 64]);
    assert.equal(c.dynamic_batching.max_queue_delay_microseconds, 500);
    assert.deepEqual(
      {
        timeout_action: c.dynamic_batching.default_queue_policy.timeout_action,
        allow_timeout_override: c.dynamic_batching.default_queue_policy.allow_timeout_override,
        max_queue_size: c.dynamic_batching.default_queue_policy.max_queue_size,
      },
      { timeout_action: 'REJECT', allow_timeout_override: true, max_queue_size: 4096 },
    );
    assert.equal(c.version_policy.policy_choice, 'latest');
    assert.equal(c.version_policy.latest.num_versions, 1);
    assert.equal(c.parameters['infergate.score_output'].string_value, 'probabilities');
    assert.equal(c.parameters['infergate.decision_bands'].string_value, 'step_up:0.60,block:0.82');
    assertStatus(await callError(client, 'ModelConfig', { name: 'ghost' }), grpc.status.NOT_FOUND, '"ghost"');
  });

  it('infers from raw contents exactly as the model does, echoing the id', async () => {
    const want = await expected(rt.model('fraud'), 5);
    const res = await call(client, 'ModelInfer', rawRequest(5, { id: 'req-42' }));
    assert.equal(res.model_name, 'fraud');
    assert.equal(res.model_version, '1');
    assert.equal(res.id, 'req-42');
    assert.deepEqual(
      res.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [['probabilities', 'FP32', [5, 2]]],
    );
    assert.equal(res.raw_output_contents.length, 1);
    assert.deepEqual(res.raw_output_contents[0], want);
  });

  it('infers from typed contents, with the requested outputs and parameters', async () => {
    const want = await expected(rt.model('fraud'), 3);
    const res = await call(client, 'ModelInfer', {
      model_name: 'fraud',
      model_version: '1',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [3, WIDTH], contents: { fp32_contents: Array.from(features(3)) } }],
      outputs: [{ name: 'probabilities' }],
      parameters: { priority: { uint64_param: 1 }, timeout: { int64_param: 10_000_000 }, note: { string_param: 'passed on' } },
    });
    assert.deepEqual(res.raw_output_contents, [want]);
  });

  it('refuses bad inference requests with INVALID_ARGUMENT naming the input, output or parameter', async () => {
    const f = features(1);
    const raw = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    const cases: [MessageInit<m.ModelInferRequest>, ...string[]][] = [
      // The model's datatype is FP32.
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'INT32', shape: [1, WIDTH] }], raw_input_contents: [raw] }, '"features"', 'FP32'],
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'FLOAT', shape: [1, WIDTH] }], raw_input_contents: [raw] }, '"features"', '"FLOAT"'],
      // Shapes: the wrong width, and bytes that do not fill the shape.
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, WIDTH - 1] }], raw_input_contents: [raw.subarray(4)] }, '"features"', 'shape'],
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'FP32', shape: [2, WIDTH] }], raw_input_contents: [raw] }, '"features"', 'bytes'],
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, WIDTH], contents: { fp32_contents: [1, 2] } }] }, '"features"', 'fp32_contents'],
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, WIDTH] }] }, '"features"', 'no data'],
      [{ model_name: 'fraud', inputs: [{ name: 'other', datatype: 'FP32', shape: [1, WIDTH] }], raw_input_contents: [raw] }, '"other"'],
      [{ model_name: 'fraud', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, WIDTH] }], raw_input_contents: [raw, raw] }, 'raw_input_contents'],
      [{ ...rawRequest(1), outputs: [{ name: 'scores' }] }, '"scores"'],
      [{ ...rawRequest(1), parameters: { priority: { string_param: 'high' } } }, '"priority"'],
      [{ ...rawRequest(1), parameters: { timeout: { int64_param: -5 } } }, '"timeout"'],
    ];
    for (const [request, ...mentions] of cases) {
      assertStatus(await callError(client, 'ModelInfer', request), grpc.status.INVALID_ARGUMENT, ...mentions);
    }
    // An unregistered region is NOT_FOUND, as Triton answers it.
    const unregistered = { ...rawRequest(1), inputs: [{ name: 'features', datatype: 'FP32', shape: [1, WIDTH], parameters: { shared_memory_region: { string_param: 'nowhere' }, shared_memory_byte_size: { int64_param: 160 } } }], raw_input_contents: [] };
    assertStatus(await callError(client, 'ModelInfer', unregistered), grpc.status.NOT_FOUND, '"features"', '"nowhere"');
    assertStatus(await callError(client, 'ModelInfer', rawRequest(1, { model_name: 'ghost' })), grpc.status.NOT_FOUND, '"ghost"');
    assertStatus(await callError(client, 'ModelInfer', rawRequest(1, { model_version: '7' })), grpc.status.NOT_FOUND, '"7"');
    // Still serving.
    assert.equal((await call(client, 'ModelInfer', rawRequest(1))).raw_output_contents.length, 1);
  });

  it('answers UNIMPLEMENTED, naming the method, for CUDA shared memory, trace and log settings', async () => {
    assertStatus(await callError(client, 'CudaSharedMemoryStatus', {}), grpc.status.UNIMPLEMENTED, 'CudaSharedMemoryStatus');
    assertStatus(await callError(client, 'CudaSharedMemoryRegister', { name: 'x' }), grpc.status.UNIMPLEMENTED, 'CudaSharedMemoryRegister');
    assertStatus(await callError(client, 'CudaSharedMemoryUnregister', {}), grpc.status.UNIMPLEMENTED, 'CudaSharedMemoryUnregister');
    assertStatus(await callError(client, 'TraceSetting', {}), grpc.status.UNIMPLEMENTED, 'TraceSetting');
    assertStatus(await callError(client, 'LogSettings', {}), grpc.status.UNIMPLEMENTED, 'LogSettings');
  });

  it('streams: one answer per request in order, a bad request answered with its error, the stream going on', async () => {
    const model = rt.model('fraud');
    const stream = client.ModelStreamInfer();
    const answers: m.ModelStreamInferResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (a: m.ModelStreamInferResponse) => answers.push(a));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const rows = [1, 2, 3, 4, 5];
    for (const n of rows) {
      const request = rawRequest(n, { id: `s${n}` });
      // The third is malformed: one float short.
      if (n === 3) request.raw_input_contents = [(request.raw_input_contents as Buffer[])[0]!.subarray(4)];
      stream.write(request);
    }
    stream.end();
    await ended;
    assert.deepEqual(
      answers.map((a) => a.infer_response?.id),
      rows.map((n) => `s${n}`),
    );
    for (const [i, n] of rows.entries()) {
      const a = answers[i] as m.ModelStreamInferResponse;
      if (n === 3) {
        assert.match(a.error_message, /input "features"/);
        continue;
      }
      assert.equal(a.error_message, '');
      assert.deepEqual(a.infer_response?.raw_output_contents, [await expected(model, n)]);
    }
  });

  it('reads inputs from and writes outputs into registered system shared memory, the same bytes as raw', async () => {
    const rows = 4;
    const f = features(rows);
    const inBytes = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    const outBytes = rows * 2 * 4;
    // The client's objects, created the way any client creates them: files in /dev/shm.
    const inKey = `/igtest-grpc-${process.pid}-in`;
    const outKey = `/igtest-grpc-${process.pid}-out`;
    shmFiles.push(`/dev/shm${inKey}`, `/dev/shm${outKey}`);
    // The input sits 100 bytes into its object; the output region starts 64 bytes into its own.
    writeFileSync(`/dev/shm${inKey}`, Buffer.concat([Buffer.alloc(100, 0xee), inBytes]));
    writeFileSync(`/dev/shm${outKey}`, Buffer.alloc(64 + outBytes + 16, 0xab));
    await call(client, 'SystemSharedMemoryRegister', { name: 'in', key: inKey, offset: 0, byte_size: 100 + inBytes.length });
    await call(client, 'SystemSharedMemoryRegister', { name: 'out', key: outKey, offset: 64, byte_size: outBytes + 16 });
    const status = await call(client, 'SystemSharedMemoryStatus', {});
    assert.deepEqual(status.regions['out'], { name: 'out', key: outKey, offset: 64, byte_size: outBytes + 16 });
    assert.deepEqual(Object.keys(status.regions).sort(), ['in', 'out']);

    const res = await call(client, 'ModelInfer', {
      model_name: 'fraud',
      id: 'shm',
      inputs: [
        {
          name: 'features',
          datatype: 'FP32',
          shape: [rows, WIDTH],
          parameters: {
            shared_memory_region: { string_param: 'in' },
            shared_memory_offset: { int64_param: 100 },
            shared_memory_byte_size: { int64_param: inBytes.length },
          },
        },
      ],
      outputs: [
        {
          name: 'probabilities',
          parameters: {
            shared_memory_region: { string_param: 'out' },
            shared_memory_offset: { int64_param: 8 },
            shared_memory_byte_size: { int64_param: outBytes },
          },
        },
      ],
    });
    assert.deepEqual(res.outputs.map((o) => [o.name, o.shape]), [['probabilities', [rows, 2]]]);
    assert.deepEqual(res.raw_output_contents, [Buffer.alloc(0)], 'the bytes are in shared memory, not in the message');
    const raw = await call(client, 'ModelInfer', rawRequest(rows));
    const object = readFileSync(`/dev/shm${outKey}`);
    assert.deepEqual(object.subarray(64 + 8, 64 + 8 + outBytes), raw.raw_output_contents[0]);
    assert.ok(object.subarray(0, 64 + 8).every((b) => b === 0xab), 'bytes before the output are untouched');
    assert.ok(object.subarray(64 + 8 + outBytes).every((b) => b === 0xab), 'bytes after the output are untouched');

    // An output region too small for the output.
    const small = await callError(client, 'ModelInfer', {
      ...rawRequest(rows),
      outputs: [{ name: 'probabilities', parameters: { shared_memory_region: { string_param: 'out' }, shared_memory_byte_size: { int64_param: outBytes - 4 } } }],
    });
    assertStatus(small, grpc.status.INVALID_ARGUMENT, '"probabilities"', `${outBytes} bytes`);
    // A range past the region's end.
    const past = await callError(client, 'ModelInfer', {
      ...rawRequest(rows),
      outputs: [{ name: 'probabilities', parameters: { shared_memory_region: { string_param: 'out' }, shared_memory_offset: { int64_param: 20 }, shared_memory_byte_size: { int64_param: outBytes } } }],
    });
    assertStatus(past, grpc.status.INVALID_ARGUMENT, '"probabilities"', '"out"');

    // Registration errors name the region and the key.
    assertStatus(await callError(client, 'SystemSharedMemoryRegister', { name: 'in', key: inKey, byte_size: 8 }), grpc.status.INVALID_ARGUMENT, '"in"', 'already registered');
    assertStatus(
      await callError(client, 'SystemSharedMemoryRegister', { name: 'gone', key: `/igtest-grpc-${process.pid}-missing`, byte_size: 8 }),
      grpc.status.INVALID_ARGUMENT,
      '"gone"',
      `igtest-grpc-${process.pid}-missing`,
    );
    assertStatus(await callError(client, 'SystemSharedMemoryRegister', { name: 'big', key: inKey, byte_size: 1 << 20 }), grpc.status.INVALID_ARGUMENT, '"big"', inKey);
    assertStatus(await callError(client, 'SystemSharedMemoryRegister', { name: 'empty', key: inKey, byte_size: 0 }), grpc.status.INVALID_ARGUMENT, 'byte_size');
    // The registry holds at most three regions.
    await call(client, 'SystemSharedMemoryRegister', { name: 'third', key: inKey, byte_size: 8 });
    assertStatus(await callError(client, 'SystemSharedMemoryRegister', { name: 'fourth', key: inKey, byte_size: 8 }), grpc.status.RESOURCE_EXHAUSTED, '3 regions');

    await call(client, 'SystemSharedMemoryUnregister', { name: 'third' });
    assertStatus(await callError(client, 'SystemSharedMemoryUnregister', { name: 'third' }), grpc.status.NOT_FOUND, '"third"');
    assertStatus(await callError(client, 'SystemSharedMemoryStatus', { name: 'third' }), grpc.status.NOT_FOUND, '"third"');
    await call(client, 'SystemSharedMemoryUnregister', {});
    assert.deepEqual((await call(client, 'SystemSharedMemoryStatus', {})).regions, {});
    // A request naming an unregistered region fails cleanly: NOT_FOUND, as Triton answers it.
    assertStatus(
      await callError(client, 'ModelInfer', {
        ...rawRequest(rows),
        outputs: [{ name: 'probabilities', parameters: { shared_memory_region: { string_param: 'out' }, shared_memory_byte_size: { int64_param: outBytes } } }],
      }),
      grpc.status.NOT_FOUND,
      '"out"',
      'not registered',
    );
  });

  it('reports Triton statistics that move with inference', async () => {
    const model = rt.model('fraud');
    const before = await call(client, 'ModelStatistics', { name: 'fraud' });
    assert.equal(before.model_stats.length, 1);
    const b = before.model_stats[0] as m.ModelStatistics;
    assert.equal(b.name, 'fraud');
    assert.equal(b.version, '1');
    for (let i = 0; i < 3; i++) await model.infer(example);
    const after = await call(client, 'ModelStatistics', { name: 'fraud', version: '1' });
    const a = after.model_stats[0] as m.ModelStatistics;
    assert.ok(a.inference_count >= b.inference_count + 3, `inference_count ${b.inference_count} → ${a.inference_count}`);
    assert.ok(a.execution_count > b.execution_count, `execution_count ${b.execution_count} → ${a.execution_count}`);
    // Every Triton field is there, as the model reports it.
    const own = model.statistics()[0]!;
    assert.equal(a.inference_count, own.inference_count);
    assert.equal(a.execution_count, own.execution_count);
    for (const key of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss'] as const) {
      assert.deepEqual(a.inference_stats?.[key], own.inference_stats[key], key);
    }
    const all = await call(client, 'ModelStatistics', {});
    assert.deepEqual(all.model_stats.map((s) => s.name), ['fraud']);
    assertStatus(await callError(client, 'ModelStatistics', { name: 'ghost' }), grpc.status.NOT_FOUND, '"ghost"');
    assertStatus(await callError(client, 'ModelStatistics', { name: 'fraud', version: '9' }), grpc.status.NOT_FOUND, '"9"');
  });

  it('unloads a model (NOT_FOUND from then on) and loads it again (served again)', async () => {
    assert.deepEqual((await call(client, 'RepositoryIndex', {})).models, [{ name: 'fraud', version: '1', state: 'READY', reason: '' }]);
    await call(client, 'RepositoryModelUnload', { model_name: 'fraud' });
    assertStatus(await callError(client, 'ModelInfer', rawRequest(1)), grpc.status.NOT_FOUND, '"fraud"');
    assert.deepEqual(await call(client, 'ModelReady', { name: 'fraud' }), { ready: false });
    assert.deepEqual((await call(client, 'RepositoryIndex', {})).models, [{ name: 'fraud', version: '', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    assert.deepEqual((await call(client, 'RepositoryIndex', { ready: true })).models, []);
    assertStatus(await callError(client, 'RepositoryModelUnload', { model_name: 'fraud' }), grpc.status.NOT_FOUND, '"fraud"');

    await call(client, 'RepositoryModelLoad', { model_name: 'fraud' });
    const res = await call(client, 'ModelInfer', rawRequest(2));
    assert.deepEqual(res.raw_output_contents, [await expected(rt.model('fraud'), 2)]);
    assert.deepEqual((await call(client, 'RepositoryIndex', { ready: true })).models, [{ name: 'fraud', version: '1', state: 'READY', reason: '' }]);

    assertStatus(await callError(client, 'RepositoryModelLoad', { model_name: 'ghost' }), grpc.status.NOT_FOUND, 'ghost');
    assertStatus(await callError(client, 'RepositoryModelLoad', { model_name: '../models' }), grpc.status.INVALID_ARGUMENT, 'model name');
    assertStatus(
      await callError(client, 'RepositoryModelLoad', { model_name: 'fraud', parameters: { config: { string_param: '{}' } } }),
      grpc.status.INVALID_ARGUMENT,
      '"config"',
    );
  });

  it('survives a message that is not a ModelInferRequest', async () => {
    const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      raw.makeUnaryRequest(
        '/inference.GRPCInferenceService/ModelInfer',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
        (e) => resolve(e as grpc.ServiceError),
      );
    });
    raw.close();
    assert.notEqual(err.code, grpc.status.OK);
    assert.deepEqual(await call(client, 'ServerLive', {}), { live: true });
  });

  it('logs nothing internal along the way', () => {
    assert.deepEqual(logger.events.filter((e) => e.level === 'error'), []);
  });
});

describe('gRPC server shutdown', () => {
  it('stops accepting calls, finishes the one in flight, then closes', async () => {
    const rt = await Runtime.load({ repository: MODELS, executorThreads: 1 });
    const registry = new SystemSharedMemoryRegistry();
    const server = new GrpcServer(rt, { port: 0, sharedMemory: registry });
    const port = await server.listen();
    const client = grpcClient(`127.0.0.1:${port}`);
    try {
      // Hold the model's next call until the server is closing, so the call is in flight for sure.
      const model = rt.model('fraud');
      const inferTensors = model.inferTensors.bind(model);
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      model.inferTensors = async (...args) => {
        entered();
        await gate;
        return inferTensors(...args);
      };
      const inFlight = call(client, 'ModelInfer', rawRequest(2));
      await inside;
      assert.deepEqual(server.active, { calls: 1, streams: 0 });
      let closed = false;
      const closing = server.close().then(() => (closed = true));
      // A new connection is refused: the listener is gone.
      const late = grpcClient(`127.0.0.1:${port}`);
      assertStatus(await callError(late, 'ServerLive', {}), grpc.status.UNAVAILABLE);
      late.close();
      assert.equal(closed, false, 'close() waits for the call in flight');
      release();
      const res = await inFlight;
      assert.deepEqual(res.raw_output_contents, [await expected(model, 2)]);
      await closing;
      assert.deepEqual(server.active, { calls: 0, streams: 0 });
    } finally {
      client.close();
      await server.close();
      registry.close();
      await rt.close();
    }
  });

  it('ends an open stream once the requests it read are answered', async () => {
    const rt = await Runtime.load({ repository: MODELS, executorThreads: 1 });
    const registry = new SystemSharedMemoryRegistry();
    const server = new GrpcServer(rt, { port: 0, sharedMemory: registry });
    const port = await server.listen();
    const client = grpcClient(`127.0.0.1:${port}`);
    try {
      const stream = client.ModelStreamInfer();
      const answers: m.ModelStreamInferResponse[] = [];
      const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      stream.on('error', () => undefined); // the status carries it
      const first = new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.on('data', (a: m.ModelStreamInferResponse) => answers.push(a));
      stream.write(rawRequest(1, { id: 'first' }));
      await first;
      assert.deepEqual(server.active, { calls: 0, streams: 1 });
      await server.close();
      const s = await status;
      assert.equal(s.code, grpc.status.UNAVAILABLE, s.details);
      assert.match(s.details, /shutting down/);
      assert.deepEqual(answers.map((a) => [a.infer_response?.id, a.error_message]), [['first', '']]);
    } finally {
      client.close();
      registry.close();
      await rt.close();
    }
  });
});
