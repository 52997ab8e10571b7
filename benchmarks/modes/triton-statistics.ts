// The Triton server's own statistics of one model (ModelStatistics over gRPC), read before and after
// a benchmark step: the difference is what the server saw during the step — how many ModelInfer
// requests of how many rows, run in how many model executions once Triton's own dynamic batcher
// had grouped them, and where the server's time went. This is the server's account, not what the
// client believes it sent.

import * as grpc from '@grpc/grpc-js';
import { type GRPCInferenceServiceClient, type ModelStatistics, type StatisticDuration, inferenceService } from '../../src/backends/triton/proto';

const CALL_TIMEOUT_MS = 5000;

/** Cumulative counters of one model on one server. */
export interface TritonCounters {
  /** ModelInfer requests answered successfully. */
  requests: number;
  /** Rows in those requests (a request carrying a batch of n counts n). */
  rows: number;
  /** Model executions: one per batch Triton's scheduler formed. */
  executions: number;
  /** Time requests waited in Triton's queue, summed over requests, ns. */
  queueNs: number;
  /** Time the model took (input + infer + output), summed over executions, ns. */
  computeNs: number;
}

/** What the server saw over an interval (a step, or a whole mode). */
export interface TritonIntervalStats {
  requests: number;
  /** Rows per ModelInfer request, as Triton counted them. */
  rowsPerRequest: number | null;
  /** Rows per model execution, after Triton's own dynamic batching. */
  rowsPerExecution: number | null;
  /** Mean time a request waited in Triton's queue, µs. */
  queueUsPerRequest: number | null;
  /** Mean time of one model execution (Python backend round trip included), µs. */
  computeUsPerExecution: number | null;
}

export class TritonStatistics {
  private readonly client: GRPCInferenceServiceClient;

  constructor(
    private readonly endpoint: string,
    private readonly model: string,
    private readonly version: string,
  ) {
    this.client = new (inferenceService().Client)(endpoint, grpc.credentials.createInsecure());
  }

  read(): Promise<TritonCounters> {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
      this.client.ModelStatistics({ name: this.model, version: this.version }, new grpc.Metadata(), { deadline }, (err, res) => {
        const stats = res?.model_stats.find((s) => s.name === this.model);
        if (err || !stats) {
          reject(new Error(`ModelStatistics of "${this.model}" from Triton ${this.endpoint}: ${err ? err.details || err.message : 'no statistics for the model'}`));
          return;
        }
        resolve(countersOf(stats));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

function countersOf(s: ModelStatistics): TritonCounters {
  const ns = (d: StatisticDuration | null | undefined) => d?.ns ?? 0;
  let computeNs = 0;
  for (const b of s.batch_stats) computeNs += ns(b.compute_input) + ns(b.compute_infer) + ns(b.compute_output);
  return {
    requests: s.inference_stats?.success?.count ?? 0,
    rows: s.inference_count,
    executions: s.execution_count,
    queueNs: ns(s.inference_stats?.queue),
    computeNs,
  };
}

/** The server's view of the interval between two readings; null when either is missing. */
export function tritonInterval(before: TritonCounters | undefined, after: TritonCounters | undefined): TritonIntervalStats | null {
  if (!before || !after) return null;
  const requests = after.requests - before.requests;
  const rows = after.rows - before.rows;
  const executions = after.executions - before.executions;
  const per = (x: number, n: number, scale = 1) => (n > 0 ? Math.round((x / n / scale) * 100) / 100 : null);
  return {
    requests,
    rowsPerRequest: per(rows, requests),
    rowsPerExecution: per(rows, executions),
    queueUsPerRequest: per(after.queueNs - before.queueNs, requests, 1000),
    computeUsPerExecution: per(after.computeNs - before.computeNs, executions, 1000),
  };
}
