// `infergate serve` end to end: the real server process, real HTTP, every error case, shutdown.

import { strict as assert } from 'node:assert';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CLI, FIXTURES, MODELS, ROOT } from '../helpers';
import { tcpState } from '../support/tcp-connections';

const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;
const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as {
  width: number;
  tensors: number[][];
  scores: number[];
};

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface Server {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  metricsUrl: string;
  stderr: string[];
  exit: Promise<number | null>;
}

/** Starts the CLI on a free port and resolves once it prints its ready line. */
async function startServer(...extra: string[]): Promise<Server> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--repository', MODELS, ...extra], { cwd: ROOT });
  const stderr: string[] = [];
  proc.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const [url, metricsUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /infergate ready: (http:\/\/\S+) .*metrics=(\S+)/.exec(out);
      if (m) resolve([m[1] as string, m[2] as string]);
    });
    void exit.then((code) => reject(new Error(`server exited with ${code} before ready: ${stderr.join('')}`)));
  });
  return { proc, url, metricsUrl, stderr, exit };
}

function request(url: string, method: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function metricsText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    }).on('error', reject);
  });
}

const post = (url: string, body: unknown) => request(url, 'POST', typeof body === 'string' ? body : JSON.stringify(body));

describe('infergate serve', () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    server.proc.kill('SIGTERM');
    await server.exit;
  });

  it('answers health, server metadata, model metadata and readiness', async () => {
    assert.deepEqual((await request(`${server.url}/v2/health/live`, 'GET')).body, { live: true });
    assert.equal((await request(`${server.url}/v2/health/ready`, 'GET')).status, 200);
    const meta = await request(`${server.url}/v2`, 'GET');
    assert.equal(meta.body.name, 'infergate');
    const model = await request(`${server.url}/v2/models/fraud`, 'GET');
    assert.equal(model.status, 200);
    assert.deepEqual(model.body.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, golden.width] }]);
    assert.deepEqual(model.body.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }]);
    assert.deepEqual(model.body.versions, ['1']);
    assert.equal(model.body.platform, 'onnxruntime_onnx');
    assert.deepEqual((await request(`${server.url}/v2/models/fraud/ready`, 'GET')).body, { name: 'fraud', ready: true });
    assert.equal((await request(`${server.url}/v2/models/fraud/versions/1/ready`, 'GET')).status, 200);
  });

  it('scores a raw record at /v1/models/fraud/score', async () => {
    const r = await post(`${server.url}/v1/models/fraud/score`, example);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['decision', 'modelVersion', 'score']);
    assert.ok(r.body.score >= 0 && r.body.score <= 1);
    assert.equal(r.body.modelVersion, '1');
    const v = await post(`${server.url}/v1/models/fraud/versions/1/score`, example);
    assert.deepEqual(v.body, r.body);
  });

  it('runs KServe v2 JSON tensors and returns Python ONNX Runtime’s scores', async () => {
    const rows = 3;
    const r = await post(`${server.url}/v2/models/fraud/infer`, {
      id: 'req-1',
      inputs: [{ name: 'features', shape: [rows, golden.width], datatype: 'FP32', data: golden.tensors.slice(0, rows) }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.model_name, 'fraud');
    assert.equal(r.body.model_version, '1');
    assert.equal(r.body.id, 'req-1');
    const out = r.body.outputs[0];
    assert.equal(out.name, 'probabilities');
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.shape, [rows, 2]);
    for (let i = 0; i < rows; i++) assert.ok(Math.abs(out.data[i * 2 + 1] - (golden.scores[i] as number)) <= 1e-5);
  });

  it('answers bad requests with the status and a message naming the field or model', async () => {
    const u = server.url;
    const tensor = (over: Record<string, unknown>) => ({
      inputs: [{ name: 'features', shape: [1, golden.width], datatype: 'FP32', data: golden.tensors[0], ...over }],
    });
    const cases: [Promise<Reply>, number, RegExp, string?][] = [
      [post(`${u}/v1/models/fraud/score`, { ...example, amount: undefined }), 400, /field "amount" is required/, 'amount'],
      [post(`${u}/v1/models/fraud/score`, { ...example, card_present: 'yes' }), 400, /field "card_present" must be true or false/, 'card_present'],
      [post(`${u}/v1/models/fraud/score`, { ...example, hour_of_day: 31 }), 400, /field "hour_of_day" must be between 0 and 23/, 'hour_of_day'],
      [post(`${u}/v1/models/fraud/score`, { ...example, amout: 1 }), 400, /unknown field "amout"/, 'amout'],
      [post(`${u}/v1/models/fraud/score`, '{"amount": 12,'), 400, /malformed JSON body/],
      [post(`${u}/v1/models/fraud/score`, '[1,2]'), 400, /a record must be a JSON object/],
      [post(`${u}/v1/models/fraud/score`, ''), 400, /request body is empty/],
      [post(`${u}/v1/models/nope/score`, example), 404, /^model "nope" is not loaded$/],
      [post(`${u}/v1/models/fraud/versions/7/score`, example), 404, /model "fraud" has no version "7" loaded/],
      [post(`${u}/v2/models/fraud/infer`, tensor({ shape: [1, 3], data: [1, 2, 3] })), 400, /input "features" must have shape \[-1, \d+\]/, 'features'],
      [post(`${u}/v2/models/fraud/infer`, tensor({ shape: [2, golden.width] })), 400, /needs \d+ elements, "data" has \d+/, 'features'],
      [post(`${u}/v2/models/fraud/infer`, tensor({ datatype: 'FP64' })), 400, /input "features" must have datatype FP32, got FP64/, 'features'],
      [post(`${u}/v2/models/fraud/infer`, tensor({ datatype: 'FLOAT' })), 400, /inputs\[0\]\.datatype: must be one of/],
      [post(`${u}/v2/models/fraud/infer`, tensor({ name: 'x' })), 400, /model "fraud" has no input "x"/, 'x'],
      [post(`${u}/v2/models/fraud/infer`, tensor({ data: ['a', ...golden.tensors[0]!.slice(1)] })), 400, /element 0 must be a number, got "a"/],
      [post(`${u}/v2/models/fraud/infer`, { inputs: [] }), 400, /inputs: must be a non-empty array/],
      [post(`${u}/v2/models/fraud/infer`, { ...tensor({}), outputs: [{ name: 'label' }] }), 400, /model "fraud" has no output "label"/],
      [post(`${u}/v2/models/nope/infer`, tensor({})), 404, /model "nope" is not loaded/],
      [request(`${u}/v2/nothing`, 'GET'), 404, /no endpoint GET \/v2\/nothing/],
      [request(`${u}/v1/models/fraud/score`, 'GET'), 405, /method GET is not allowed/],
    ];
    for (const [reply, status, message, field] of cases) {
      const r = await reply;
      assert.equal(r.status, status, `${message}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, message);
      if (field !== undefined) assert.equal(r.body.field, field);
    }
    // Still serving.
    assert.equal((await post(`${u}/v1/models/fraud/score`, example)).status, 200);
  });

  it('refuses a body over the limit (default 1 MiB) with 413, declared or streamed', async () => {
    const big = JSON.stringify({ ...example, padding: 'x'.repeat(1024 * 1024) });
    const declared = await post(`${server.url}/v1/models/fraud/score`, big);
    assert.equal(declared.status, 413);
    assert.match(declared.body.error, /exceeds the limit of 1048576 bytes/);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/models/fraud/score`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(64 * 1024));
      req.end();
    });
    assert.equal(streamed, 413);
    assert.equal((await post(`${server.url}/v1/models/fraud/score`, example)).status, 200);
  });
});

