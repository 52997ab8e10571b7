// The binary tensor data extension on the HTTP server, over the example fraud model: binary
// requests and responses carry exactly the bytes the JSON form does, request- and output-level
// switches pick the form, and every malformed binary request is a 400 naming what is wrong.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '../../src/runtime/runtime';
import { HttpServer } from '../../src/server/http-server';
import { FIXTURES, MODELS } from '../helpers';
import { binaryBody, call, splitBinaryAnswer } from '../support/http-call';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { width: number; tensors: number[][] };
const ROWS = 5;
const rows = golden.tensors.slice(0, ROWS);
const featureBytes = Buffer.from(Float32Array.from(rows.flat()).buffer);
const jsonInput = { name: 'features', shape: [ROWS, golden.width], datatype: 'FP32', data: rows };
const binaryInput = { name: 'features', shape: [ROWS, golden.width], datatype: 'FP32', parameters: { binary_data_size: featureBytes.length } };

describe('HTTP binary tensor data', () => {
  let runtime: Runtime;
  let server: HttpServer;
  let small: HttpServer;
  let url: string;
  let smallUrl: string;
  /** The probabilities of the JSON request, as float32 bytes. */
  let expected: Buffer;

  before(async () => {
    runtime = await Runtime.load({ repository: MODELS, models: ['fraud'] });
    server = new HttpServer(runtime, { port: 0 });
    small = new HttpServer(runtime, { port: 0, maxBodyBytes: 4096 });
    url = `http://127.0.0.1:${(await server.listen()).port}`;
    smallUrl = `http://127.0.0.1:${(await small.listen()).port}`;
    const r = await call(`${url}/v2/models/fraud/infer`, 'POST', JSON.stringify({ inputs: [jsonInput] }));
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['inference-header-content-length'], undefined, 'a JSON-only answer does not use the extension');
    const out = r.json.outputs[0];
    assert.deepEqual(out.shape, [ROWS, 2]);
    expected = Buffer.from(Float32Array.from(out.data as number[]).buffer);
  });

  after(async () => {
    await server?.close();
    await small?.close();
    await runtime?.close();
  });

  const infer = (header: unknown, ...tensors: Buffer[]) => {
    const { body, headers } = binaryBody(header, ...tensors);
    return call(`${url}/v2/models/fraud/infer`, 'POST', body, { headers });
  };

  it('answers a binary request with a binary response byte-exact to the JSON results', async () => {
    const r = await infer({ id: 'b1', inputs: [binaryInput], outputs: [{ name: 'probabilities', parameters: { binary_data: true } }] }, featureBytes);
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    const { header, binary } = splitBinaryAnswer(r);
    assert.deepEqual(header, {
      model_name: 'fraud',
      model_version: '1',
      id: 'b1',
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [ROWS, 2], parameters: { binary_data_size: expected.length } }],
    });
    assert.ok(binary.equals(expected), 'binary output equals the JSON output as float32 bytes');
  });

  it('binary input with JSON output, and JSON input with binary_data_output', async () => {
    const jsonOut = await infer({ inputs: [binaryInput] }, featureBytes);
    assert.equal(jsonOut.status, 200, jsonOut.body.toString());
    assert.equal(jsonOut.headers['content-type'], 'application/json');
    assert.ok(Buffer.from(Float32Array.from(jsonOut.json.outputs[0].data as number[]).buffer).equals(expected));

    const binOut = await call(`${url}/v2/models/fraud/infer`, 'POST', JSON.stringify({ inputs: [jsonInput], parameters: { binary_data_output: true } }));
    assert.equal(binOut.status, 200);
    assert.ok(splitBinaryAnswer(binOut).binary.equals(expected));

    // As in Triton, binary_data_output covers only unlisted outputs: a listed one is JSON unless it asks.
    const mixed = await call(
      `${url}/v2/models/fraud/infer`,
      'POST',
      JSON.stringify({ inputs: [jsonInput], parameters: { binary_data_output: true }, outputs: [{ name: 'probabilities' }] }),
    );
    assert.equal(mixed.headers['inference-header-content-length'], undefined);
    assert.ok(Buffer.from(Float32Array.from(mixed.json.outputs[0].data as number[]).buffer).equals(expected));
  });

  it('refuses malformed binary requests with 400 naming the problem', async () => {
    const good = binaryBody({ inputs: [binaryInput] }, featureBytes);
    const post = (body: Buffer, headers: Record<string, string>) => call(`${url}/v2/models/fraud/infer`, 'POST', body, { headers });
    const withHeader = (value: string) => ({ ...good.headers, 'inference-header-content-length': value });
    const cases: [Promise<Awaited<ReturnType<typeof call>>>, RegExp, string][] = [
      [post(good.body, withHeader('twelve')), /Inference-Header-Content-Length" must be one non-negative integer/, 'Inference-Header-Content-Length'],
      [post(good.body, withHeader(String(good.body.length + 1))), /JSON header must be between 1 and the body's \d+ bytes/, 'Inference-Header-Content-Length'],
      [post(good.body, withHeader('0')), /JSON header must be between 1/, 'Inference-Header-Content-Length'],
      // The declared header ends inside the JSON.
      [post(good.body, withHeader('10')), /malformed JSON inference header/, ''],
      [infer({ inputs: [binaryInput] }, featureBytes.subarray(4)), /inputs\[0\]\.parameters\.binary_data_size: \d+ bytes starting at byte 0 of the binary data run past its end/, 'inputs[0].parameters.binary_data_size'],
      [infer({ inputs: [binaryInput] }, featureBytes, Buffer.from([1, 2, 3])), /3 of the \d+ bytes after the JSON header belong to no input/, 'Inference-Header-Content-Length'],
      [
        infer({ inputs: [{ ...binaryInput, parameters: { binary_data_size: featureBytes.length - 4 } }] }, featureBytes.subarray(4)),
        /input "features": shape \[5, 40\] of FP32 needs 800 bytes, got 796/,
        'inputs[0].parameters.binary_data_size',
      ],
      [infer({ inputs: [{ ...binaryInput, parameters: { binary_data_size: -1 } }] }), /binary_data_size: must be a non-negative integer/, 'inputs[0].parameters.binary_data_size'],
      [infer({ inputs: [{ ...binaryInput, data: rows }] }, featureBytes), /give the tensor's data one way only, not "data" and binary_data_size/, 'inputs[0]'],
      [
        infer({ inputs: [binaryInput], outputs: [{ name: 'probabilities', parameters: { binary_data: 'yes' } }] }, featureBytes),
        /outputs\[0\]\.parameters\.binary_data: must be true or false/,
        'outputs[0].parameters.binary_data',
      ],
      [infer({ inputs: [binaryInput], parameters: { binary_data_output: 1 } }, featureBytes), /parameters\.binary_data_output: must be true or false/, 'parameters.binary_data_output'],
      [infer({ inputs: [{ ...jsonInput, datatype: 'FP16', data: [1] }] }), /inputs\[0\]\.data: input "features" is FP16, which JSON numbers cannot carry/, 'inputs[0].data'],
    ];
    for (const [answer, message, field] of cases) {
      const r = await answer;
      assert.equal(r.status, 400, `${message}: ${r.body.toString()}`);
      assert.match(r.json.error, message);
      if (field) assert.equal(r.json.field, field);
    }
    // Still serving.
    assert.equal((await infer({ inputs: [binaryInput] }, featureBytes)).status, 200);
  });

  it('enforces the body limit on binary bodies', async () => {
    const many = Buffer.from(Float32Array.from(golden.tensors.slice(0, 30).flat()).buffer); // 4800 bytes
    const { body, headers } = binaryBody({ inputs: [{ ...binaryInput, shape: [30, golden.width], parameters: { binary_data_size: many.length } }] }, many);
    const r = await call(`${smallUrl}/v2/models/fraud/infer`, 'POST', body, { headers });
    assert.equal(r.status, 413);
    assert.match(r.json.error, /exceeds the limit of 4096 bytes/);
    const fits = binaryBody({ inputs: [binaryInput] }, featureBytes);
    assert.equal((await call(`${smallUrl}/v2/models/fraud/infer`, 'POST', fits.body, { headers: fits.headers })).status, 200);
  });
});
