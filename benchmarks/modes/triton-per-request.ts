// Mode (a) of the Triton scenario: what a Node service does without infergate, given a Triton
// cluster — preprocess each record and send it alone, one ModelInfer with a [1, 40] FP32 tensor in
// raw_input_contents, as soon as it arrives (as many in flight as arrive). The gRPC client is the
// project's own (ReplicaPool.infer over @grpc/grpc-js): the same channel, options and code path the
// batched modes use, so the comparison is of one call per request against one call per batch.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ReplicaPool } from '../../src/backends/triton/replica-pool';
import { resolveTritonOptions } from '../../src/backends/triton/triton-options';
import { stderrLogger } from '../../src/observability/logger';
import { Preprocessor } from '../../src/preprocess/preprocessor';
import { PREPROCESS_FILE, SCORE_INDEX, SCORE_OUTPUT, TRITON_MODEL, TRITON_VERSION, cycle, recordPool } from './fraud';
import type { BatchCounters, ModeHandle } from './mode';
import { TritonStatistics } from './triton-statistics';

export async function openTritonPerRequest(endpoint: string): Promise<ModeHandle> {
  const pre = new Preprocessor(readFileSync(PREPROCESS_FILE, 'utf8'), PREPROCESS_FILE, 'fraud');
  const pool = new ReplicaPool(resolveTritonOptions({ endpoints: [endpoint] }), stderrLogger);
  pool.watch({ name: TRITON_MODEL, version: TRITON_VERSION });
  await pool.start();
  if (!pool.available) {
    pool.close();
    throw new Error(`Triton ${endpoint} is not ready: ${pool.stats().map((s) => s.lastError || s.health).join('; ')}`);
  }
  const statistics = new TritonStatistics(endpoint, TRITON_MODEL, TRITON_VERSION);
  // Counted from the calls actually answered: each is a batch of one row.
  const counters: BatchCounters = { requests: 0, batches: 0, rows: 0 };
  const next = cycle(recordPool());
  const outputBytes = 2 * Float32Array.BYTES_PER_ELEMENT;
  return {
    async send() {
      const row = pre.one(next());
      const response = await pool.infer(
        {
          model_name: TRITON_MODEL,
          model_version: TRITON_VERSION,
          inputs: [{ name: pre.outputName, datatype: 'FP32', shape: [1, pre.width] }],
          outputs: [{ name: SCORE_OUTPUT }],
          raw_input_contents: [Buffer.from(row.buffer, row.byteOffset, row.byteLength)],
        },
        performance.now() + pool.options.defaultTimeoutMs,
      );
      const raw = response.raw_output_contents[0];
      if (!raw || raw.length !== outputBytes) throw new Error(`Triton answered ${raw?.length ?? 0} bytes of "${SCORE_OUTPUT}", expected ${outputBytes}`);
      counters.requests++;
      counters.batches++;
      counters.rows++;
      return raw.readFloatLE(SCORE_INDEX * Float32Array.BYTES_PER_ELEMENT);
    },
    counters: () => ({ ...counters }),
    tritonCounters: () => statistics.read(),
    close: async () => {
      statistics.close();
      pool.close();
    },
  };
}
