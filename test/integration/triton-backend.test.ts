// The Triton backend against real tritonserver replicas (scripts/triton, provisioned by the test
// launcher): scores equal local ONNX Runtime's, every datatype round-trips, a replica killed under
// load loses no request, all replicas down falls back or fails clearly, shared memory returns the
// same bytes as raw contents, and deadlines and cancellation behave.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferError } from '../../src/errors';
import { MemoryLogger } from '../../src/observability/logger';
import type { ScoreResult } from '../../src/runtime/model';
import { Runtime, type RuntimeOptions } from '../../src/runtime/runtime';
import type { Tensor } from '../../src/tensor';
import { FIXTURES, MODELS } from '../helpers';
import { type TritonCluster, startTriton } from '../support/triton';

interface Golden {
  rows: Record<string, unknown>[];
}
const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as Golden;
const ROWS = golden.rows.slice(0, 400);
const SCORE_TOL = 1e-5;

/** A model repository of local configs that name models of the Triton test repository. */
function tensorRepository(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'infergate-triton-repo-'));
  const model = (name: string, remote: string, datatype: string, input: string, output: string) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    writeFileSync(
      path.join(dir, name, 'config.pbtxt'),
      [
        `name: "${name}"`,
        'backend: "python"',
        'max_batch_size: 256',
        `input [ { name: "${input}" data_type: ${datatype} dims: [ -1 ] } ]`,
        `output [ { name: "${output}" data_type: ${datatype} dims: [ -1 ] } ]`,
        'parameters { key: "infergate.backend" value: { string_value: "triton" } }',
        `parameters { key: "infergate.triton.model" value: { string_value: "${remote}" } }`,
      ].join('\n'),
    );
  };
  for (const t of ['FP32', 'FP16', 'INT64', 'BOOL']) model(`identity_${t.toLowerCase()}`, 'identity', `TYPE_${t}`, `IN_${t}`, `OUT_${t}`);
  model('identity_bytes', 'identity', 'TYPE_STRING', 'IN_BYTES', 'OUT_BYTES');
  model('flaky', 'fail', 'TYPE_FP32', 'IN', 'OUT');
  model('slow', 'delay', 'TYPE_FP32', 'IN', 'OUT');
  // Like the fraud model but one feature wider than the server's.
  mkdirSync(path.join(dir, 'fraud_wrong', '1'), { recursive: true });
  writeFileSync(
    path.join(dir, 'fraud_wrong', 'config.pbtxt'),
    [
      'name: "fraud_wrong"',
      'backend: "python"',
      'max_batch_size: 256',
      'input [ { name: "features" data_type: TYPE_FP32 dims: [ 41 ] } ]',
      'output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] } ]',
      'parameters { key: "infergate.backend" value: { string_value: "triton" } }',
      'parameters { key: "infergate.triton.model" value: { string_value: "fraud" } }',
    ].join('\n'),
  );
  return dir;
}

function bytesOf(t: Tensor): Buffer {
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

function endpoints(cluster: TritonCluster): string[] {
  return cluster.replicas.map((r) => r.grpcAddress);
}

function assertScoresMatch(got: (ScoreResult | InferError)[], want: (ScoreResult | InferError)[], exact = false): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const w = want[i];
    assert.ok(!(g instanceof InferError), `row ${i}: ${g instanceof InferError ? g.message : ''}`);
    assert.ok(!(w instanceof InferError), `row ${i} (local): ${w instanceof InferError ? w.message : ''}`);
    const gs = (g as ScoreResult).score;
    const ws = (w as ScoreResult).score;
    if (exact) assert.equal(gs, ws, `row ${i}`);
    else assert.ok(Math.abs(gs - ws) <= SCORE_TOL, `row ${i}: Triton ${gs}, local ${ws}`);
    assert.equal((g as ScoreResult).decision, (w as ScoreResult).decision, `row ${i} decision`);
  });
}

