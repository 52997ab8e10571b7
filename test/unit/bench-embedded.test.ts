// The embedded benchmark's flags and the interleaved host-cost part of its report (the benchmark
// itself is run by `npm run bench -- embedded`, not by the tests).

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { type EmbeddedResult, embeddedSettings, parseEmbeddedArgs } from '../../benchmarks/embedded';
import { embeddedMarkdown } from '../../benchmarks/embedded-report';
import type { HostCostResult } from '../../benchmarks/host-cost';

const machine = { cpus: 2, cpuModel: 'cpu', memoryGiB: 4, platform: 'linux', node: 'v20', loadAverage: [0, 0, 0] };

function result(hostCost?: HostCostResult): EmbeddedResult {
  const none = {};
  return {
    machine,
    loadAverageAfter: [0, 0, 0],
    elapsedS: 1,
    settings: embeddedSettings({ quick: false, threads: 2 }),
    modes: [],
    summary: {
      compareAtRate: 800,
      maxRateAtSlo: none,
      maxRateRatioInfergateOverOrtMain: null,
      eventLoopUsPerRequestAtCompareRate: none,
      eventLoopNetUsPerRequestAtCompareRate: none,
      eventLoopNetRatioInfergateOverOrtMain: null,
      eventLoopRatioInfergateOverOrtMain: null,
      loadedRate: 20000,
      mainThreadCpuNetUsPerRequestAtCompareRate: none,
      mainThreadCpuNetUsPerRequestAtLoadedRate: none,
      eventLoopNetUsPerRequestAtLoadedRate: none,
      highRate: 80000,
      eventLoopNetUsPerRequestAtHighRate: none,
    },
    coreScaling: [],
    ...(hostCost ? { hostCost } : {}),
  };
}

describe('embedded benchmark: flags and the interleaved host cost', () => {
  it('runs three interleaved rounds in a full run and none with --quick, unless told otherwise', () => {
    assert.equal(parseEmbeddedArgs([]).hostCostRounds, 3);
    assert.equal(parseEmbeddedArgs(['--quick']).hostCostRounds, 0);
    assert.equal(parseEmbeddedArgs(['--host-cost-rounds=5']).hostCostRounds, 5);
    assert.equal(parseEmbeddedArgs(['--quick', '--host-cost-rounds', '1']).hostCostRounds, 1);
    assert.equal(parseEmbeddedArgs(['--host-cost-rounds=0']).hostCostRounds, 0);
    for (const bad of ['-1', '1.5', 'x']) {
      assert.throws(() => parseEmbeddedArgs([`--host-cost-rounds=${bad}`]), /--host-cost-rounds must be a non-negative integer/);
    }
  });

  it('quotes the interleaved medians in its summary and gives their rounds a section, only when they ran', () => {
    const hostCost: HostCostResult = {
      machine,
      loadAverageAfter: [0, 0, 0],
      elapsedS: 1,
      options: { rates: [20000, 80000], rounds: 3 },
      cells: [
        { round: 1, rate: 20000, mode: 'baseline', p99Ms: 1, pass: true, eventLoopUsPerRequest: 2, eventLoopNetUsPerRequest: 0, mainThreadCpuUsPerRequest: 3, mainThreadCpuNetUsPerRequest: 0, meanBatchSize: null },
        { round: 1, rate: 20000, mode: 'infergate', p99Ms: 3, pass: true, eventLoopUsPerRequest: 3.6, eventLoopNetUsPerRequest: 1.6, mainThreadCpuUsPerRequest: 4, mainThreadCpuNetUsPerRequest: 1, meanBatchSize: 24 },
      ],
      medians: [
        { rate: 20000, mode: 'ort-main', eventLoopNetUsPerRequest: 25, mainThreadCpuNetUsPerRequest: 24 },
        { rate: 20000, mode: 'infergate', eventLoopNetUsPerRequest: 1.6, mainThreadCpuNetUsPerRequest: 1 },
        { rate: 80000, mode: 'infergate', eventLoopNetUsPerRequest: 1.8, mainThreadCpuNetUsPerRequest: 1.5 },
      ],
    };
    const md = embeddedMarkdown(result(hostCost), 'npm run bench -- embedded');
    assert.match(md, /medians of 3: infergate costs the host's event loop \*\*1\.6 µs at 20000\/s, 1\.8 µs at 80000\/s\*\* per request; ort-main 25 µs at 20000\/s/);
    assert.ok(md.indexOf('## Host cost per request, interleaved rounds') < md.indexOf('### Medians over the rounds'));
    assert.match(md, /\| 1 \| 20000 \| \(c\) infergate embedded \| 3 \| 3\.6 \| 1\.6 \| 4 \| 1 \| 24 \|/);
    const without = embeddedMarkdown(result(), 'npm run bench -- embedded');
    assert.doesNotMatch(without, /interleaved/i);
  });
});
