// The host-cost benchmark's flags and report (the benchmark itself is run by
// `npm run bench -- host-cost`, not by the tests).

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { type HostCostResult, hostCostMarkdown, parseHostCostArgs } from '../../benchmarks/host-cost';

describe('host-cost benchmark', () => {
  it('runs 20,000/s and 80,000/s for five rounds unless told otherwise, and names a bad flag', () => {
    assert.deepEqual(parseHostCostArgs([]), { rates: [20000, 80000], rounds: 5 });
    assert.deepEqual(parseHostCostArgs(['--rates=5000', '--rounds=2']), { rates: [5000], rounds: 2 });
    assert.throws(() => parseHostCostArgs(['--rates=5000,x']), /--rates must be positive integers/);
    assert.throws(() => parseHostCostArgs(['--rounds=0']), /--rounds must be a positive integer/);
  });

  it('reports the medians over the rounds first, then every step', () => {
    const result: HostCostResult = {
      machine: { cpus: 2, cpuModel: 'cpu', memoryGiB: 4, platform: 'linux', node: 'v20', loadAverage: [0, 0, 0] },
      loadAverageAfter: [0, 0, 0],
      elapsedS: 1,
      options: { rates: [20000], rounds: 1 },
      cells: [
        { round: 1, rate: 20000, mode: 'baseline', p99Ms: 1, pass: true, eventLoopUsPerRequest: 2, eventLoopNetUsPerRequest: 0, mainThreadCpuUsPerRequest: 3, mainThreadCpuNetUsPerRequest: 0, meanBatchSize: null },
        { round: 1, rate: 20000, mode: 'infergate', p99Ms: 3, pass: true, eventLoopUsPerRequest: 4, eventLoopNetUsPerRequest: 2, mainThreadCpuUsPerRequest: 5, mainThreadCpuNetUsPerRequest: 2, meanBatchSize: 24 },
      ],
      medians: [{ rate: 20000, mode: 'infergate', eventLoopNetUsPerRequest: 2, mainThreadCpuNetUsPerRequest: 2 }],
    };
    const md = hostCostMarkdown(result, 'npm run bench -- host-cost');
    assert.ok(md.indexOf('| 20000 | (c) infergate embedded | **2** | 2 |') < md.indexOf('## Every step'));
    assert.match(md, /\| 1 \| 20000 \| \(0\) generator only \| 1 \| 2 \| 0 \| 3 \| 0 \| – \|/);
  });
});
