// The Triton forwarding benchmark's own arithmetic and flags (the benchmark itself is run by
// `npm run bench -- triton`, not by the tests).

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { tritonInterval } from '../../benchmarks/modes/triton-statistics';
import { median, parseTritonArgs } from '../../benchmarks/triton';

describe('triton benchmark', () => {
  it("reads a step's batching from the difference of Triton's counters", () => {
    const before = { requests: 100, rows: 100, executions: 50, queueNs: 1_000_000, computeNs: 40_000_000 };
    const after = { requests: 110, rows: 740, executions: 60, queueNs: 1_500_000, computeNs: 50_000_000 };
    assert.deepEqual(tritonInterval(before, after), {
      requests: 10,
      rowsPerRequest: 64,
      rowsPerExecution: 64,
      queueUsPerRequest: 50,
      computeUsPerExecution: 1000,
    });
  });

  it('reports no ratio over an interval where nothing ran, and nothing without both readings', () => {
    const c = { requests: 5, rows: 5, executions: 5, queueNs: 0, computeNs: 0 };
    assert.deepEqual(tritonInterval(c, c), { requests: 0, rowsPerRequest: null, rowsPerExecution: null, queueUsPerRequest: null, computeUsPerExecution: null });
    assert.equal(tritonInterval(undefined, c), null);
  });

  it('runs every mode, three rounds (one with --quick), by default and refuses an unknown mode or flag, naming it', () => {
    const all = ['triton-per-request', 'triton-batched', 'triton-shm'];
    assert.deepEqual(parseTritonArgs([]), { quick: false, rounds: 3, modes: all });
    assert.deepEqual(parseTritonArgs(['--quick']), { quick: true, rounds: 1, modes: all });
    assert.deepEqual(parseTritonArgs(['--modes=triton-shm', '--rounds=2']), { quick: false, rounds: 2, modes: ['triton-shm'] });
    assert.throws(() => parseTritonArgs(['--modes=triton-fast']), /--modes: unknown mode "triton-fast"/);
    assert.throws(() => parseTritonArgs(['--rounds=0']), /--rounds must be an integer in 1\.\.20, got "0"/);
    assert.throws(() => parseTritonArgs(['--threads=2']), /unknown flag "--threads=2"/);
  });

  it('compares rounds by their median', () => {
    assert.equal(median([3000, 1000, 2000]), 2000);
    assert.equal(median([1000, 2000]), 1500);
    assert.equal(median([]), null);
  });
});
