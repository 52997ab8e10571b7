import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DriftMonitor, type DriftChange } from '../../src/observability/drift-monitor';
import { readScoreReference } from '../../src/observability/score-reference';
import { MODELS } from '../helpers';
import { closeTo, referenceStatistics, seeded } from '../support/score-statistics';

const reference = readScoreReference(path.join(MODELS, 'fraud', 'reference_scores.json'));

/** Scores drawn from the reference histogram itself: a bin by its share, then a point inside it. */
function referenceScores(count: number, seed: number): number[] {
  const rnd = seeded(seed);
  const cumulative: number[] = [];
  reference.counts.reduce((sum, c) => (cumulative.push(sum + c), sum + c), 0);
  return Array.from({ length: count }, () => {
    const target = rnd() * reference.n;
    const bin = cumulative.findIndex((c) => c > target);
    const lo = reference.edges[bin] as number;
    const hi = reference.edges[bin + 1] as number;
    return lo + rnd() * (hi - lo);
  });
}

/** A different model's scores: spread over [0.1, 0.5], where the reference has little mass. */
function shiftedScores(count: number, seed: number): number[] {
  const rnd = seeded(seed);
  return Array.from({ length: count }, () => 0.1 + rnd() * 0.4);
}

describe('drift monitor', () => {
  it('stays ok on scores distributed like the reference', () => {
    const changes: DriftChange[] = [];
    const monitor = new DriftMonitor(reference, { onChange: (e) => changes.push(e) });
    referenceScores(12_000, 1).forEach((s) => monitor.observe(s));
    const state = monitor.state();
    assert.equal(state.level, 'ok');
    assert.ok((state.psi as number) < 0.1, `PSI ${state.psi}`);
    assert.deepEqual({ ...state, psi: 0 }, { psi: 0, level: 'ok', samples: 5000, windowSize: 5000, warnAt: 0.1, alertAt: 0.25 });
    assert.deepEqual(
      changes.map(({ from, to }) => [from, to]),
      [['insufficient', 'ok']],
    );
  });

  it('is insufficient below minSamples', () => {
    const monitor = new DriftMonitor(reference, { minSamples: 500, checkEvery: 1 });
    assert.deepEqual(monitor.state(), { psi: null, level: 'insufficient', samples: 0, windowSize: 5000, warnAt: 0.1, alertAt: 0.25 });
    const scores = referenceScores(500, 2);
    scores.slice(0, 499).forEach((s) => monitor.observe(s));
    assert.equal(monitor.state().level, 'insufficient');
    assert.equal(monitor.state().samples, 499);
    monitor.observe(scores[499] as number);
    assert.equal(monitor.state().level, 'ok');
  });

  it('warns, then alerts as shifted scores fill the window, reporting each change once; eviction brings it back to ok', () => {
    const changes: DriftChange[] = [];
    const levels: string[] = [];
    const monitor = new DriftMonitor(reference, {
      windowSize: 1000,
      minSamples: 200,
      checkEvery: 10,
      onChange: (e) => {
        changes.push(e);
        levels.push(monitor.state().level); // the change is in effect when reported
      },
    });
    referenceScores(1000, 3).forEach((s) => monitor.observe(s));
    assert.equal(monitor.state().level, 'ok');
    shiftedScores(300, 4).forEach((s) => monitor.observe(s));
    assert.equal(monitor.state().level, 'alert');
    // Asking again reports nothing new.
    monitor.state();
    monitor.state();
    referenceScores(1000, 5).forEach((s) => monitor.observe(s)); // evicts every shifted score
    assert.equal(monitor.state().level, 'ok');

    assert.deepEqual(
      changes.map(({ from, to }) => [from, to]),
      [
        ['insufficient', 'ok'],
        ['ok', 'warn'],
        ['warn', 'alert'],
        ['alert', 'warn'],
        ['warn', 'ok'],
      ],
    );
    assert.deepEqual(levels, ['ok', 'warn', 'alert', 'warn', 'ok']);
    const [, warn, alert] = changes as [DriftChange, DriftChange, DriftChange];
    assert.ok((warn.psi as number) >= 0.1 && (warn.psi as number) < 0.25, `warn at PSI ${warn.psi}`);
    assert.ok((alert.psi as number) >= 0.25, `alert at PSI ${alert.psi}`);
    assert.equal(alert.samples, 1000);
  });

  it('computes the window PSI as numpy does over the last windowSize scores', () => {
    const monitor = new DriftMonitor(reference, { windowSize: 800, minSamples: 100 });
    const scores = [...referenceScores(900, 6), ...shiftedScores(150, 7), 1.2, -0.1]; // the last two clamp
    scores.forEach((s) => monitor.observe(s));
    const window = scores.slice(-800);
    const ref = referenceStatistics({
      histogram: [{ values: window, edges: [...reference.edges] }],
      psi: [{ expected: [...reference.counts], actual: monitor.windowHistogram().counts, epsilon: 1e-4 }],
    });
    assert.deepEqual(monitor.windowHistogram().counts, ref.histogram?.[0]);
    const { psi } = monitor.state();
    assert.ok(closeTo(psi as number, ref.psi?.[0] as number), `PSI ${psi} vs numpy ${ref.psi?.[0]}`);
  });

  it('refuses bad options and scores, naming them', () => {
    assert.throws(() => new DriftMonitor({ edges: [0, 1], counts: [0] }), /reference has no observations/);
    assert.throws(() => new DriftMonitor({ edges: [0, 0.5, 1], counts: [1] }), /reference\.counts must hold one count per bin \(2\), got 1/);
    assert.throws(() => new DriftMonitor(reference, { windowSize: 100, minSamples: 200 }), /minSamples \(200\) must not exceed windowSize \(100\)/);
    assert.throws(() => new DriftMonitor(reference, { warnAt: 0.3, alertAt: 0.2 }), /alertAt must be a number >= warnAt/);
    assert.throws(() => new DriftMonitor(reference, { checkEvery: 0 }), /checkEvery must be an integer >= 1, got 0/);
    assert.throws(() => new DriftMonitor(reference).observe(NaN), /score must be a finite number, got NaN/);
  });
});
