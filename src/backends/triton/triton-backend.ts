// The Backend face of a Triton-served model version, for caller-batched tensors (the KServe v2
// tensor API): one ModelInfer per call, tensors as raw contents. Record traffic takes the batched
// path (batch-forwarder.ts) instead.

import { InferError, internal } from '../../errors';
import type { ModelConfig } from '../../repository/model-config';
import type { Tensor } from '../../tensor';
import type { Backend, BackendCallOptions } from '../backend';
import type { ParameterInit } from './request-types';
import { TritonCallError } from './replica';
import { type ReplicaPool, TritonUnavailableError } from './replica-pool';
import { decodeRaw, encodeRaw } from './tensor-codec';

export class TritonBackend implements Backend {
  readonly kind = 'triton';

  constructor(
    private readonly pool: ReplicaPool,
    private readonly config: ModelConfig,
    private readonly remoteModel: string,
    private readonly remoteVersion: string,
  ) {}

  /** The Triton server's version, as its replicas reported it (undefined before any check). */
  get serverVersion(): string | undefined {
    return this.pool.replicas.find((r) => r.serverVersion !== undefined)?.serverVersion;
  }

  async infer(inputs: Record<string, Tensor>, outputs: readonly string[], options: BackendCallOptions = {}): Promise<Record<string, Tensor>> {
    const names = Object.keys(inputs);
    const parameters = inferParameters(options.parameters);
    // Triton's queue drops the request once its caller has given up (microseconds).
    if (options.timeoutMs !== undefined) parameters.timeout = { int64_param: Math.max(1, Math.floor(options.timeoutMs * 1000)) };
    const request = {
      model_name: this.remoteModel,
      model_version: this.remoteVersion,
      id: '',
      parameters,
      inputs: names.map((name) => {
        const t = inputs[name]!;
        return { name, datatype: t.datatype, shape: t.shape, parameters: {} };
      }),
      outputs: outputs.map((name) => ({ name, parameters: {} })),
      raw_input_contents: names.map((name) => encodeRaw(inputs[name]!)),
    };
    const deadlineAt = performance.now() + (options.timeoutMs ?? this.pool.options.defaultTimeoutMs);
    let response;
    try {
      response = await this.pool.infer(request, deadlineAt, options.signal);
    } catch (err) {
      throw asTensorError(err, this.config.name);
    }
    const out: Record<string, Tensor> = {};
    response.outputs.forEach((o, i) => {
      const raw = response.raw_output_contents[i];
      if (!raw) throw internal(`Triton's response carries no raw contents for output "${o.name}"`, { model: this.config.name });
      out[o.name] = decodeRaw(o.datatype as Tensor['datatype'], o.shape.map(Number), raw, o.name);
    });
    for (const name of outputs) {
      if (!out[name]) throw internal(`Triton's response has no output "${name}"`, { model: this.config.name });
    }
    return out;
  }

  async close(): Promise<void> {
    // The pool is the runtime's; it closes with it.
  }
}

/** Request parameters as KServe InferParameters: integers as int64, other numbers as double. */
function inferParameters(p: Record<string, string | number | boolean> | undefined): Record<string, ParameterInit> {
  const out: Record<string, ParameterInit> = {};
  for (const [k, v] of Object.entries(p ?? {})) {
    out[k] = typeof v === 'boolean' ? { bool_param: v } : typeof v === 'string' ? { string_param: v } : Number.isInteger(v) ? { int64_param: v } : { double_param: v };
  }
  return out;
}

function asTensorError(err: unknown, model: string): InferError {
  if (err instanceof TritonUnavailableError) return new InferError('unavailable', err.message, { model });
  if (err instanceof TritonCallError) {
    const code =
      err.grpcCode === 3 ? 'invalid_argument'
      : err.grpcCode === 4 ? 'deadline_exceeded'
      : err.grpcCode === 8 ? 'resource_exhausted'
      : err.grpcCode === 5 ? 'not_found'
      : err.grpcCode === 14 || err.grpcCode === 1 ? 'unavailable'
      : 'internal';
    return new InferError(code, err.message, { model });
  }
  return err instanceof InferError ? err : internal((err as Error).message, { model });
}
