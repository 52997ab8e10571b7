import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { equalWidthEdges, ksStatistic } from '../../src/observability/score-distribution';
import { ShadowComparator, type ShadowPair } from '../../src/routing/shadow-comparison';
import { closeTo, referenceStatistics, seeded } from '../support/score-statistics';

const pair = (primaryScore: number, shadowScore: number, extra: Partial<ShadowPair> = {}): ShadowPair => ({
  primaryScore,
  shadowScore,
  primaryLatencyMs: 1,
  shadowLatencyMs: 2,
  ...extra,
});

describe('shadow comparator', () => {
  it('summarises an empty comparator with zero totals and null figures, as plain JSON', () => {
    const summary = new ShadowComparator().summary();
    assert.deepEqual(summary.totals, { pairs: 0, agreements: 0, disagreements: 0, shadowFailures: {}, dropped: 0 });
    assert.deepEqual(summary.window, {
      size: 10_000,
      count: 0,
      meanAbsDiff: null,
      maxAbsDiff: null,
      agreementRate: null,
      decisionPairs: 0,
      latencyDiffMs: { mean: null, p50: null, p99: null },
      psi: null,
      ks: null,
      ksPValue: null,
      histograms: { edges: equalWidthEdges(20), primary: new Array(20).fill(0), shadow: new Array(20).fill(0) },
    });
    assert.equal(summary.tolerance, 0.05);
    assert.deepEqual(summary.sampledDisagreements, { policy: 'most-recent', capacity: 50, pairs: [] });
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary);
  });

  it('reflects only the last windowSize pairs in the window, and every pair in the totals', () => {
    const c = new ShadowComparator({ windowSize: 4, edges: [0, 0.5, 1] });
    c.record(pair(0, 1, { shadowLatencyMs: 100 })); // evicted below
    c.record(pair(1, 0, { shadowLatencyMs: 100 })); // evicted below
    const kept: [number, number][] = [[0.1, 0.12], [0.2, 0.2], [0.6, 0.7], [0.9, 0.86]];
    for (const [p, s] of kept) c.record(pair(p, s));
    const { window: w, totals } = c.summary();
    assert.equal(totals.pairs, 6);
    assert.equal(totals.disagreements, 3); // |1 - 0| twice, and |0.7 - 0.6| > 0.05
    assert.equal(w.count, 4);
    assert.ok(closeTo(w.maxAbsDiff as number, 0.1));
    assert.ok(closeTo(w.meanAbsDiff as number, (0.02 + 0 + 0.1 + 0.04) / 4));
    assert.equal(w.agreementRate, 3 / 4);
    assert.deepEqual(w.latencyDiffMs, { mean: 1, p50: 1, p99: 1 });
    assert.deepEqual(w.histograms, { edges: [0, 0.5, 1], primary: [2, 2], shadow: [2, 2] });
    assert.equal(w.psi, 0);
    assert.equal(w.ks, ksStatistic(kept.map(([p]) => p), kept.map(([, s]) => s)));
  });

  it('matches numpy and scipy on the window: PSI, KS, histograms and latency percentiles', () => {
    const rnd = seeded(7);
    const c = new ShadowComparator({ windowSize: 700 });
    const pairs = Array.from({ length: 1000 }, () => {
      const p = rnd() ** 4;
      return pair(p, Math.min(1, p * (0.8 + rnd() * 0.5) + rnd() * 0.02), { primaryLatencyMs: 1 + rnd() * 3, shadowLatencyMs: 2 + rnd() ** 3 * 20 });
    });
    pairs.forEach((p) => c.record(p));
    const last = pairs.slice(-700);
    const primary = last.map((p) => p.primaryScore);
    const shadow = last.map((p) => p.shadowScore);
    const latency = last.map((p) => p.shadowLatencyMs - p.primaryLatencyMs);
    const edges = equalWidthEdges(20);
    const w = c.summary().window;
    const ref = referenceStatistics({
      histogram: [{ values: primary, edges }, { values: shadow, edges }],
      psi: [{ expected: w.histograms.primary, actual: w.histograms.shadow, epsilon: 1e-4 }],
      ks: [{ a: primary, b: shadow }],
      percentiles: [{ values: latency, q: [50, 99] }],
    });
    assert.deepEqual([w.histograms.primary, w.histograms.shadow], ref.histogram);
    assert.ok(closeTo(w.psi as number, ref.psi?.[0] as number), `PSI ${w.psi} vs numpy ${ref.psi?.[0]}`);
    assert.ok(closeTo(w.ks as number, ref.ks?.[0] as number), `KS ${w.ks} vs scipy ${ref.ks?.[0]}`);
    assert.ok(closeTo(w.latencyDiffMs.p50 as number, ref.percentiles?.[0]?.[0] as number));
    assert.ok(closeTo(w.latencyDiffMs.p99 as number, ref.percentiles?.[0]?.[1] as number));
    assert.ok(closeTo(w.latencyDiffMs.mean as number, latency.reduce((a, b) => a + b, 0) / 700));
    assert.ok(closeTo(w.maxAbsDiff as number, Math.max(...last.map((p) => Math.abs(p.shadowScore - p.primaryScore)))));
  });

  it('judges agreement by decision when both are given, otherwise by the score tolerance', () => {
    const c = new ShadowComparator({ tolerance: 0.1 });
    c.record(pair(0.9, 0.1, { primaryDecision: 'allow', shadowDecision: 'allow' })); // same band: agrees
    c.record(pair(0.61, 0.59, { primaryDecision: 'step_up', shadowDecision: 'allow' })); // disagrees
    c.record(pair(0.3, 0.39)); // within 0.1
    c.record(pair(0.3, 0.45)); // beyond 0.1
    c.record(pair(0.3, 0.3, { primaryDecision: 'allow' })); // one decision only: by tolerance
    const s = c.summary();
    assert.deepEqual([s.totals.agreements, s.totals.disagreements], [3, 2]);
    assert.equal(s.window.agreementRate, 3 / 5);
    assert.equal(s.window.decisionPairs, 2);
    assert.equal(s.tolerance, 0.1);
  });

  it('counts drops and shadow failures by code, with a bounded number of codes', () => {
    const c = new ShadowComparator({ maxFailureCodes: 3 });
    c.recordDrop();
    c.recordDrop();
    for (const code of ['deadline_exceeded', 'unavailable', 'deadline_exceeded', 'internal', 'odd', 'unavailable']) c.recordShadowFailure(code);
    const s = c.summary();
    assert.equal(s.totals.dropped, 2);
    assert.deepEqual(s.totals.shadowFailures, { deadline_exceeded: 2, unavailable: 2, other: 2 });
    assert.equal(s.totals.pairs, 0);
    assert.throws(() => c.recordShadowFailure(''), /code must be a non-empty string/);
  });

  it('keeps the most recent disagreements with their inputs, no more than maxDisagreementSamples', () => {
    let clock = 1000;
    const c = new ShadowComparator({ maxDisagreementSamples: 3, now: () => clock++ });
    for (let i = 0; i < 10; i++) {
      c.record(pair(0.1, 0.9, { primaryDecision: 'allow', shadowDecision: 'block', input: { i } }));
      c.record(pair(0.1, 0.1, { input: { agreeing: i } }));
    }
    c.record(pair(0.2, 0.8, { at: 5 }));
    const { sampledDisagreements } = c.summary();
    assert.equal(sampledDisagreements.capacity, 3);
    assert.deepEqual(sampledDisagreements.pairs, [
      { primaryScore: 0.1, shadowScore: 0.9, primaryDecision: 'allow', shadowDecision: 'block', input: { i: 8 }, at: 1008 },
      { primaryScore: 0.1, shadowScore: 0.9, primaryDecision: 'allow', shadowDecision: 'block', input: { i: 9 }, at: 1009 },
      { primaryScore: 0.2, shadowScore: 0.8, primaryDecision: null, shadowDecision: null, input: null, at: 5 },
    ]);
  });

  it('keeps a tensor row it samples as a copy in plain numbers, whatever later happens to the view', () => {
    const c = new ShadowComparator({ maxDisagreementSamples: 2 });
    const buffer = new Float32Array([0.5, 1.5, 2.5, 3.5]);
    c.record(pair(0.1, 0.9, { input: { features: buffer.subarray(1, 3) } }));
    c.record(pair(0.2, 0.21, { input: { features: buffer.subarray(0, 2) } })); // agrees: not kept
    buffer.fill(0);
    const kept = c.summary().sampledDisagreements.pairs;
    assert.equal(kept.length, 1);
    assert.deepEqual(kept[0]!.input, { features: [1.5, 2.5] });
    assert.equal(JSON.parse(JSON.stringify(kept[0]!.input)).features[1], 2.5);
  });

  it('refuses a malformed pair or option with the field at fault', () => {
    const c = new ShadowComparator();
    assert.throws(() => c.record(pair(NaN, 0.5)), /field "primaryScore" must be a finite number, got NaN/);
    assert.throws(() => c.record({ ...pair(0.5, 0.5), shadowScore: '0.5' as unknown as number }), /field "shadowScore" must be a finite number, got "0.5"/);
    assert.throws(() => c.record(pair(0.5, 0.5, { shadowLatencyMs: -1 })), /field "shadowLatencyMs" must be a finite number >= 0, got -1/);
    assert.throws(() => c.record(pair(0.5, 0.5, { primaryDecision: 3 as unknown as string })), /field "primaryDecision" must be a string when given/);
    assert.equal(c.summary().totals.pairs, 0);
    assert.throws(() => new ShadowComparator({ windowSize: 0 }), /windowSize must be an integer >= 1, got 0/);
    assert.throws(() => new ShadowComparator({ edges: [0, 1, 1] }), /edges must be strictly increasing/);
    assert.throws(() => new ShadowComparator({ tolerance: -0.1 }), /tolerance must be a number >= 0/);
  });
});
