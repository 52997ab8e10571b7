// The Triton client's pure parts: options, the circuit breaker (with a hand-moved clock), raw
// tensor contents, and the load-time model comparison.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../../src/backends/triton/circuit-breaker';
import { compareModel } from '../../src/backends/triton/model-check';
import type { ModelConfigResponse, ModelMetadataResponse } from '../../src/backends/triton/proto';
import { decodeRaw, encodeRaw } from '../../src/backends/triton/tensor-codec';
import { parseEndpoints, resolveTritonOptions } from '../../src/backends/triton/triton-options';
import { parseModelConfig } from '../../src/repository/model-config';

describe('Triton options', () => {
  it('parses endpoint lists, with or without triton://', () => {
    assert.deepEqual(parseEndpoints('triton://a:8001,b.example:9001', 'x'), ['a:8001', 'b.example:9001']);
    assert.deepEqual(parseEndpoints(' 127.0.0.1:1 , [::1]:2 ', 'x'), ['127.0.0.1:1', '[::1]:2']);
  });

  it('names the option and the bad value', () => {
    assert.throws(() => parseEndpoints('', 'infergate.triton.endpoints'), /infergate\.triton\.endpoints: needs at least one/);
    assert.throws(() => parseEndpoints('host', 'x'), /"host" is not a "host:port" endpoint/);
    assert.throws(() => parseEndpoints('host:70000', 'x'), /port 1-65535/);
    assert.throws(() => resolveTritonOptions({ endpoints: ['a:1', 'a:1'] }), /lists an endpoint twice/);
    assert.throws(() => resolveTritonOptions({ endpoints: ['a:1'], maxAttempts: 0 }), /triton\.maxAttempts must be an integer >= 1, got 0/);
    assert.throws(() => resolveTritonOptions({ endpoints: ['a:1'], tls: { certChain: 'x' } }), /certChain and privateKey go together/);
  });

  it('fills sane defaults', () => {
    const o = resolveTritonOptions({ endpoints: ['a:1'] });
    assert.equal(o.maxAttempts, 3);
    assert.equal(o.apiKeyHeader, 'x-api-key');
    assert.equal(o.healthIntervalMs, 1000);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, lets one trial through after the open period, closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker(3, 100, () => now);
    b.failure();
    b.failure();
    assert.equal(b.state, 'closed');
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.acquire(), false);
    now = 100;
    assert.equal(b.state, 'half-open');
    assert.equal(b.acquire(), true, 'one trial');
    assert.equal(b.acquire(), false, 'only one');
    b.success();
    assert.equal(b.state, 'closed');
    assert.equal(b.opened, 1);
  });

  it('a failed trial opens it for another full period; a success resets the count', () => {
    let now = 0;
    const b = new CircuitBreaker(2, 50, () => now);
    b.failure();
    b.success();
    b.failure();
    assert.equal(b.state, 'closed', 'the success reset the count');
    b.failure();
    assert.equal(b.state, 'open');
    now = 60;
    assert.ok(b.acquire());
    b.failure();
    assert.equal(b.state, 'open');
    now = 109;
    assert.equal(b.state, 'open');
    now = 110;
    assert.equal(b.state, 'half-open');
  });
});

describe('raw tensor contents', () => {
  it('numeric tensors are views of their own memory, and decode back', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const raw = encodeRaw({ datatype: 'FP32', shape: [2, 3], data });
    assert.equal(raw.buffer, data.buffer, 'no copy');
    const back = decodeRaw('FP32', [2, 3], raw, 'x');
    assert.deepEqual(Array.from(back.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  });

  it('BYTES elements carry a 4-byte little-endian length', () => {
    const raw = encodeRaw({ datatype: 'BYTES', shape: [2], data: ['ab', 'é'] });
    assert.deepEqual([...raw], [2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9]);
    assert.deepEqual(decodeRaw('BYTES', [2], raw, 'x').data, ['ab', 'é']);
  });

  it('decodes unaligned buffers and INT64 exactly', () => {
    const src = Buffer.alloc(17);
    const big = new BigInt64Array([9007199254740993n, -2n]);
    Buffer.from(big.buffer).copy(src, 1);
    const t = decodeRaw('INT64', [2], src.subarray(1), 'x');
    assert.deepEqual(Array.from(t.data as BigInt64Array), [9007199254740993n, -2n]);
  });

  it('refuses contents that do not fit the shape, naming the output', () => {
    assert.throws(() => decodeRaw('FP32', [2, 2], Buffer.alloc(12), 'probs'), /output "probs": shape \[2, 2\] of FP32 needs 16 bytes, got 12/);
    assert.throws(() => decodeRaw('BYTES', [1], Buffer.from([5, 0, 0, 0, 1]), 'b'), /runs past the contents/);
    assert.throws(() => decodeRaw('BYTES', [2], Buffer.from([0, 0, 0, 0]), 'b'), /needs 2 BYTES elements, got 1/);
  });
});

describe('model comparison at load', () => {
  const local = parseModelConfig(
    [
      'name: "fraud"',
      'platform: "onnxruntime_onnx"',
      'max_batch_size: 256',
      'input [ { name: "features" data_type: TYPE_FP32 dims: [ 40 ] } ]',
      'output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] } ]',
    ].join('\n'),
    'config.pbtxt',
    'fraud',
  );
  const meta = (inputShape: number[], datatype = 'FP32', name = 'features'): ModelMetadataResponse => ({
    name: 'fraud',
    versions: ['1'],
    platform: 'python',
    inputs: [{ name, datatype, shape: inputShape }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
  });
  const config = (max: number) => ({ config: { max_batch_size: max } }) as unknown as ModelConfigResponse;

  it('accepts the same model', () => {
    assert.deepEqual(compareModel(local, meta([-1, 40]), config(256)), []);
  });

  it('says what differs: names, datatypes, dims, batch size', () => {
    assert.match(compareModel(local, meta([-1, 40], 'FP32', 'x'), config(256)).join(), /input "features" is missing on the server \(its inputs: x\)/);
    assert.match(compareModel(local, meta([-1, 40], 'FP16'), config(256)).join(), /input "features" is FP32 locally but FP16 on the server/);
    assert.match(compareModel(local, meta([-1, 41]), config(256)).join(), /input "features" has shape \[-1, 40\] locally but \[-1, 41\] on the server/);
    assert.match(compareModel(local, meta([-1, 40]), config(64)).join(), /max_batch_size 64 is below config\.pbtxt's 256/);
  });
});
