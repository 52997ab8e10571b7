// The rollout benchmark's own arithmetic and flags (the benchmark itself is run by
// `npm run bench -- rollout`, not by the tests).

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseRolloutArgs, rolloutSettings } from '../../benchmarks/rollout';
import type { LoadStep, LogStep, RollbackSeries, ShadowStep, SwapStep } from '../../benchmarks/rollout-results';
import { summarizeRollout } from '../../benchmarks/rollout-summary';

function step(round: number, rate: number, p99Ms: number, eventLoopUs: number, errors = 0): LoadStep {
  return {
    round,
    rate,
    latency: { count: 100, p50Ms: p99Ms / 4, p95Ms: p99Ms / 2, p99Ms, maxMs: p99Ms * 2, meanMs: p99Ms / 4 },
    errors,
    firstError: null,
    generatorDrops: 0,
    unfinished: 0,
    aborted: null,
    achievedRate: rate,
    sendLagP99Ms: 1,
    eventLoopUsPerRequest: eventLoopUs,
    mainThreadCpuUsPerRequest: eventLoopUs,
    processCpuCores: 0.5,
  };
}

describe('rollout benchmark', () => {
  it('runs three rounds (one with --quick) and refuses an unknown flag or a bad round count, naming it', () => {
    assert.deepEqual(parseRolloutArgs([]), { quick: false, rounds: 3 });
    assert.deepEqual(parseRolloutArgs(['--quick']), { quick: true, rounds: 1 });
    assert.deepEqual(parseRolloutArgs(['--rounds=5']), { quick: false, rounds: 5 });
    assert.throws(() => parseRolloutArgs(['--rounds=0']), /--rounds must be an integer in 1\.\.20, got "0"/);
    assert.throws(() => parseRolloutArgs(['--rate=9']), /rollout: unknown flag "--rate=9"/);
  });

  it('summarizes each mode by its median over rounds and divides by the reference mode', () => {
    const s = { ...rolloutSettings({ quick: true, rounds: 3 }), shadowRates: [1000] };
    const copies = (offered: number, dropped: number) => ({ offered, sent: offered - dropped, dropped, queued: 0, inFlight: 0, failed: 0 });
    const shadow: ShadowStep[] = [1, 2, 3].flatMap((round) => [
      { ...step(round, 1000, [4, 2, 3][round - 1]!, 20), mode: 'none' as const, shadow: null },
      { ...step(round, 1000, [6, 5, 4][round - 1]!, 30), mode: 'shadow' as const, shadow: copies(100, 0) },
      { ...step(round, 1000, 3, 40), mode: 'saturated' as const, shadow: copies(100, 70) },
    ]);
    const swap: SwapStep[] = [
      { ...step(1, 2000, 4, 10), mode: 'steady', reloads: [], reloadsAfterWindow: 0, answersByVersion: { '1': 10 } },
      {
        ...step(1, 2000, 8, 12),
        mode: 'swapping',
        reloads: [
          { version: 2, ms: 30, startedAtMs: 100 },
          { version: 3, ms: 50, startedAtMs: 200 },
          { version: 4, ms: 40, startedAtMs: 300 },
        ],
        reloadsAfterWindow: 0,
        answersByVersion: { '1': 3, '2': 3, '3': 3, '4': 1 },
      },
    ];
    const rollback: RollbackSeries[] = [
      {
        kind: 'reload',
        load: step(1, 1000, 9, 50, 0),
        rollbacks: [
          { from: 2, to: 1, reloaded: true, ms: 30, callMs: 31, startedAtMs: 10 },
          { from: 1, to: 2, reloaded: true, ms: 1200, callMs: 1201, startedAtMs: 900 },
        ],
        rollbacksAfterWindow: 0,
        answersByVersion: {},
      },
    ];
    const log = (mode: string, sampleInputs: number | null, eventLoopUs: number): LogStep => ({
      ...step(1, 2000, 4, eventLoopUs),
      mode,
      sampleInputs,
      linesWritten: sampleInputs === null ? 0 : 1000,
      linesDropped: 0,
      ioErrors: 0,
      bytes: sampleInputs === null ? 0 : 445_000,
    });
    const summary = summarizeRollout(s, shadow, swap, rollback, [log('no log', null, 40), log('log', 0, 120)]);

    const at1000 = summary.shadow[0]!;
    assert.equal(at1000.cells.none.p99Ms, 3, 'the median of 4, 2, 3');
    assert.equal(at1000.cells.shadow.p99Ms, 5);
    assert.equal(at1000.ratios.shadow.p99, 1.67);
    assert.equal(at1000.ratios.saturated.eventLoopUsPerRequest, 2);
    assert.deepEqual(at1000.copies.saturated, { offered: 300, sent: 90, dropped: 210, failed: 0 });

    assert.equal(summary.swap.ratios.p99, 2);
    assert.deepEqual(summary.swap.reloads, { count: 3, medianMs: 40, maxMs: 50, startedAfterWindow: 0 });
    assert.equal(summary.swap.versionsAnswered, 4);

    const r = summary.rollback.kinds[0]!;
    assert.equal(r.medianMs, 615);
    assert.equal(r.maxMs, 1200);
    assert.equal(r.underTarget, false, 'one rollback took over a second');

    const logged = summary.predictionLog.modes.find((m) => m.mode === 'log')!;
    assert.equal(logged.ratio.eventLoopUsPerRequest, 3);
    assert.equal(logged.bytesPerLine, 445);
  });
});
