// A local model shadowed on a real Triton server: the copies run on Triton's fraud model (the same
// ONNX file under Triton's Python backend), the comparison shows both agree, and the primary's
// answers are those of the local model alone.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { call } from '../support/http-call';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime, type ScoreResult } from '../../src/index';
import { MemoryLogger } from '../../src/observability/logger';
import { MODELS } from '../helpers';
import { type RolloutRepository, rolloutRepository, varied } from '../support/rollout-repository';
import { type TritonCluster, startTriton } from '../support/triton';

const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

describe('shadow on Triton (real tritonserver)', { timeout: 600_000 }, () => {
  let cluster: TritonCluster;
  let repo: RolloutRepository;
  let rt: Runtime;

  before(async () => {
    [cluster, repo] = await Promise.all([startTriton({ models: ['fraud'] }), rolloutRepository([1])]);
    rt = await Runtime.load({ repository: repo.root, triton: { endpoints: cluster.replicas.map((r) => r.grpcAddress) }, logger: new MemoryLogger() });
  });
  after(async () => {
    await rt?.close();
    await Promise.all([cluster?.stop(), repo?.remove()]);
  });

  it('compares the local primary with its Triton shadow, and leaves the primary answers unchanged', async () => {
    const model = rt.model('fraud');
    assert.equal(model.backendMode, 'local');
    const records = Array.from({ length: 400 }, (_, i) => varied(example, i));
    const alone = (await model.inferMany(records)) as ScoreResult[];
    const change = await rt.setTraffic('fraud', { shadow: { backend: 'triton' } });
    assert.deepEqual(change.to.shadow && { version: change.to.shadow.version, backend: change.to.shadow.backend }, { version: 1, backend: 'triton' });
    assert.deepEqual(await model.inferMany(records), alone, "the Triton shadow never changes the local primary's answers");
    for (;;) {
      const r = model.shadowReport()!;
      if (r.traffic.sent === 400 && r.traffic.inFlight === 0) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const report = model.shadowReport()!;
    const c = report.comparison as { totals: { pairs: number; disagreements: number }; window: { maxAbsDiff: number; agreementRate: number; ks: number } };
    assert.equal(report.traffic.failed, 0);
    assert.equal(c.totals.pairs, 400);
    // The same model on both sides: float32 scores equal to rounding, every decision the same.
    assert.ok(c.window.maxAbsDiff < 1e-5, `max |diff| ${c.window.maxAbsDiff}`);
    assert.equal(c.window.agreementRate, 1);
    assert.equal(c.totals.disagreements, 0);
  });

  it("logs a Triton-served model's predictions with the backend and the Triton server's own version", async () => {
    const file = path.join(repo.root, 'triton-predictions.log');
    const served = await Runtime.load({
      repository: repo.root,
      backend: 'triton',
      triton: { endpoints: cluster.replicas.map((r) => r.grpcAddress) },
      predictionLog: { destination: file },
      logger: new MemoryLogger(),
    });
    const records = Array.from({ length: 20 }, (_, i) => varied(example, i));
    try {
      await served.model('fraud').inferMany(records);
    } finally {
      await served.close();
    }
    const server = (await call(`${cluster.replicas[0]!.httpUrl}/v2`, 'GET')).json as { version: string };
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { backend: string; runtime: Record<string, string | null>; batch_size: number });
    assert.equal(lines.length, 20);
    for (const l of lines) {
      assert.equal(l.backend, 'triton');
      assert.equal(l.runtime.triton_server, server.version);
      assert.equal(l.runtime.onnxruntime, null, 'ONNX Runtime did not run it here');
      assert.ok(l.batch_size >= 1);
    }
  });
});
