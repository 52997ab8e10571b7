// infergate's HTTP server next to a real tritonserver, serving the same config.pbtxt (the identity
// model of scripts/triton/repository, which infergate forwards to that server): the same binary
// request, mixed binary and JSON inputs of every datatype, gets the same answer byte for byte; the
// model configuration and statistics read the same; and Triton's own Python client, run against
// both, gets the same results, shared memory included.

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MemoryLogger } from '../../src/observability/logger';
import { Runtime } from '../../src/runtime/runtime';
import { HttpServer } from '../../src/server/http-server';
import { ROOT } from '../helpers';
import { FileSharedMemoryRegistry } from '../support/file-shared-memory-registry';
import { type HttpAnswer, binaryBody, call, splitBinaryAnswer } from '../support/http-call';
import { TRITON_REPOSITORY, type TritonCluster, startTriton } from '../support/triton';
import { tritonPython } from '../triton-python';

const run = promisify(execFile);

const fp32 = Buffer.from(Float32Array.of(1.5, -2, 3.25).buffer);
const fp16 = Buffer.from(Uint16Array.of(0x3c00, 0xc000, 0x7bff).buffer); // 1, -2, 65504
const strings = ['', 'été', '日本語'];
const bytes = Buffer.concat(strings.flatMap((s) => {
  const b = Buffer.from(s);
  const n = Buffer.alloc(4);
  n.writeUInt32LE(b.length);
  return [n, b];
}));

/** Every input of the identity model: FP32, FP16 and BYTES as binary data, INT64 and BOOL as JSON. */
const mixedHeader = {
  id: 'parity',
  inputs: [
    { name: 'IN_FP32', shape: [1, 3], datatype: 'FP32', parameters: { binary_data_size: fp32.length } },
    { name: 'IN_FP16', shape: [1, 3], datatype: 'FP16', parameters: { binary_data_size: fp16.length } },
    { name: 'IN_INT64', shape: [1, 3], datatype: 'INT64', data: [[1, -2, 3]] },
    { name: 'IN_BOOL', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] },
    { name: 'IN_BYTES', shape: [1, 3], datatype: 'BYTES', parameters: { binary_data_size: bytes.length } },
  ],
  outputs: [
    { name: 'OUT_FP32', parameters: { binary_data: true } },
    { name: 'OUT_FP16', parameters: { binary_data: true } },
    { name: 'OUT_INT64' },
    { name: 'OUT_BOOL', parameters: { binary_data: false } },
    { name: 'OUT_BYTES', parameters: { binary_data: true } },
  ],
};