/** Waits (bounded) for a condition that a background probe brings about; never asserts on time. */
async function eventually(what: string, check: () => boolean, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > until) assert.fail(`still not true after ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Triton backend (real tritonserver)', { timeout: 600_000 }, () => {
  let cluster: TritonCluster;
  let local: Runtime;
  let expected: (ScoreResult | InferError)[];
  let repo: string;
  let flakyCluster: TritonCluster;
  const fast = { healthIntervalMs: 200, breakerOpenMs: 200 };

  before(async () => {
    [cluster, local, flakyCluster] = await Promise.all([
      startTriton({ replicas: 2, models: ['fraud', 'identity', 'fail', 'delay'] }),
      Runtime.load({ repository: MODELS, models: ['fraud'] }),
      // Replica 0 answers every request "unavailable" (scripts/triton/repository/fail).
      startTriton({ replicas: 2, models: ['fail'], env: (i): Record<string, string> => (i === 0 ? { INFERGATE_TRITON_FAIL: 'UNAVAILABLE' } : {}) }),
    ]);
    expected = await local.model('fraud').inferMany(ROWS);
    repo = tensorRepository();
  });

  after(async () => {
    await Promise.all([cluster?.stop(), local?.close(), flakyCluster?.stop()]);
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  const load = (extra: Partial<RuntimeOptions> = {}, logger = new MemoryLogger()) =>
    Runtime.load({
      repository: MODELS,
      models: ['fraud'],
      backend: 'triton',
      logger,
      ...extra,
      triton: { endpoints: endpoints(cluster), ...fast, ...extra.triton },
    });

  it('scores equal local ONNX Runtime within 1e-5, in fewer, larger calls', async () => {
    const rt = await load();
    try {
      const got = await rt.model('fraud').inferMany(ROWS);
      assertScoresMatch(got, expected);
      const s = rt.model('fraud').stats();
      assert.equal(s.backend.mode, 'triton');
      assert.ok(s.backend.forwardedBatches > 0);
      assert.ok(s.backend.forwardedBatches < ROWS.length, `${s.backend.forwardedBatches} calls for ${ROWS.length} requests`);
      // Both replicas took a share (least outstanding, rotation on ties).
      const calls = rt.triton.stats().map((r) => r.calls);
      assert.ok(calls.every((c) => c > 0), `calls per replica: ${calls.join(', ')}`);
    } finally {
      await rt.close();
    }
  });

  it('each batch carries its priority level and its earliest deadline to Triton', async () => {
    const rt = await load({ batching: { priorityLevels: 2, defaultPriorityLevel: 2 } });
    try {
      const model = rt.model('fraud');
      // Triton's priority and timeout parameters ride on every forwarded batch; Triton accepts them.
      const [high, low, timed] = await Promise.all([
        model.inferMany(ROWS.slice(0, 40), { priority: 1 }),
        model.inferMany(ROWS.slice(0, 40), { priority: 2 }),
        model.inferMany(ROWS.slice(0, 40), { timeoutMicroseconds: 30_000_000 }),
      ]);
      for (const got of [high, low, timed]) assertScoresMatch(got, expected.slice(0, 40));
      assert.equal(model.stats().backend.failedBatches, 0);
    } finally {
      await rt.close();
    }
  });

  it('every datatype round-trips through the identity model (FP32, FP16 raw, INT64, BOOL, BYTES)', async () => {
    const rt = await Runtime.load({
      repository: repo,
      models: ['identity_fp32', 'identity_fp16', 'identity_int64', 'identity_bool', 'identity_bytes'],
      logger: new MemoryLogger(),
      triton: { endpoints: endpoints(cluster), ...fast },
    });
    try {
      const cases: [string, Tensor][] = [
        ['fp32', { datatype: 'FP32', shape: [2, 3], data: new Float32Array([1.5, -2, 3.25, Number.MAX_VALUE > 1 ? 3.4e38 : 0, -0, 1e-45]) }],
        // FP16 as raw 16-bit patterns: 1.0, -2.0, 65504 (max), the smallest subnormal.
        ['fp16', { datatype: 'FP16', shape: [2, 2], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) }],
        ['int64', { datatype: 'INT64', shape: [1, 4], data: new BigInt64Array([0n, -1n, 9007199254740993n, -9223372036854775808n]) }],
        ['bool', { datatype: 'BOOL', shape: [3, 1], data: new Uint8Array([1, 0, 1]) }],
        ['bytes', { datatype: 'BYTES', shape: [1, 3], data: ['héllo', '', 'a\u0000b'] }],
      ];
      for (const [suffix, t] of cases) {
        const upper = suffix.toUpperCase();
        const r = await rt.model(`identity_${suffix}`).inferTensors({ [`IN_${upper}`]: t });
        const out = r.outputs[`OUT_${upper}`];
        assert.ok(out, `identity_${suffix} answered OUT_${upper}`);
        assert.equal(out.datatype, t.datatype);
        assert.deepEqual(out.shape, t.shape);
        if (Array.isArray(t.data)) assert.deepEqual(out.data, t.data);
        else assert.deepEqual(bytesOf(out), bytesOf(t), `identity_${suffix}: the same bytes`);
      }
    } finally {
      await rt.close();
    }
  });

  it('a replica killed under sustained load: every request answered once, with its own score', async () => {
    const rt = await load();
    const model = rt.model('fraud');
    const total = 6000;
    const results: (ScoreResult | InferError)[] = new Array(total);
    let answered = 0;
    let killed: Promise<void> | undefined;
    try {
      const pending: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const idx = i;
        pending.push(
          model.infer(ROWS[idx % ROWS.length]).then(
            (r) => {
              assert.equal(results[idx], undefined, `request ${idx} answered twice`);
              results[idx] = r;
              answered++;
            },
            (err: InferError) => {
              results[idx] = err;
              answered++;
            },
          ),
        );
        // Sustained: requests keep arriving while earlier ones are answered; the kill lands mid-stream.
        if (i % 100 === 99) await new Promise((r) => setImmediate(r));
        if (i === 2000) killed = cluster.replicas[0]!.kill('SIGKILL');
      }
      await Promise.all(pending);
      await killed;
      assert.equal(answered, total);
      const errors = results.filter((r) => r instanceof InferError) as InferError[];
      assert.deepEqual(errors.map((e) => e.message).slice(0, 3), [], 'no deadline was set, so no request may fail');
      results.forEach((r, i) => {
        const w = expected[i % ROWS.length] as ScoreResult;
        assert.ok(Math.abs((r as ScoreResult).score - w.score) <= SCORE_TOL, `request ${i}`);
      });
      const s = model.stats();
      assert.equal(s.requests, total);
      assert.equal(rt.triton.stats()[0]!.health, 'ejected');
    } finally {
      await rt.close();
      await cluster.replicas[0]!.restart();
    }
  });

  it('every replica down: "triton" answers unavailable, naming the replicas', async () => {
    const rt = await load();
    try {
      await Promise.all(cluster.replicas.map((r) => r.kill('SIGKILL')));
      const err = await rt.model('fraud').infer(ROWS[0]).then(
        () => assert.fail('answered with every replica down'),
        (e: unknown) => e as InferError,
      );
      assert.ok(err instanceof InferError);
      assert.equal(err.code, 'unavailable');
      for (const r of cluster.replicas) assert.match(err.message, new RegExp(r.grpcAddress.replace(/[.]/g, '\\.')));
    } finally {
      await rt.close();
      await Promise.all(cluster.replicas.map((r) => r.restart()));
    }
  });

  it('every replica down: "triton-with-local-fallback" serves locally, reports degraded, and goes back', async () => {
    const logger = new MemoryLogger();
    const rt = await load({ backend: 'triton-with-local-fallback' }, logger);
    const model = rt.model('fraud');
    try {
      assertScoresMatch(await model.inferMany(ROWS.slice(0, 50)), expected.slice(0, 50));
      await Promise.all(cluster.replicas.map((r) => r.kill('SIGKILL')));
      // Requests arriving as the replicas die are answered too: by Triton, by a retry, or locally.
      assertScoresMatch(await model.inferMany(ROWS), expected);
      await eventually('degraded', () => model.stats().backend.degraded);
      assertScoresMatch(await model.inferMany(ROWS), expected);
      assert.ok(logger.events.some((e) => e.event === 'triton.degraded'), 'the degraded state is logged');
      assert.ok(model.stats().backend.degradedEntries >= 1);

      await Promise.all(cluster.replicas.map((r) => r.restart()));
      await eventually('recovered', () => !model.stats().backend.degraded);
      const before = model.stats().backend.forwardedBatches;
      assertScoresMatch(await model.inferMany(ROWS), expected);
      assert.ok(model.stats().backend.forwardedBatches > before, 'forwarding resumed');
      assert.ok(logger.events.some((e) => e.event === 'triton.recovered'));
    } finally {
      await rt.close();
    }
  });

  it('shared memory returns the same bytes as raw contents', async () => {
    const raw = await load();
    const shm = await load({ triton: { sharedMemory: true } });
    const regionNames = new Set<string>();
    try {
      const [a, b] = await Promise.all([raw.model('fraud').inferMany(ROWS), shm.model('fraud').inferMany(ROWS)]);
      assertScoresMatch(b, a, true);
      assert.ok(shm.model('fraud').stats().backend.forwardedBatches > 0);
      // The slabs' region is registered with each replica, and is a real /dev/shm object.
      for (const r of cluster.replicas) {
        const regions = (await (await fetch(`${r.httpUrl}/v2/systemsharedmemory/status`)).json()) as { name: string; key: string }[];
        const ours = regions.filter((x) => x.name.startsWith(`infergate-${process.pid}-`));
        assert.equal(ours.length, 1, `one region on ${r.grpcAddress}: ${JSON.stringify(regions)}`);
        assert.ok(existsSync(`/dev/shm/${ours[0]!.name}`));
        regionNames.add(ours[0]!.name);
      }
    } finally {
      await Promise.all([raw.close(), shm.close()]);
    }
    // Unregistered from every replica and unlinked on shutdown.
    for (const r of cluster.replicas) {
      const regions = (await (await fetch(`${r.httpUrl}/v2/systemsharedmemory/status`)).json()) as { name: string }[];
      assert.deepEqual(regions.filter((x) => regionNames.has(x.name)), []);
    }
    for (const name of regionNames) assert.equal(existsSync(`/dev/shm/${name}`), false, `${name} unlinked`);
  });

  it('after a crash, the next start unlinks the dead process\'s region and unregisters it from Triton', async () => {
    // A process that forwards through shared memory, then dies without cleaning up (SIGKILL).
    const script = `
      const { Runtime } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'runtime', 'runtime.js'))});
      const { silentLogger } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'observability', 'logger.js'))});
      Runtime.load({ repository: ${JSON.stringify(MODELS)}, models: ['fraud'], backend: 'triton', logger: silentLogger,
                     triton: { endpoints: ${JSON.stringify(endpoints(cluster))}, sharedMemory: true } })
        .then((rt) => rt.model('fraud').infer(${JSON.stringify(ROWS[0])}))
        .then(() => { process.stdout.write('ready\\n'); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before it was ready`)));
    });
    const prefix = `infergate-${child.pid}-`;
    const registered = async () => {
      const names: string[] = [];
      for (const r of cluster.replicas) {
        const regions = (await (await fetch(`${r.httpUrl}/v2/systemsharedmemory/status`)).json()) as { name: string }[];
        names.push(...regions.map((x) => x.name).filter((n) => n.startsWith(prefix)));
      }
      return names;
    };
    const files = () => readdirSync('/dev/shm').filter((n) => n.startsWith(prefix));
    assert.equal((await registered()).length, cluster.replicas.length, 'the child registered its region with every replica');
    assert.equal(files().length, 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(files().length, 1, 'a killed process leaves its region behind');

    const logger = new MemoryLogger();
    const rt = await load({ triton: { sharedMemory: true } }, logger);
    try {
      assert.deepEqual(files(), [], 'unlinked at start');
      assert.deepEqual(await registered(), [], 'unregistered from every replica');
      assert.ok(logger.events.some((e) => e.event === 'triton.shm_orphan_unregistered'));
      assertScoresMatch(await rt.model('fraud').inferMany(ROWS.slice(0, 50)), expected.slice(0, 50));
    } finally {
      await rt.close();
    }
  });

  it('a failing replica: unavailable answers are retried on another replica', async () => {
    const rt = await Runtime.load({
      repository: repo,
      models: ['flaky'],
      logger: new MemoryLogger(),
      triton: { endpoints: endpoints(flakyCluster), healthIntervalMs: 60_000 },
    });
    try {
      const t: Tensor = { datatype: 'FP32', shape: [1, 2], data: new Float32Array([1, 2]) };
      for (let i = 0; i < 20; i++) {
        const r = await rt.model('flaky').inferTensors({ IN: t });
        assert.deepEqual(Array.from(r.outputs.OUT!.data as Float32Array), [1, 2]);
      }
      const [bad, good] = rt.triton.stats();
      assert.ok(bad!.failures >= 1, 'the failing replica was tried');
      assert.equal(bad!.calls, bad!.failures, 'and never answered');
      assert.equal(good!.failures, 0);
      assert.ok(good!.calls >= 20);
    } finally {
      await rt.close();
    }
  });

  it('other errors surface unretried, and consecutive failures open the replica\'s circuit', async () => {
    const rt = await Runtime.load({
      repository: repo,
      models: ['flaky'],
      logger: new MemoryLogger(),
      // Only the healthy replica; a long open period so the test sees the circuit open.
      triton: { endpoints: [flakyCluster.replicas[1]!.grpcAddress], healthIntervalMs: 60_000, breakerThreshold: 3, breakerOpenMs: 600_000 },
    });
    try {
      const t: Tensor = { datatype: 'FP32', shape: [1, 1], data: new Float32Array([3]) };
      const failOnce = () =>
        rt.model('flaky').inferTensors({ IN: t }, { parameters: { fail: 'INTERNAL' } }).then(
          () => assert.fail('the model was asked to fail'),
          (e: unknown) => e as InferError,
        );
      for (let i = 1; i <= 3; i++) {
        const err = await failOnce();
        assert.equal(err.code, 'internal');
        assert.equal(rt.triton.stats()[0]!.calls, i, 'an internal error is not retried');
      }
      assert.equal(rt.triton.stats()[0]!.circuit, 'open');
      const refused = await rt.model('flaky').inferTensors({ IN: t }).then(
        () => undefined,
        (e: unknown) => e as InferError,
      );
      assert.ok(refused instanceof InferError);
      assert.equal(refused.code, 'unavailable');
      assert.match(refused.message, /circuit open/);
      assert.equal(rt.triton.stats()[0]!.calls, 3, 'an open circuit sends nothing');
    } finally {
      await rt.close();
    }
  });

  it('a server model that differs from config.pbtxt fails the load, saying what differs', async () => {
    const err = await Runtime.load({ repository: repo, models: ['fraud_wrong'], logger: new MemoryLogger(), triton: { endpoints: endpoints(cluster) } }).then(
      (rt) => rt.close().then(() => assert.fail('loaded a mismatched model')),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, /model "fraud" on Triton 127\.0\.0\.1:[0-9]+ does not match config\.pbtxt: input "features" has shape \[-1, 41\] locally but \[-1, 40\] on the server/);
  });

  it('TLS and an API key: Triton refuses calls without them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'infergate-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    // Triton's --grpc-restricted-protocol checks the header "triton-grpc-protocol-<key>".
    const restricted = 'health,metadata,inference,model-config,shared-memory:infergate-key=s3cret';
    const secure = await startTriton({
      models: ['fraud'],
      args: () => ['--grpc-use-ssl=true', `--grpc-server-cert=${cert}`, `--grpc-server-key=${key}`, `--grpc-restricted-protocol=${restricted}`],
    });
    const endpoint = `localhost:${secure.replicas[0]!.grpcPort}`;
    const rootCerts = readFileSync(cert);
    const apiKeyHeader = 'triton-grpc-protocol-infergate-key';
    try {
      const rt = await load({ triton: { endpoints: [endpoint], tls: { rootCerts }, apiKey: 's3cret', apiKeyHeader } });
      try {
        assertScoresMatch(await rt.model('fraud').inferMany(ROWS.slice(0, 100)), expected.slice(0, 100));
      } finally {
        await rt.close();
      }
      const refused = async (triton: Partial<NonNullable<RuntimeOptions['triton']>>) =>
        load({ triton: { endpoints: [endpoint], ...triton } }).then(
          (rt) => rt.close().then(() => assert.fail(`loaded with ${JSON.stringify(Object.keys(triton))}`)),
          (e: unknown) => (e as Error).message,
        );
      assert.match(await refused({ tls: { rootCerts } }), /no Triton replica is ready.*restricted/, 'no key');
      assert.match(await refused({ tls: { rootCerts }, apiKey: 'wrong', apiKeyHeader }), /no Triton replica is ready/, 'a wrong key');
      assert.match(await refused({ apiKey: 's3cret', apiKeyHeader }), /no Triton replica is ready/, 'plaintext to a TLS server');
    } finally {
      await secure.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('calls beyond the pool\'s capacity wait in a bounded queue; past it, resource_exhausted at once', async () => {
    const rt = await Runtime.load({
      repository: repo,
      models: ['slow'],
      logger: new MemoryLogger(),
      triton: { endpoints: [cluster.replicas[0]!.grpcAddress], maxOutstandingPerReplica: 1, healthIntervalMs: 60_000 },
    });
    try {
      const t: Tensor = { datatype: 'FP32', shape: [1, 1], data: new Float32Array([5]) };
      // Capacity 1: one call in flight, four waiting (four per slot), the rest refused.
      const calls = Array.from({ length: 7 }, () =>
        rt.model('slow').inferTensors({ IN: t }, { parameters: { delay_ms: 100 } }).then(
          (r) => Array.from(r.outputs.OUT!.data as Float32Array),
          (e: unknown) => (e as InferError).code,
        ),
      );
      assert.deepEqual(await Promise.all(calls), [[5], [5], [5], [5], [5], 'resource_exhausted', 'resource_exhausted']);
    } finally {
      await rt.close();
    }
  });

  it('deadlines: a batch slower than its requests\' deadline answers deadline_exceeded; cancellation cancels', async () => {
    const rt = await Runtime.load({ repository: repo, models: ['slow'], logger: new MemoryLogger(), triton: { endpoints: endpoints(cluster), ...fast } });
    try {
      const t: Tensor = { datatype: 'FP32', shape: [1, 1], data: new Float32Array([7]) };
      const fast = await rt.model('slow').inferTensors({ IN: t }, { timeoutMicroseconds: 30_000_000 });
      assert.deepEqual(Array.from(fast.outputs.OUT!.data as Float32Array), [7]);

      // The model sleeps 5 s; the request allows 300 ms: gRPC's deadline ends the call, and Triton
      // was told the same through its timeout parameter.
      const late = await rt.model('slow').inferTensors({ IN: t }, { timeoutMicroseconds: 300_000, parameters: { delay_ms: 5000 } }).then(
        () => undefined,
        (e: unknown) => e as InferError,
      );
      assert.ok(late instanceof InferError, 'a call past its deadline rejects');
      assert.equal(late.code, 'deadline_exceeded');

      const ac = new AbortController();
      const slowCall = rt.model('slow').inferTensors({ IN: t }, { signal: ac.signal, parameters: { delay_ms: 5000 } });
      setImmediate(() => ac.abort());
      const cancelled = await slowCall.then(
        () => undefined,
        (e: unknown) => e as InferError,
      );
      assert.ok(cancelled instanceof InferError, 'a cancelled call rejects');
      assert.equal(cancelled.code, 'unavailable');
      assert.match(cancelled.message, /cancel/i);
    } finally {
      await rt.close();
    }
  });
});