describe('infergate serve shutdown', () => {
  it('on SIGTERM stops accepting, answers the request in flight, and exits 0', async () => {
    const server = await startServer();
    const body = JSON.stringify(example);
    const half = Math.floor(body.length / 2);
    // A request whose body is half sent is in flight for certain when the signal arrives. The
    // server's "100 Continue" tells us it has parsed the headers and taken the request.
    const reply = new Promise<number>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/models/fraud/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.on('continue', () => {
        req.write(body.slice(0, half));
        (async () => {
          server.proc.kill('SIGTERM');
          while (!server.stderr.join('').includes('finishing requests in flight')) await new Promise((r) => setTimeout(r, 10));
          await assert.rejects(request(`${server.url}/v2/health/live`, 'GET'), /ECONNREFUSED|ECONNRESET/);
          req.end(body.slice(half));
        })().catch(reject);
      });
      req.flushHeaders();
    });
    assert.equal(await reply, 200);
    assert.equal(await server.exit, 0);
  });
});

describe('infergate serve shutdown after a client left', () => {
  it('on SIGTERM answers into the void for a client that left before its answer, and exits 0', { timeout: 120_000 }, async () => {
    // A queue delay so long that only shutdown seals the batch: the request waits while its client leaves.
    const server = await startServer('--max-queue-delay-us', '600000000');
    const req = http.request(`${server.url}/v1/models/fraud/score`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined); // the destroy() below
    const socket = new Promise<Socket>((resolve) => req.on('socket', resolve));
    req.end(JSON.stringify(example));
    const queued = async () => /^infergate_queue_depth\{model="fraud"\} 1$/m.test(await metricsText(server.metricsUrl));
    while (!(await queued())) await new Promise((r) => setTimeout(r, 10));
    const s = await socket;
    const [clientPort, serverPort] = [s.localPort as number, s.remotePort as number];
    s.destroy();
    // Until the server has closed its end: its answer will then meet a connection that is gone.
    while (['ESTABLISHED', 'CLOSE_WAIT'].includes(tcpState(serverPort, clientPort) ?? '')) await new Promise((r) => setTimeout(r, 10));
    server.proc.kill('SIGTERM');
    // Bounded, so that a server stuck in its shutdown fails the test instead of outliving it.
    let guard: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => (guard = setTimeout(() => resolve('stuck'), 60_000)));
    const outcome = await Promise.race([server.exit, stuck]);
    clearTimeout(guard);
    if (outcome === 'stuck') server.proc.kill('SIGKILL');
    assert.equal(outcome, 0, `after SIGTERM the server ${outcome === 'stuck' ? 'was still running a minute later' : `exited with ${outcome}`}: ${server.stderr.join('')}`);
  });
});

