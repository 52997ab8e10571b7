// The embedded benchmark's --cores flag and its scaling table (the benchmark itself is run by
// `npm run bench -- embedded --cores=1,2`, not by the tests).

import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import { describe, it } from 'node:test';
import { type CoreScalingRow, coreScalingMarkdown, parseCoreCounts } from '../../benchmarks/core-scaling';

describe('embedded benchmark: scaling with cores', () => {
  it('takes distinct core counts from 1 to the CPUs available, and names the flag when one is out of range', () => {
    assert.deepEqual(parseCoreCounts(undefined), []);
    assert.deepEqual(parseCoreCounts('1,1'), [1]);
    const available = os.availableParallelism();
    assert.deepEqual(parseCoreCounts(`${available},1`), available === 1 ? [1] : [1, available]);
    for (const bad of ['0', `${available + 1}`, '1.5', 'two', '']) {
      assert.throws(() => parseCoreCounts(bad), /--cores: each count must be an integer from 1 to/);
    }
  });

  it('tabulates each count against the first: (c) over (a), and each mode over its own first row', () => {
    const rows: CoreScalingRow[] = [
      { cores: 1, cpus: '0', maxRateAtSlo: { 'ort-main': 20000, infergate: 40000 }, lowestFailingRate: { 'ort-main': 25000, infergate: 50000 }, infergateMeanBatchSize: 30 },
      { cores: 2, cpus: '0-1', maxRateAtSlo: { 'ort-main': 22000, infergate: 80000 }, lowestFailingRate: { 'ort-main': 25000, infergate: null }, infergateMeanBatchSize: 41.5 },
    ];
    const table = coreScalingMarkdown(rows, 5).filter((l) => l.startsWith('| 1 (') || l.startsWith('| 2 ('));
    assert.deepEqual(table, [
      '| 1 (0) | 20000/s | 40000/s | 2× | 1× | 1× | 30 |',
      '| 2 (0-1) | 22000/s | ≥ 80000/s | 3.64× | 1.1× | 2× | 41.5 |',
    ]);
    assert.deepEqual(coreScalingMarkdown([], 5), []);
  });
});
