// The Triton client proxy: `infergate serve --upstream triton://...` in front of a real tritonserver.
// Triton's own Python client talks to infergate unchanged; many batch-of-one requests reach Triton
// as fewer, larger ones; every answer equals the golden score.

import { strict as assert } from 'node:assert';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, FIXTURES, MODELS, ROOT } from '../helpers';
import { type TritonCluster, provisionTriton, startTriton } from '../support/triton';

const golden = JSON.parse(readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { tensors: number[][]; scores: number[] };
const N = 240;

/** Python tritonclient: N concurrent batch-of-one gRPC requests; prints the scores as JSON. */
const CLIENT = `
import json, sys
import numpy as np
import tritonclient.grpc as grpcclient
url, n, fixture = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = np.array(json.load(open(fixture))["tensors"][:n], dtype=np.float32)
client = grpcclient.InferenceServerClient(url)
assert client.is_server_ready() and client.is_model_ready("fraud")
results = [None] * n
def done(i):
    def callback(result, error):
        results[i] = error if error is not None else result
    return callback
for i in range(n):
    x = grpcclient.InferInput("features", [1, 40], "FP32")
    x.set_data_from_numpy(rows[i:i + 1])
    client.async_infer("fraud", [x], done(i), outputs=[grpcclient.InferRequestedOutput("probabilities")])
import time
while any(r is None for r in results):
    time.sleep(0.01)
errors = [str(r) for r in results if not hasattr(r, "as_numpy")]
print(json.dumps({"errors": errors, "scores": [float(r.as_numpy("probabilities")[0, 1]) for r in results if hasattr(r, "as_numpy")]}))
`;

function startProxy(upstream: string): Promise<{ proc: ChildProcess; grpc: string }> {
  const proc = spawn(
    process.execPath,
    [CLI, 'serve', '--repository', MODELS, '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--upstream', `triton://${upstream}`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /grpc=(\S+)/.exec(out);
      if (m) resolve({ proc, grpc: m[1] as string });
    });
    proc.on('exit', (code) => reject(new Error(`infergate exited (${code}) before ready: ${err}`)));
  });
}

describe('Triton client proxy (infergate serve --upstream, real tritonserver and tritonclient)', { timeout: 300_000 }, () => {
  let cluster: TritonCluster;
  let proxy: { proc: ChildProcess; grpc: string };
  before(async () => {
    cluster = await startTriton({ models: ['fraud'] });
    proxy = await startProxy(cluster.replicas[0]!.grpcAddress);
  });
  after(async () => {
    if (proxy) {
      const exited = new Promise((r) => proxy.proc.once('exit', r));
      proxy.proc.kill('SIGTERM');
      await exited;
    }
    await cluster?.stop();
  });

  it('tritonclient gets every golden score through infergate, and Triton sees fewer, larger requests', async () => {
    const statsOf = async () =>
      ((await (await fetch(`${cluster.replicas[0]!.httpUrl}/v2/models/fraud/stats`)).json()) as {
        model_stats: { inference_count: number; inference_stats: { success: { count: number } } }[];
      }).model_stats[0]!;
    const before = await statsOf();
    const { python } = provisionTriton();
    const out = execFileSync(python, ['-c', CLIENT, proxy.grpc, String(N), path.join(FIXTURES, 'fraud', 'golden.json')], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const report = JSON.parse(out) as { errors: string[]; scores: number[] };
    assert.deepEqual(report.errors, []);
    assert.equal(report.scores.length, N);
    report.scores.forEach((s, i) => assert.ok(Math.abs(s - golden.scores[i]!) <= 1e-5, `row ${i}: ${s} vs ${golden.scores[i]}`));
    const after = await statsOf();
    assert.equal(after.inference_count - before.inference_count, N, 'Triton ran every row');
    const requests = after.inference_stats.success.count - before.inference_stats.success.count;
    assert.ok(requests < N, `Triton received ${requests} requests for ${N} client requests: infergate batched them before the network`);
  });
});
