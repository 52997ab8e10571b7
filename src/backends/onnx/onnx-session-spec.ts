// How a worker opens an ONNX Runtime session for one model version. Plain data: it crosses threads.

export interface OnnxSessionSpec {
  /** Identifies the session inside a worker (one per model version and options). */
  key: string;
  file: string;
  intraOpThreads: number;
  executionProviders: string[];
}

export interface TensorDescription {
  name: string;
  /** ONNX Runtime's element type name, e.g. "float32"; undefined for non-tensor values. */
  type: string | undefined;
}

export interface SessionDescription {
  inputs: TensorDescription[];
  outputs: TensorDescription[];
}