describe('HTTP server side by side with tritonserver', { timeout: 300_000 }, () => {
  let cluster: TritonCluster;
  let runtime: Runtime;
  let server: HttpServer;
  let registry: FileSharedMemoryRegistry;
  let ours: string;
  let theirs: string;

  before(async () => {
    cluster = await startTriton({ models: ['identity'] });
    const replica = cluster.replicas[0]!;
    theirs = replica.httpUrl;
    runtime = await Runtime.load({
      repository: TRITON_REPOSITORY,
      models: ['identity'],
      backend: 'triton',
      triton: { endpoints: [replica.grpcAddress] },
      logger: new MemoryLogger(),
    });
    registry = new FileSharedMemoryRegistry();
    server = new HttpServer(runtime, { port: 0, sharedMemory: registry });
    ours = `http://127.0.0.1:${(await server.listen()).port}`;
  });

  after(async () => {
    registry?.close();
    await server?.close();
    await runtime?.close();
    await cluster?.stop();
  });

  const both = async (send: (base: string) => Promise<HttpAnswer>) => ({ ours: await send(ours), theirs: await send(theirs) });

  it('answers a mixed binary and JSON request exactly as Triton does', async () => {
    const { body, headers } = binaryBody(mixedHeader, fp32, fp16, bytes);
    const r = await both((base) => call(`${base}/v2/models/identity/infer`, 'POST', body, { headers }));
    assert.equal(r.theirs.status, 200, r.theirs.body.toString());
    assert.equal(r.ours.status, 200, r.ours.body.toString());
    assert.equal(r.ours.headers['content-type'], r.theirs.headers['content-type']);
    const a = splitBinaryAnswer(r.ours);
    const b = splitBinaryAnswer(r.theirs);
    assert.deepEqual(a.header, b.header);
    assert.ok(a.binary.equals(b.binary), `binary sections differ:\n ours   ${a.binary.toString('hex')}\n theirs ${b.binary.toString('hex')}`);
    // And the bytes are the inputs echoed.
    assert.ok(a.binary.equals(Buffer.concat([fp32, fp16, bytes])));
  });

  it('applies binary_data_output to unlisted outputs only, as Triton does', async () => {
    const inputs = mixedHeader.inputs.map((i) => (i.name === 'IN_FP32' ? { name: i.name, shape: [1, 3], datatype: 'FP32', data: [1.5, -2, 3.25] } : i));
    const all = binaryBody({ inputs, parameters: { binary_data_output: true } }, fp16, bytes);
    const r = await both((base) => call(`${base}/v2/models/identity/infer`, 'POST', all.body, { headers: all.headers }));
    assert.equal(r.ours.status, 200, r.ours.body.toString());
    const a = splitBinaryAnswer(r.ours);
    const b = splitBinaryAnswer(r.theirs);
    assert.deepEqual(a.header, b.header);
    assert.ok(a.binary.equals(b.binary));

    // A listed output without binary_data is JSON, which FP16 cannot be: both refuse.
    const listed = binaryBody({ inputs, parameters: { binary_data_output: true }, outputs: [{ name: 'OUT_FP32' }, { name: 'OUT_FP16' }] }, fp16, bytes);
    const refused = await both((base) => call(`${base}/v2/models/identity/infer`, 'POST', listed.body, { headers: listed.headers }));
    assert.equal(refused.theirs.status, 400);
    assert.equal(refused.ours.status, 400);
    assert.match(refused.ours.json.error, /output "OUT_FP16" is FP16, which JSON cannot carry: set outputs\[1\]\.parameters\.binary_data to true/);
  });

  it('refuses FP16 as JSON, and a short binary section, with 400 as Triton does', async () => {
    const fp16Json = JSON.stringify({ inputs: [{ name: 'IN_FP16', shape: [1, 1], datatype: 'FP16', data: [1] }] });
    const r = await both((base) => call(`${base}/v2/models/identity/infer`, 'POST', fp16Json));
    assert.equal(r.theirs.status, 400);
    assert.equal(r.ours.status, 400);
    assert.match(r.ours.json.error, /IN_FP16" is FP16, which JSON numbers cannot carry/);

    const { body, headers } = binaryBody(mixedHeader, fp32, fp16);
    const short = await both((base) => call(`${base}/v2/models/identity/infer`, 'POST', body, { headers }));
    assert.equal(short.theirs.status, 400);
    assert.equal(short.ours.status, 400);
    assert.equal(short.ours.json.field, 'inputs[4].parameters.binary_data_size');
  });

  it('shows the same model configuration and statistics fields', async () => {
    const config = await both((base) => call(`${base}/v2/models/identity/config`, 'GET'));
    const mine = config.ours.json;
    const triton = config.theirs.json;
    // Fields infergate does not read from config.pbtxt are left out rather than invented.
    for (const key of Object.keys(mine)) assert.ok(key in triton, `Triton's config has no field "${key}"`);
    for (const key of ['name', 'platform', 'backend', 'runtime', 'version_policy', 'max_batch_size', 'output', 'batch_input', 'batch_output', 'parameters', 'model_warmup', 'metric_tags']) {
      assert.deepEqual(mine[key], triton[key], key);
    }
    // infergate's config reader does not keep `optional` (it requires every input); the rest is the same.
    const withoutOptional = (inputs: Record<string, unknown>[]) => inputs.map(({ optional: _, ...rest }) => rest);
    assert.deepEqual(withoutOptional(mine.input), withoutOptional(triton.input));

    const stats = await both((base) => call(`${base}/v2/models/identity/stats`, 'GET'));
    const shape = (v: unknown): unknown =>
      Array.isArray(v) ? v.slice(0, 1).map(shape) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : typeof v;
    const [a] = stats.ours.json.model_stats;
    const [b] = stats.theirs.json.model_stats;
    // batch_stats differ in content (Triton's are per batch size) but not in the entry's fields.
    assert.deepEqual(shape({ ...a, batch_stats: [] }), shape({ ...b, batch_stats: [] }));
  });

  it('gives Triton\'s own Python client the same results, shared memory included', async () => {
    const script = path.join(ROOT, 'test', 'support', 'tritonclient_http_check.py');
    const check = async (base: string, prefix: string) => {
      const { stdout } = await run(tritonPython(), [script, base.replace('http://', ''), prefix], { cwd: ROOT, timeout: 120_000, maxBuffer: 16 << 20 });
      return JSON.parse(stdout);
    };
    const mine = await check(ours, `ig_http_${process.pid}_a`);
    const triton = await check(theirs, `ig_http_${process.pid}_b`);
    assert.equal(mine.live, true);
    assert.equal(mine.ready, true);
    assert.deepEqual(mine.binary, triton.binary);
    assert.deepEqual(mine.json, triton.json);
    assert.deepEqual(mine.shared_memory.response_outputs, triton.shared_memory.response_outputs);
    assert.deepEqual(mine.shared_memory.written, triton.shared_memory.written);
    assert.deepEqual(mine.shared_memory.status_after, []);
    assert.deepEqual(
      mine.shared_memory.status.map((r: { name: string }) => r.name),
      [`ig_http_${process.pid}_a_in`, `ig_http_${process.pid}_a_out`],
    );
    assert.equal(mine.config.name, 'identity');
    assert.equal(mine.statistics.model_stats[0].name, 'identity');
  });
});
