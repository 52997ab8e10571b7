// Versions while serving: reloads that pick up a new version folder, hot swaps under sustained load,
// rollback, blue/green, canary shares sticky per key, warm-up, and shadows that never touch the
// primary's answers. Every check is on answers and counters; none on elapsed time.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { InferError, Runtime, type ScoreResult } from '../../src/index';
import { goesToCanary } from '../../src/routing/canary-split';
import { MemoryLogger } from '../../src/observability/logger';
import { MODELS } from '../helpers';
import { type RolloutRepository, rolloutRepository, varied } from '../support/rollout-repository';
import type { SwapProducerProgress } from './swap-producer-worker';

const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

/** Requests from `loops` concurrent callers, one after another each, until `stop()`; every outcome kept. */
function sustainedLoad(rt: Runtime, loops: number) {
  const answers: ScoreResult[] = [];
  const errors: unknown[] = [];
  let running = true;
  let i = 0;
  const workers = Array.from({ length: loops }, async () => {
    while (running) {
      try {
        answers.push(await rt.model('fraud').infer(varied(example, i++)));
      } catch (err) {
        errors.push(err);
        // A failure ends the run (the test then reports it) rather than spinning on rejections.
        return;
      }
    }
  });
  return {
    answers,
    errors,
    /** Resolves once `n` more answers came from `version`. */
    async until(version: string, n: number): Promise<void> {
      const start = answers.length;
      while (answers.slice(start).filter((a) => a.modelVersion === version).length < n) {
        if (errors.length > 0) return;
        await new Promise((r) => setImmediate(r));
      }
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Waits (by polling, without a time limit of its own: the test runner's applies) until `done()`. */
async function eventually(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
}

describe('versions and hot swaps', () => {
  let repo: RolloutRepository;
  let rt: Runtime;
  const logger = new MemoryLogger();
  before(async () => {
    repo = await rolloutRepository([1]);
    rt = await Runtime.load({ repository: repo.root, logger });
  });
  after(async () => {
    await rt.close();
    await repo.remove();
  });

  it('reloads to a new version folder under sustained load with no failed request, then rolls back', async () => {
    const model = rt.model('fraud');
    const load = sustainedLoad(rt, 16);
    await load.until('1', 200);
    await repo.addVersion(2, { shiftAmount: 1 });
    const reloaded = await rt.loadModel('fraud');
    assert.equal(reloaded, model, 'the model object callers hold stays the one serving');
    assert.deepEqual(model.versions, [2], 'latest { num_versions: 1 } now selects version 2 only');
    await load.until('2', 200);
    const rollback = await rt.rollback('fraud');
    assert.equal(rollback.reloaded, true, 'version 1 was unloaded by the policy, so it is loaded again');
    assert.equal(rollback.from.primary, 2);
    assert.equal(rollback.to.primary, 1);
    assert.ok(rollback.milliseconds > 0);
    await load.until('1', 200);
    await load.stop();
    assert.deepEqual(load.errors, [], 'no request failed across the swap and the rollback');
    const seen = new Set(load.answers.map((a) => a.modelVersion));
    assert.deepEqual([...seen].sort(), ['1', '2']);
    assert.deepEqual(model.versions, [1]);
    // After the rollback every answer is version 1's again, as pinned-free requests show.
    assert.equal((await model.infer(example)).modelVersion, '1');
    assert.ok(logger.events.some((e) => e.event === 'model.rollback'));
    await repo.removeVersion(2);
  });

  it('worker threads producing through attached models follow reloads and rollbacks with no failed request', async () => {
    const records = Array.from({ length: 64 }, (_, i) => varied(example, i));
    const workers = [0, 1].map(
      () => new Worker(path.join(__dirname, 'swap-producer-worker.js'), { workerData: { handle: rt.model('fraud').share(), records, window: 16 } }),
    );
    const latest = workers.map(() => ({ answered: 0, failed: 0, errors: [], byVersion: {}, done: false }) as SwapProducerProgress);
    workers.forEach((w, k) => w.on('message', (p: SwapProducerProgress) => (latest[k] = p)));
    /** Waits until every worker has `n` more answers from `version` than it has now. */
    const more = async (version: string, n: number) => {
      const base = latest.map((p) => p.byVersion[version] ?? 0);
      while (latest.some((p, k) => (p.byVersion[version] ?? 0) < base[k]! + n && p.failed === 0)) await new Promise((r) => setTimeout(r, 5));
    };
    try {
      const serving = String(rt.model('fraud').trafficPolicy.primary);
      await more(serving, 100);
      await repo.addVersion(7, { shiftAmount: 1 });
      await rt.loadModel('fraud');
      await more('7', 100);
      await rt.rollback('fraud');
      await more(serving, 100);
    } finally {
      const reports = await Promise.all(
        workers.map(
          (w, k) =>
            new Promise<SwapProducerProgress>((resolve) => {
              w.on('message', (p: SwapProducerProgress) => p.done && resolve(p));
              w.postMessage('stop');
              if (latest[k]!.done) resolve(latest[k]!);
            }),
        ),
      );
      await Promise.all(workers.map((w) => w.terminate()));
      await repo.removeVersion(7);
      for (const r of reports) {
        assert.deepEqual(r.errors, []);
        assert.equal(r.failed, 0, 'no request from a worker thread failed across the reload and the rollback');
        assert.ok((r.byVersion['7'] ?? 0) >= 100);
      }
    }
  });

  it('refuses a rollback when there is nothing to go back to, naming the model', async () => {
    const fresh = await rolloutRepository([1]);
    const other = await Runtime.load({ repository: fresh.root, logger: new MemoryLogger() });
    try {
      await assert.rejects(other.rollback('fraud'), (e) => e instanceof InferError && e.code === 'invalid_argument' && /model "fraud" has no earlier version/.test(e.message));
    } finally {
      await other.close();
      await fresh.remove();
    }
  });

  it('a reload whose new version fails to warm up leaves the serving version untouched', async () => {
    await repo.addVersion(3);
    await repo.writeConfig({
      extra: ['model_warmup [ { name: "bad" batch_size: 1 inputs { key: "features" value: { data_type: TYPE_FP32 dims: [ 40 ] input_data_file: "missing.bin" } } } ]'],
    });
    try {
      await assert.rejects(rt.loadModel('fraud'), /model_warmup "bad": input "features"/);
      assert.deepEqual(rt.model('fraud').versions, [1]);
      assert.equal((await rt.model('fraud').infer(example)).modelVersion, '1');
    } finally {
      await repo.writeConfig({});
      await repo.removeVersion(3);
    }
  });
});

describe('warm-up', () => {
  it("runs config.pbtxt's model_warmup samples on every version before it serves, outside the statistics", async () => {
    const repo = await rolloutRepository([1, 2], {
      versionPolicy: 'all { }',
      extra: [
        'model_warmup [ { name: "zeros" batch_size: 4 count: 3 inputs { key: "features" value: { data_type: TYPE_FP32 dims: [ 40 ] zero_data: true } } },',
        '               { name: "random" batch_size: 2 inputs { key: "features" value: { data_type: TYPE_FP32 dims: [ 40 ] random_data: true } } } ]',
      ],
    });
    const rt = await Runtime.load({ repository: repo.root, logger: new MemoryLogger() });
    try {
      const stats = rt.model('fraud').statistics();
      assert.deepEqual(stats.map((s) => s.version), ['1', '2']);
      for (const s of stats) assert.equal(s.inference_count, 0, 'warm-up requests are not counted as inferences');
      assert.ok((await rt.model('fraud').infer(example)).score >= 0);
    } finally {
      await rt.close();
      await repo.remove();
    }
  });

  it('rejects a warm-up sample that names no input of the model', async () => {
    const repo = await rolloutRepository([1], {
      extra: ['model_warmup [ { name: "typo" batch_size: 1 inputs { key: "feature" value: { data_type: TYPE_FP32 dims: [ 40 ] zero_data: true } } } ]'],
    });
    try {
      await assert.rejects(Runtime.load({ repository: repo.root, logger: new MemoryLogger() }), /model_warmup "typo": input "feature" is not an input of the model/);
    } finally {
      await repo.remove();
    }
  });
});

describe('traffic policy', () => {
  let repo: RolloutRepository;
  let rt: Runtime;
  before(async () => {
    repo = await rolloutRepository([1], { versionPolicy: 'all { }' });
    await repo.addVersion(2, { shiftAmount: 1 });
    rt = await Runtime.load({ repository: repo.root, logger: new MemoryLogger() });
  });
  after(async () => {
    await rt.close();
    await repo.remove();
  });

  it('blue/green: an atomic switch of the primary, and a rollback that is one switch back', async () => {
    const model = rt.model('fraud');
    assert.equal(model.trafficPolicy.primary, 2, 'the newest loaded version is the default primary');
    await rt.setTraffic('fraud', { primary: 1 });
    assert.equal((await model.infer(example)).modelVersion, '1');
    const back = await rt.rollback('fraud');
    assert.equal(back.reloaded, false, 'version 2 is still loaded: the rollback is a switch');
    assert.equal((await model.infer(example)).modelVersion, '2');
  });

  it('rejects a policy naming a version that is not loaded, and keeps the one in force', async () => {
    await assert.rejects(
      rt.setTraffic('fraud', { primary: 7 }),
      (e) => e instanceof InferError && e.code === 'invalid_argument' && e.field === 'primary' && /a loaded version \(1, 2\)/.test(e.message),
    );
    await assert.rejects(rt.setTraffic('fraud', { canary: { version: 1, percent: 101 } }), (e) => e instanceof InferError && e.field === 'canary.percent');
    assert.equal(rt.model('fraud').trafficPolicy.primary, 2);
  });

  it('canary: the share is within binomial bounds, each customer sticks to one version, raising the share only adds customers', async () => {
    await rt.setTraffic('fraud', { primary: 1, canary: { version: 2, percent: 20, key: 'customer_id' } });
    const n = 4000;
    const records = Array.from({ length: n }, (_, i) => varied(example, i, true));
    const first = (await rt.model('fraud').inferMany(records)) as ScoreResult[];
    const canary = first.filter((r) => r.modelVersion === '2').length;
    // 20 % of 4000 is 800, with a standard deviation of sqrt(4000 × 0.2 × 0.8) ≈ 25.3: 5 sigma either side.
    assert.ok(Math.abs(canary - 800) < 5 * Math.sqrt(n * 0.2 * 0.8), `canary share ${canary}/${n}`);
    first.forEach((r, i) => assert.equal(r.modelVersion === '2', goesToCanary(20, `customer-${i}`), `customer-${i}`));
    const again = (await rt.model('fraud').inferMany(records)) as ScoreResult[];
    assert.deepEqual(again.map((r) => r.modelVersion), first.map((r) => r.modelVersion), 'every customer got the same version twice');
    await rt.setTraffic('fraud', { primary: 1, canary: { version: 2, percent: 50, key: 'customer_id' } });
    const wider = (await rt.model('fraud').inferMany(records)) as ScoreResult[];
    first.forEach((r, i) => {
      if (r.modelVersion === '2') assert.equal(wider[i]!.modelVersion, '2', `customer-${i} left the canary when its share grew`);
    });
    // The key field is no feature: without a canary keyed on it, a record carrying it is refused as usual.
    // An explicit routing key overrides the record's field; a pinned version overrides the policy.
    const keyed = await rt.model('fraud').infer(example, { routingKey: 'customer-0' });
    assert.equal(keyed.modelVersion === '2', goesToCanary(50, 'customer-0'));
    assert.equal((await rt.model('fraud').infer(example, { version: 2 })).modelVersion, '2');
    await rt.setTraffic('fraud', {});
    await assert.rejects(rt.model('fraud').infer(records[0]), (e) => e instanceof InferError && e.field === 'customer_id');
  });

  it('shadow: copies go to the other version, are compared, and the primary answers exactly as without a shadow', async () => {
    const model = rt.model('fraud');
    const records = Array.from({ length: 500 }, (_, i) => varied(example, i));
    const alone = (await model.inferMany(records, { version: 1 })) as ScoreResult[];
    const shadowAlone = (await model.inferMany(records, { version: 2 })) as ScoreResult[];
    await rt.setTraffic('fraud', { primary: 1, shadow: { version: 2 } });
    const withShadow = (await model.inferMany(records)) as ScoreResult[];
    assert.deepEqual(withShadow, alone, "the shadow never changes the primary's answers");
    await eventually(() => {
      const r = model.shadowReport()!;
      return r.traffic.sent === 500 && r.traffic.inFlight === 0;
    });
    const report = model.shadowReport()!;
    assert.equal(report.traffic.dropped, 0);
    const summary = report.comparison as { totals: { pairs: number }; window: { count: number; maxAbsDiff: number; meanAbsDiff: number } };
    assert.equal(summary.totals.pairs, 500);
    const diffs = alone.map((a, i) => Math.abs(a.score - shadowAlone[i]!.score));
    assert.ok(Math.abs(summary.window.maxAbsDiff - Math.max(...diffs)) < 1e-6, 'max |diff| is that of the two versions');
    assert.ok(Math.abs(summary.window.meanAbsDiff - diffs.reduce((a, b) => a + b, 0) / diffs.length) < 1e-6);
    await rt.setTraffic('fraud', {});
    assert.equal(model.shadowReport(), undefined);
  });

  it('a failing shadow is counted and the primary is untouched; a saturated one drops copies, counted, and nothing waits for it', async () => {
    await repo.addVersion(3, { maxAmount: 100 });
    await repo.writeConfig({ versionPolicy: 'all { }' });
    await rt.loadModel('fraud');
    const model = rt.model('fraud');
    const records = Array.from({ length: 300 }, (_, i) => varied(example, i));
    const alone = (await model.inferMany(records, { version: 1 })) as ScoreResult[];
    // Version 3 refuses amounts over 100: those copies fail in the shadow only.
    await rt.setTraffic('fraud', { primary: 1, shadow: { version: 3 } });
    assert.deepEqual(await model.inferMany(records), alone);
    await eventually(() => model.shadowReport()!.traffic.sent === 300 && model.shadowReport()!.traffic.inFlight === 0);
    const failing = records.filter((r) => (r.amount as number) > 100).length;
    assert.ok(failing > 0);
    const report = model.shadowReport()!;
    assert.equal(report.traffic.failed, failing);
    const c = report.comparison as { totals: { pairs: number; shadowFailures: Record<string, number> } };
    assert.equal(c.totals.pairs, 300 - failing);
    assert.equal(c.totals.shadowFailures['invalid_argument'], failing);

    // One copy at a time and a queue of two: a burst overflows it; every primary still answers.
    await rt.setTraffic('fraud', { primary: 1, shadow: { version: 2, maxConcurrency: 1, maxQueue: 2 } });
    assert.deepEqual(await model.inferMany(records), alone);
    await eventually(() => model.shadowReport()!.traffic.inFlight === 0 && model.shadowReport()!.traffic.queued === 0);
    const saturated = model.shadowReport()!.traffic;
    assert.equal(saturated.offered, 300);
    assert.ok(saturated.dropped > 0, 'copies past the bounded queue are dropped');
    assert.equal(saturated.sent + saturated.dropped, 300, 'every copy was either sent or counted as dropped');
    await rt.setTraffic('fraud', {});
  });
});

describe('drift', () => {
  it('raises the level once per change when live scores leave the reference distribution, and logs it', async () => {
    const repo = await rolloutRepository([1], { extra: ['parameters { key: "infergate.drift.window" value: { string_value: "200" } }'] });
    const logger = new MemoryLogger();
    const rt = await Runtime.load({ repository: repo.root, logger });
    try {
      const model = rt.model('fraud');
      assert.deepEqual({ ...(model.driftState() as object), psi: null }, { psi: null, level: 'insufficient', samples: 0, windowSize: 200, warnAt: 0.1, alertAt: 0.25 });
      // Every record looks like fraud: the live scores pile up where the reference has almost none.
      const risky = Array.from({ length: 200 }, (_, i) => ({ ...example, amount: 900 + i, country_mismatch: true, device_risk_score: 0.99, txn_count_1h: 9, account_age_days: 2 }));
      await model.inferMany(risky);
      const state = model.driftState() as { level: string; psi: number; samples: number };
      assert.equal(state.samples, 200);
      assert.equal(state.level, 'alert', `PSI ${state.psi}`);
      assert.ok(state.psi >= 0.25);
      const events = logger.events.filter((e) => e.event.startsWith('drift.'));
      assert.equal(events.length, 1, 'one change (insufficient → alert once the window filled), logged once');
      assert.equal(events.at(-1)!.event, 'drift.alert');
      assert.equal(events.at(-1)!.fields.from, 'insufficient');
      assert.equal(events.at(-1)!.level, 'error');
      assert.equal(events.at(-1)!.fields.model, 'fraud');
    } finally {
      await rt.close();
      await repo.remove();
    }
  });
});
