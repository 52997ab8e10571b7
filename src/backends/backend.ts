// The one interface every executor implements: run a batch of named input tensors, return the
// requested output tensors. A backend knows nothing of records, HTTP or gRPC.

import type { Tensor } from '../tensor';

export interface BackendCallOptions {
  /** Give up after this long (remote backends pass it on as the call's deadline). */
  timeoutMs?: number;
  /** Cancels the call (remote backends cancel the RPC; local ones finish the run and drop it). */
  signal?: AbortSignal;
  /** KServe v2 request parameters, passed on by remote backends (a model may read them). */
  parameters?: Record<string, string | number | boolean>;
}

export interface Backend {
  /** For logs and metadata: "onnxruntime", "triton", ... */
  readonly kind: string;
  /** Runs one batch; tensors carry the batch dimension first where the model has one. */
  infer(inputs: Record<string, Tensor>, outputs: readonly string[], options?: BackendCallOptions): Promise<Record<string, Tensor>>;
  /** Waits for nothing: callers drain their requests first. Releases sessions and memory. */
  close(): Promise<void>;
}
