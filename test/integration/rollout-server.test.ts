// Rollouts against a running `infergate serve`, steered the way an operator would: the infergate
// commands (traffic, shadow-report, rollback, load) over HTTP, the prediction log checked line by
// line after a SIGTERM, drift and shadow state over HTTP and /metrics.

import { strict as assert } from 'node:assert';
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLI, MODELS, ROOT } from '../helpers';
import { call } from '../support/http-call';
import { call as grpcCall, grpcClient } from '../support/grpc-client';
import { goesToCanary } from '../../src/routing/canary-split';
import { type RolloutRepository, rolloutRepository, varied } from '../support/rollout-repository';

const run = promisify(execFile);
const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

/** Runs an infergate command against the server; resolves with its stdout, rejects with its stderr. */
async function infergate(server: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args, '--server', server], { cwd: ROOT });
  return stdout;
}

describe('rollouts on a running server', { timeout: 300_000 }, () => {
  let repo: RolloutRepository;
  let proc: ChildProcessWithoutNullStreams;
  let url = '';
  let metricsUrl = '';
  let grpcAddress = '';
  let logFile = '';
  let exit: Promise<number | null>;
  const stderr: string[] = [];
  /** Requests answered 200 by /v1/models/fraud/score, by request id. */
  const answered = new Map<string, { score: number; modelVersion: string }>();

  before(async () => {
    repo = await rolloutRepository([1], { versionPolicy: 'all { }' });
    await repo.addVersion(2, { shiftAmount: 1 });
    logFile = path.join(repo.root, 'predictions.log');
    proc = spawn(
      process.execPath,
      [CLI, 'serve', '--repository', repo.root, '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--prediction-log', logFile, '--prediction-log-sample-rate', '0.1'],
      { cwd: ROOT },
    );
    proc.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
    exit = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    [url, grpcAddress, metricsUrl] = await new Promise<[string, string, string]>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /infergate ready: (http:\/\/\S+) grpc=(\S+) metrics=(\S+)/.exec(out);
        if (m) resolve([m[1] as string, m[2] as string, m[3] as string]);
      });
      void exit.then((code) => reject(new Error(`server exited with ${code} before ready: ${stderr.join('')}`)));
    });
  });

  after(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await repo.remove();
  });

  async function score(i: number, headers: Record<string, string> = {}): Promise<void> {
    const id = `req-${i}`;
    const r = await call(`${url}/v1/models/fraud/score`, 'POST', JSON.stringify(varied(example, i)), {
      headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers },
    });
    assert.equal(r.status, 200, r.body.toString());
    answered.set(id, r.json);
  }

  it('sets a shadow with `infergate traffic`, and `infergate shadow-report` prints the comparison and draws both distributions', async () => {
    const set = JSON.parse(await infergate(url, 'traffic', 'fraud', '--set', '{"primary":2,"shadow":{"version":1}}')) as { to: { primary: number; shadow: { version: number } } };
    assert.equal(set.to.primary, 2);
    assert.equal(set.to.shadow.version, 1);
    for (let i = 0; i < 300; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => score(i + k)));
    // Copies finish on their own schedule: poll the report until all 300 are compared.
    let report: { traffic: { sent: number; inFlight: number }; comparison: { totals: { pairs: number } } };
    do {
      report = (await call(`${url}/v1/models/fraud/shadow`, 'GET')).json;
    } while (report.comparison.totals.pairs + 0 < 300);
    const svg = path.join(repo.root, 'shadow.svg');
    const table = await infergate(url, 'shadow-report', 'fraud', '--svg', svg);
    for (const figure of ['PSI', 'KS', 'agreement', '300']) assert.match(table, new RegExp(figure, 'i'), `the table shows ${figure}`);
    const chart = await fs.readFile(svg, 'utf8');
    assert.match(chart, /^<svg[\s\S]*<\/svg>\s*$/);
    const metrics = (await call(metricsUrl, 'GET')).body.toString();
    assert.match(metrics, /^infergate_shadow_pairs_total\{model="fraud"\} 300$/m);
    assert.match(metrics, /^infergate_shadow_psi\{model="fraud"\} [0-9.e+-]+$/m);
  });

  it('reports drift against the reference stored with the model', async () => {
    const drift = (await call(`${url}/v1/models/fraud/drift`, 'GET')).json as { samples: number; level: string; warnAt: number; alertAt: number };
    assert.equal(drift.samples, 300, 'every answered score is in the window');
    assert.equal(drift.warnAt, 0.1);
    assert.equal(drift.alertAt, 0.25);
    assert.equal(drift.level, 'insufficient', 'fewer scores than the 500 the check needs');
  });

  it('switches the primary and rolls it back with `infergate rollback`', async () => {
    await infergate(url, 'traffic', 'fraud', '--set', '{"primary":1}');
    await score(1000);
    assert.equal(answered.get('req-1000')!.modelVersion, '1');
    const out = await infergate(url, 'rollback', 'fraud');
    assert.match(out, /^fraud: rolled back from version 1 to version 2 in [0-9.]+ ms \(still loaded: an atomic switch\)$/m);
    await score(1001);
    assert.equal(answered.get('req-1001')!.modelVersion, '2');
  });

  it("routes KServe v2 tensor requests by the canary's routing_key parameter, over HTTP and gRPC", async () => {
    await infergate(url, 'traffic', 'fraud', '--set', '{"primary":2,"canary":{"version":1,"percent":50}}');
    const golden = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'fraud', 'golden.json'), 'utf8')) as { tensors: number[][] };
    const row = Float32Array.from(golden.tensors[0]!);
    const client = grpcClient(grpcAddress);
    try {
      for (let i = 0; i < 16; i++) {
        const key = `customer-${i}`;
        const want = goesToCanary(50, key) ? '1' : '2';
        const body = { parameters: { routing_key: key }, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 40], data: Array.from(row) }] };
        const http = await call(`${url}/v2/models/fraud/infer`, 'POST', JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
        assert.equal(http.status, 200, http.body.toString());
        assert.equal(http.json.model_version, want, `HTTP ${key}`);
        const res = await grpcCall(client, 'ModelInfer', {
          model_name: 'fraud',
          id: `grpc-${i}`,
          parameters: { routing_key: { string_param: key } },
          inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 40] }],
          raw_input_contents: [Buffer.from(row.buffer, row.byteOffset, row.byteLength)],
        });
        assert.equal(res.model_version, want, `gRPC ${key}`);
      }
    } finally {
      client.close();
    }
    await infergate(url, 'traffic', 'fraud', '--set', '{"primary":2}');
  });

  it('reloads with `infergate load`, and refuses a bad policy with the reason', async () => {
    assert.match(await infergate(url, 'load', 'fraud'), /^fraud: loaded versions 1, 2; primary 2 \([0-9]+ ms\)$/m);
    await assert.rejects(infergate(url, 'rollback', 'fraud', '--server-typo'), (e: Error & { stderr: string }) => /server-typo/.test(e.stderr));
    await assert.rejects(infergate(url, 'traffic', 'fraud', '--set', '{"primary":9}'), (e: Error & { stderr: string }) => /HTTP 400: .*primary must be a loaded version \(1, 2\)/.test(e.stderr));
  });

  it('writes one whole line per prediction, with every field, and loses none at SIGTERM', async () => {
    // A last burst, with SIGTERM sent while it is still being answered.
    const burst = Array.from({ length: 200 }, (_, k) => score(2000 + k).catch(() => undefined));
    proc.kill('SIGTERM');
    await Promise.all(burst);
    assert.equal(await exit, 0, stderr.join(''));
    const lines = (await fs.readFile(logFile, 'utf8')).split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a whole line');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const byId = new Map(entries.map((e) => [e.request_id as string, e]));
    for (const [id, answer] of answered) {
      const e = byId.get(id);
      assert.ok(e, `request ${id} was answered but has no log line`);
      assert.equal(e.score, answer.score);
      assert.equal(e.version, answer.modelVersion);
    }
    const preprocessHash = (await import('node:crypto')).createHash('sha256').update(readFileSync(path.join(repo.dir, 'preprocess.json'))).digest('hex');
    for (const e of entries) {
      assert.equal(e.event, 'prediction');
      assert.equal(e.model, 'fraud');
      assert.equal(typeof e.request_id, 'string');
      assert.match(e.version, /^[12]$/);
      assert.equal(typeof e.preprocess_hash, 'string');
      if (e.version === '1') assert.equal(e.preprocess_hash, preprocessHash);
      assert.equal(e.runtime.infergate, '0.1.0');
      assert.equal(e.runtime.onnxruntime, '1.30.0');
      assert.match(e.input_hash, /^[0-9a-f]{16}$/);
      if ('input' in e) assert.ok(/^req-/.test(e.request_id), 'only records carry a raw input');
      assert.ok(e.score >= 0 && e.score <= 1);
      assert.ok(['allow', 'step_up', 'block'].includes(e.decision));
      assert.ok(e.latency_ms > 0);
      assert.equal(e.backend, 'local');
      assert.ok(Number.isInteger(e.batch_size) && e.batch_size >= 1);
      assert.ok(['primary', 'canary', 'pinned'].includes(e.traffic));
      if ('features' in e) assert.equal(e.features.length, 40);
    }
    assert.ok(entries.some((e) => 'input' in e && 'features' in e), 'about one line in ten carries the raw input and its features');
    const recordLines = entries.filter((e) => /^req-/.test(e.request_id));
    assert.equal(recordLines.length, answered.size, 'exactly one line per answered prediction');
    // The tensor requests were logged too: 16 over HTTP (generated ids) and 16 over gRPC (their ids).
    assert.equal(entries.filter((e) => /^grpc-\d+$/.test(e.request_id)).length, 16);
    assert.equal(entries.length, answered.size + 32);
  });
});
