// A host application's worker_thread that scores records through a model shared by the main
// thread (test/integration/batching.test.ts). It checks every answer against the record's own
// unbatched score and reports what it saw.

import { parentPort, workerData } from 'node:worker_threads';
import { AttachedModel, type SharedModelHandle } from '../../src/index';

interface Job {
  handle: SharedModelHandle;
  records: unknown[];
  expected: number[];
  count: number;
  offset: number;
  window: number;
}

export interface ProducerReport {
  answered: number;
  matched: number;
  /** Counts, and the first few as examples. */
  mismatched: number;
  failed: number;
  mismatches: string[];
  errors: string[];
  unmatchedDeliveries: number;
}

async function main(job: Job): Promise<ProducerReport> {
  const model = AttachedModel.attach(job.handle);
  const report: ProducerReport = { answered: 0, matched: 0, mismatched: 0, failed: 0, mismatches: [], errors: [], unmatchedDeliveries: 0 };
  const n = job.records.length;
  let sent = 0;
  await new Promise<void>((resolve) => {
    let outstanding = 0;
    const pump = () => {
      while (outstanding < job.window && sent < job.count) {
        const idx = (job.offset + sent * 7) % n;
        sent++;
        outstanding++;
        model.infer(job.records[idx]).then(
          (r) => {
            if (r.score === job.expected[idx]) {
              report.matched++;
              return;
            }
            report.mismatched++;
            if (report.mismatches.length < 5) report.mismatches.push(`record ${idx}: got ${r.score}, its own score is ${job.expected[idx]}`);
          },
          (err: Error) => {
            report.failed++;
            if (report.errors.length < 5) report.errors.push(err.message);
          },
        ).finally(() => {
          report.answered++;
          outstanding--;
          if (report.answered === job.count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  report.unmatchedDeliveries = model.unmatchedDeliveries;
  model.detach();
  return report;
}

main(workerData as Job).then(
  (r) => parentPort?.postMessage(r),
  (err: Error) =>
    parentPort?.postMessage({ answered: 0, matched: 0, mismatched: 0, failed: 1, mismatches: [], errors: [`producer crashed: ${err.stack}`], unmatchedDeliveries: 0 }),
);
