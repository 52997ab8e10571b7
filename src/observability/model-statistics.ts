// Triton-shaped statistics of one model version (what ModelStatistics and GET
// /v2/models/{name}/stats report, and what /metrics exports under Triton's nv_* names), plus
// infergate's own counters. Cumulative since the version was loaded; durations in nanoseconds.

export interface DurationStat {
  count: number;
  ns: number;
}

export interface InferStatistics {
  /** Requests answered successfully, and their total time from arrival to answer. */
  success: DurationStat;
  /** Requests that failed after admission (and those refused at admission), and their time. */
  fail: DurationStat;
  /** Time requests waited in the batcher before their batch was taken by an executor. */
  queue: DurationStat;
  /** infergate preprocesses while batching, so input and output handling count zero here. */
  compute_input: DurationStat;
  /** Time executors (local ORT, or the Triton call) spent running batches; counted per batch. */
  compute_infer: DurationStat;
  compute_output: DurationStat;
  cache_hit: DurationStat;
  cache_miss: DurationStat;
}

export interface BatchStatistics {
  batch_size: number;
  compute_input: DurationStat;
  compute_infer: DurationStat;
  compute_output: DurationStat;
}

/** Failed requests by reason, as nv_inference_request_failure{reason} reports them. */
export interface FailureCounts {
  /** Refused at admission: queue full (HTTP 429 / RESOURCE_EXHAUSTED). */
  rejected: number;
  /** Deadline could not be met, or passed in the queue. */
  deadline: number;
  /** Invalid input (validation or preprocessing). */
  invalid: number;
  /** The backend failed (executor crash, Triton unavailable or error). */
  backend: number;
  /** Shutting down. */
  canceled: number;
}

export interface VersionStatistics {
  name: string;
  version: string;
  /** Milliseconds since the epoch of the last answered request; 0 if none. */
  last_inference: number;
  /** Requests executed (rows run). */
  inference_count: number;
  /** Batches executed. */
  execution_count: number;
  inference_stats: InferStatistics;
  /** Per batch size that occurred. */
  batch_stats: BatchStatistics[];
  failures: FailureCounts;
  /** Requests admitted and not yet answered. */
  pending: number;
  /** Sealed batches waiting for an executor. */
  readyBatches: number;
  /** Request latency (arrival to answer) histogram: upper bounds in µs (the last is +Inf), counts per bucket (not cumulative). */
  latency: { boundsUs: number[]; counts: number[] };
  /** Served from the local fallback because no Triton replica is available. */
  degraded: boolean;
}
