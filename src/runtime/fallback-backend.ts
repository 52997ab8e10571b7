// Caller-batched tensors for a model served by Triton with a local fallback: Triton first; when no
// replica can take the call (unavailable), the local ONNX Runtime session answers instead.

import type { Backend, BackendCallOptions } from '../backends/backend';
import { InferError } from '../errors';
import type { Tensor } from '../tensor';

export class FallbackBackend implements Backend {
  readonly kind: string;
  /** Calls the local session answered because Triton was unavailable. */
  fallbacks = 0;

  /** The remote's server version, when it reports one (prediction logs name it). */
  get serverVersion(): string | undefined {
    return (this.primary as { serverVersion?: string }).serverVersion;
  }

  constructor(
    private readonly primary: Backend,
    private readonly local: Backend,
  ) {
    this.kind = `${primary.kind}+${local.kind}`;
  }

  async infer(inputs: Record<string, Tensor>, outputs: readonly string[], options?: BackendCallOptions): Promise<Record<string, Tensor>> {
    try {
      return await this.primary.infer(inputs, outputs, options);
    } catch (err) {
      if (!(err instanceof InferError) || err.code !== 'unavailable') throw err;
      this.fallbacks++;
      return this.local.infer(inputs, outputs, options);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.local.close()]);
  }
}
