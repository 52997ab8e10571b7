// A model's answer as a ModelInferResponse: each output's metadata in `outputs`, its bytes in the
// raw_output_contents entry of the same index, or, for an output the client asked to receive in
// shared memory, written into that region with an empty raw entry in its place (tritonclient finds
// an output's bytes by its position, so positions must not shift).

import type * as m from '../../backends/triton/messages';
import type { MessageInit } from '../../backends/triton/proto';
import { encodeRaw } from '../../backends/triton/tensor-codec';
import { invalidArgument } from '../../errors';
import type { TensorInferResult } from '../../runtime/model';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import { type RequestedOutput, viewOf } from './infer-request';

export interface InferResponseContext {
  model: string;
  id: string;
  /** As requested; undefined: every output the model returned, in its order. */
  outputs: RequestedOutput[] | undefined;
}

const EMPTY = Buffer.alloc(0);

export function inferResponse(
  result: TensorInferResult,
  ctx: InferResponseContext,
  registry: SharedMemoryRegistry,
): MessageInit<m.ModelInferResponse> {
  const wanted: RequestedOutput[] = ctx.outputs ?? Object.keys(result.outputs).map((name) => ({ name, sharedMemory: undefined }));
  const outputs: MessageInit<m.InferOutputTensor>[] = [];
  const raw: Buffer[] = [];
  for (const o of wanted) {
    const t = result.outputs[o.name];
    if (!t) throw invalidArgument(`output "${o.name}" was not produced by model "${ctx.model}"`, { field: o.name, model: ctx.model });
    const bytes = encodeRaw(t);
    outputs.push({ name: o.name, datatype: t.datatype, shape: t.shape });
    if (!o.sharedMemory) {
      raw.push(bytes);
      continue;
    }
    const what = `output "${o.name}"`;
    // Looked up again: the region may have been unregistered while the model ran.
    const target = viewOf(registry, o.sharedMemory, what, o.name, ctx.model);
    if (bytes.length > target.length) {
      throw invalidArgument(
        `${what} needs ${bytes.length} bytes but shared memory region "${o.sharedMemory.region}" gives it ${target.length} (shared_memory_byte_size)`,
        { field: o.name, model: ctx.model },
      );
    }
    bytes.copy(target);
    raw.push(EMPTY);
  }
  return { model_name: ctx.model, model_version: result.modelVersion, id: ctx.id, outputs, raw_output_contents: raw };
}