describe('infergate serve under overload', () => {
  it('answers 429 with Retry-After when the queue is full, and on SIGTERM runs the queued requests', async () => {
    // A queue of two, and a queue delay so long that only shutdown will seal the batch.
    const server = await startServer('--max-queue-size', '2', '--max-queue-delay-us', '600000000');
    const replies = [0, 1, 2].map(() => post(`${server.url}/v1/models/fraud/score`, example));
    const first = await Promise.race(replies);
    assert.equal(first.status, 429);
    assert.match(first.body.error, /queue is full; retry later/);
    assert.equal(first.body.code, 'resource_exhausted');
    assert.ok(Number(first.headers['retry-after']) >= 1);
    server.proc.kill('SIGTERM');
    const statuses = (await Promise.all(replies)).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(await server.exit, 0);
  });

  it('refuses malformed priority and timeout headers, naming them', async () => {
    const server = await startServer();
    try {
      const bad = await request(`${server.url}/v1/models/fraud/score`, 'POST', JSON.stringify(example), { 'x-infergate-priority': 'high' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /header "x-infergate-priority" must be a non-negative integer, got "high"/);
      const range = await request(`${server.url}/v1/models/fraud/score`, 'POST', JSON.stringify(example), { 'x-infergate-priority': '5' });
      assert.equal(range.status, 400);
      assert.match(range.body.error, /priority must be an integer in \[1, 1\]/);
      const late = await request(`${server.url}/v1/models/fraud/score`, 'POST', JSON.stringify(example), { 'x-infergate-timeout-us': '1' });
      // Refused up front once batch timings are known, else timed out in the queue: 504 either way.
      assert.equal(late.status, 504);
      assert.equal(late.body.code, 'deadline_exceeded');
      const ok = await request(`${server.url}/v1/models/fraud/score`, 'POST', JSON.stringify(example), { 'x-infergate-priority': '1', 'x-infergate-timeout-us': '60000000' });
      assert.equal(ok.status, 200);
    } finally {
      server.proc.kill('SIGTERM');
      await server.exit;
    }
  });
});
