// Modes (b) and (c) of the Triton scenario: infergate's embedded API with the Triton backend, exactly
// as a service calls it — model.infer(record) per request; the native batcher seals batches and the
// forwarder sends each as one ModelInfer, its slab as raw contents (b) or, with system shared memory,
// named by offset in a region Triton reads and writes in place (c). Batching is read from
// model.stats(). INFERGATE_BENCH_BATCHING (JSON of Runtime.load's `batching`) tries other settings
// without an edit.

import { Runtime } from '../../src/index';
import { REPOSITORY, TRITON_MODEL, TRITON_VERSION, cycle, recordPool } from './fraud';
import type { ModeHandle } from './mode';
import { TritonStatistics } from './triton-statistics';

export async function openTritonBatched(endpoint: string, sharedMemory: boolean): Promise<ModeHandle> {
  const batching = process.env.INFERGATE_BENCH_BATCHING;
  const rt = await Runtime.load({
    repository: REPOSITORY,
    models: ['fraud'],
    backend: 'triton',
    triton: { endpoints: [endpoint], sharedMemory },
    ...(batching ? { batching: JSON.parse(batching) as object } : {}),
  });
  const model = rt.model('fraud');
  const statistics = new TritonStatistics(endpoint, TRITON_MODEL, TRITON_VERSION);
  const next = cycle(recordPool());
  return {
    send: () => model.infer(next()),
    counters: () => {
      const s = model.stats();
      return { requests: s.requests, batches: s.batches, rows: s.rows };
    },
    tritonCounters: () => statistics.read(),
    close: async () => {
      statistics.close();
      await rt.close();
    },
  };
}
