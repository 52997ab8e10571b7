// A host application's worker_thread that keeps scoring records through an attached model while
// the main thread reloads and rolls the model back (test/integration/rollouts.test.ts). It posts
// its progress every 50 answers and a final report when told to stop.

import { parentPort, workerData } from 'node:worker_threads';
import { AttachedModel, type SharedModelHandle } from '../../src/index';

export interface SwapProducerProgress {
  answered: number;
  failed: number;
  errors: string[];
  /** Answers per version. */
  byVersion: Record<string, number>;
  done: boolean;
}

// `node --test dist/test/` loads this file on the main thread too: there is nothing to do then.
if (parentPort) {
  const { handle, records, window } = workerData as { handle: SharedModelHandle; records: unknown[]; window: number };
  const port = parentPort;
  const model = AttachedModel.attach(handle);
  const progress: SwapProducerProgress = { answered: 0, failed: 0, errors: [], byVersion: {}, done: false };
  let stopping = false;
  let outstanding = 0;
  let i = 0;
  const finish = () => {
    progress.done = true;
    model.detach();
    port.postMessage(progress);
  };
  const pump = () => {
    while (!stopping && outstanding < window) {
      const record = records[i++ % records.length];
      outstanding++;
      model.infer(record).then(
        (r) => {
          progress.byVersion[r.modelVersion] = (progress.byVersion[r.modelVersion] ?? 0) + 1;
        },
        (err: Error) => {
          progress.failed++;
          if (progress.errors.length < 5) progress.errors.push(err.message);
        },
      ).finally(() => {
        outstanding--;
        if (++progress.answered % 50 === 0) port.postMessage(progress);
        if (stopping && outstanding === 0) finish();
        else pump();
      });
    }
  };
  port.on('message', (m) => {
    if (m !== 'stop') return;
    stopping = true;
    if (outstanding === 0) finish();
  });
  pump();
}
