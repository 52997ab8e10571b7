// The one interface every executor implements: run a batch of named input tensors, return the
// requested output tensors. A backend knows nothing of records, HTTP or gRPC.

import type { Tensor } from '../tensor';

export interface Backend {
  /** For logs and metadata: "onnxruntime", "triton", ... */
  readonly kind: string;
  /** Runs one batch; tensors carry the batch dimension first where the model has one. */
  infer(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<Record<string, Tensor>>;
  /** Waits for nothing: callers drain their requests first. Releases sessions and memory. */
  close(): Promise<void>;
}
