// The real tritonserver the Triton backend's tests talk to: two replicas of scripts/triton/repository
// started by test/support/triton.ts, checked over Triton's own HTTP/JSON API (KServe v2): the fraud
// model scores as the project's reference does, the helper models behave as documented, a killed
// replica leaves the other serving, and no process of ours outlives the cluster.

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FIXTURES, ROOT } from '../helpers';
import { isAlive, processGroup } from '../support/processes';
import { startTriton, type TritonCluster, type TritonReplica } from '../support/triton';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as {
  width: number;
  tensors: number[][];
  scores: number[];
};

interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

interface Reply {
  status: number;
  body: { outputs?: Tensor[]; error?: string };
}

async function infer(replica: TritonReplica, model: string, inputs: Tensor[], parameters?: Record<string, unknown>): Promise<Reply> {
  const res = await fetch(`${replica.httpUrl}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs, ...(parameters ? { parameters } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

function output(reply: Reply, name: string): Tensor {
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  const t = reply.body.outputs?.find((o) => o.name === name);
  assert.ok(t, `no output ${name} in ${JSON.stringify(reply.body)}`);
  return t;
}

const fp32In = (data: number[]): Tensor => ({ name: 'IN', datatype: 'FP32', shape: [1, data.length], data });

/** P(fraud) of golden rows [from, to) as one request, checked against the reference scores. */
async function assertGoldenScores(replica: TritonReplica, from: number, to: number): Promise<void> {
  const rows = golden.tensors.slice(from, to);
  const reply = await infer(replica, 'fraud', [{ name: 'features', datatype: 'FP32', shape: [rows.length, golden.width], data: rows.flat() }]);
  const probabilities = output(reply, 'probabilities');
  assert.equal(probabilities.datatype, 'FP32');
  assert.deepEqual(probabilities.shape, [rows.length, 2]);
  const data = probabilities.data as number[];
  for (let i = 0; i < rows.length; i++) {
    const score = data[2 * i + 1] as number;
    const expected = golden.scores[from + i] as number;
    assert.ok(Math.abs(score - expected) <= 1e-5, `row ${from + i}: score ${score}, reference ${expected}`);
  }
}

/** Waits until none of `pids` runs; the kill was sent, so this is a bounded wait for the kernel. */
async function assertAllGone(pids: number[]): Promise<void> {
  for (let i = 0; i < 300 && pids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(pids.filter(isAlive), [], 'processes still running');
}

describe('tritonserver peer (2 replicas)', () => {
  let cluster: TritonCluster;
  let r0: TritonReplica;
  let r1: TritonReplica;
  before(async () => {
    // Replica 1 is told to fail every request to the "fail" model.
    cluster = await startTriton({ replicas: 2, env: (i): Record<string, string> => (i === 1 ? { INFERGATE_TRITON_FAIL: 'UNAVAILABLE' } : {}) });
    [r0, r1] = cluster.replicas as [TritonReplica, TritonReplica];
  });
  after(() => cluster?.stop());

  it('starts two ready replicas on distinct loopback ports', async () => {
    assert.equal(cluster.replicas.length, 2);
    const ports = cluster.replicas.flatMap((r) => [r.grpcPort, r.httpPort, r.metricsPort]);
    assert.equal(new Set(ports).size, 6);
    for (const r of cluster.replicas) {
      assert.equal(r.grpcAddress, `127.0.0.1:${r.grpcPort}`);
      assert.ok(r.pid !== undefined && isAlive(r.pid));
      assert.equal((await fetch(`${r.httpUrl}/v2/health/ready`)).status, 200);
      for (const model of ['fraud', 'identity', 'delay', 'fail']) {
        assert.equal((await fetch(`${r.httpUrl}/v2/models/${model}/ready`)).status, 200, `${model} ready on replica ${r.index}`);
      }
    }
    assert.notEqual(r0.pid, r1.pid);
  });

  it('fraud: declares the tensors of models/fraud/config.pbtxt', async () => {
    const meta = (await (await fetch(`${r0.httpUrl}/v2/models/fraud`)).json()) as { inputs: unknown[]; outputs: unknown[] };
    assert.deepEqual(meta.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 40] }]);
    assert.deepEqual(meta.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }]);
    const config = (await (await fetch(`${r0.httpUrl}/v2/models/fraud/config`)).json()) as {
      max_batch_size: number;
      dynamic_batching: { preferred_batch_size: number[] };
    };
    assert.equal(config.max_batch_size, 256);
    assert.deepEqual(config.dynamic_batching.preferred_batch_size, [32, 64]);
  });

  it('fraud: scores golden rows as the reference does (1e-5), on both replicas', async () => {
    await assertGoldenScores(r0, 0, 64);
    await assertGoldenScores(r1, 64, 128);
  });

  it('fraud: concurrent single-row requests (batched by Triton) each get their own row', async () => {
    await Promise.all(Array.from({ length: 24 }, (_, i) => assertGoldenScores(i % 2 ? r1 : r0, 200 + i, 201 + i)));
  });

  it('identity: FP32, INT64, BOOL and BYTES come back as sent', async () => {
    const inputs: Tensor[] = [
      { name: 'IN_FP32', datatype: 'FP32', shape: [2, 3], data: [1.5, -2, 0, 3.25, 1e-3, 65504] },
      { name: 'IN_INT64', datatype: 'INT64', shape: [2, 2], data: [9007199254740991, -9007199254740991, 0, 42] },
      { name: 'IN_BOOL', datatype: 'BOOL', shape: [2, 1], data: [true, false] },
      { name: 'IN_BYTES', datatype: 'BYTES', shape: [2, 2], data: ['fraud', '', 'héllo wörld', 'a b'] },
    ];
    const reply = await infer(r0, 'identity', inputs);
    for (const input of inputs) {
      const out = output(reply, input.name.replace('IN_', 'OUT_'));
      assert.equal(out.datatype, input.datatype);
      assert.deepEqual(out.shape, input.shape);
      assert.deepEqual(out.data, input.name === 'IN_FP32' ? input.data.map((x) => Math.fround(x as number)) : input.data);
    }
  });

  it('identity: answers only for the inputs present', async () => {
    const reply = await infer(r1, 'identity', [{ name: 'IN_BOOL', datatype: 'BOOL', shape: [1, 3], data: [false, true, true] }]);
    assert.deepEqual(
      reply.body.outputs?.map((o) => o.name),
      ['OUT_BOOL'],
    );
    assert.deepEqual(output(reply, 'OUT_BOOL').data, [false, true, true]);
  });

  it('delay: honours delay_ms and answers OUT = IN', async () => {
    assert.deepEqual(output(await infer(r0, 'delay', [fp32In([1, 2, 3])], { delay_ms: 20 }), 'OUT').data, [1, 2, 3]);
    assert.deepEqual(output(await infer(r0, 'delay', [fp32In([4])]), 'OUT').data, [4]);
  });

  it('delay: refuses a delay_ms that is not a number of milliseconds in range', async () => {
    for (const bad of ['soon', -1, 60_001]) {
      const reply = await infer(r0, 'delay', [fp32In([1])], { delay_ms: bad });
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.match(reply.body.error ?? '', /delay_ms/);
    }
  });

  it('fail: answers the requested error code', async () => {
    const statuses: Record<string, number> = { UNAVAILABLE: 503, INTERNAL: 500, INVALID_ARG: 400, NOT_FOUND: 404 };
    for (const [code, status] of Object.entries(statuses)) {
      const reply = await infer(r0, 'fail', [fp32In([1])], { fail: code });
      assert.equal(reply.status, status, `${code}: ${JSON.stringify(reply.body)}`);
      assert.match(reply.body.error ?? '', new RegExp(code));
    }
    const unknown = await infer(r0, 'fail', [fp32In([1])], { fail: 'SOMETIMES' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error ?? '', /request parameter fail must be one of .*got 'SOMETIMES'/);
  });

  it('fail: succeeds when not asked to fail; fails everything on the replica whose INFERGATE_TRITON_FAIL is set', async () => {
    assert.deepEqual(output(await infer(r0, 'fail', [fp32In([7, 8])]), 'OUT').data, [7, 8]);
    const reply = await infer(r1, 'fail', [fp32In([7, 8])]);
    assert.equal(reply.status, 503);
    assert.match(reply.body.error ?? '', /INFERGATE_TRITON_FAIL \(UNAVAILABLE\)/);
  });

  it('killing replica 0 leaves replica 1 answering; restart brings 0 back on the same ports', async () => {
    const pid = r0.pid as number;
    const group = processGroup(pid);
    assert.ok(group.length >= 2, `the server and its backend stubs: ${group.join(', ')}`);
    const ports = [r0.grpcPort, r0.httpPort, r0.metricsPort];
    await r0.kill();
    assert.equal(r0.pid, undefined);
    assert.deepEqual(group.filter(isAlive), []);
    await assert.rejects(fetch(`${r0.httpUrl}/v2/health/ready`));
    await assertGoldenScores(r1, 300, 310);

    await r0.restart();
    assert.deepEqual([r0.grpcPort, r0.httpPort, r0.metricsPort], ports);
    assert.ok(r0.pid !== undefined && r0.pid !== pid);
    await assertGoldenScores(r0, 310, 320);
  });

  it('stop() leaves no process and no shared memory of ours behind', async () => {
    const pids = cluster.replicas.flatMap((r) => processGroup(r.pid as number));
    assert.ok(pids.length >= 4);
    await cluster.stop();
    assert.deepEqual(pids.filter(isAlive), []);
    for (const r of cluster.replicas) assert.equal(r.pid, undefined);
    assert.deepEqual(
      readdirSync('/dev/shm').filter((n) => n.startsWith(`infergate-triton-${process.pid}-`)),
      [],
    );
  });
});

describe('tritonserver launcher', () => {
  it('kills the replicas of a process that exits without stopping them', async () => {
    // A child process starts a replica, reports the pids of its process group and exits without
    // stop(): the launcher's 'exit' handler must take them all (and the shared memory, named by the
    // child's pid). Inline, because node --test would run any script file under test/ as a test.
    const child = `
      const { startTriton } = require(${JSON.stringify(path.join(__dirname, '..', 'support', 'triton.js'))});
      const { processGroup } = require(${JSON.stringify(path.join(__dirname, '..', 'support', 'processes.js'))});
      startTriton({ models: ['identity'] }).then((cluster) => {
        const pids = processGroup(cluster.replicas[0].pid);
        process.stdout.write(JSON.stringify({ pid: process.pid, pids }) + '\\n');
        process.exit(0);
      }, (err) => { console.error(err); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', child], { cwd: ROOT });
    const { pid, pids } = JSON.parse(stdout) as { pid: number; pids: number[] };
    assert.ok(pids.length >= 2, `the server and its backend stub: ${pids.join(', ')}`);
    await assertAllGone(pids);
    assert.deepEqual(
      readdirSync('/dev/shm').filter((n) => n.startsWith(`infergate-triton-${pid}-`)),
      [],
    );
  });

  it('reports a server that exits before it is ready, with its log', async () => {
    await assert.rejects(startTriton({ models: ['fail'], env: () => ({ INFERGATE_TRITON_FAIL: 'SOMETIMES' }) }), (err: Error) => {
      assert.match(err.message, /exited .* before it was ready/);
      assert.match(err.message, /INFERGATE_TRITON_FAIL must be one of .*got 'SOMETIMES'/);
      return true;
    });
  });

  it('refuses bad options, naming the option', async () => {
    await assert.rejects(startTriton({ replicas: 0 }), /options\.replicas must be an integer in 1\.\.16, got 0/);
    await assert.rejects(startTriton({ models: ['nope'] }), /options\.models: no model "nope" .* expected one of delay, fail, fraud, identity/);
    await assert.rejects(startTriton({ ports: () => ({ grpc: 70000 }) }), /options\.ports\(0\)\.grpc must be an integer in 1\.\.65535, got 70000/);
  });
});
