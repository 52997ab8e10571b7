// A KServe v2 inference response over HTTP, as Triton writes it: each output as JSON `data`, as
// binary data after the JSON header (its size in `parameters.binary_data_size`), or written into a
// shared-memory region (then the output carries neither data nor parameters). Outputs appear in the
// model's config order, and the binary tensors in the order of the JSON outputs.

import { invalidArgument } from '../../errors';
import { encodeRaw } from '../../backends/triton/tensor-codec';
import type { ModelConfig } from '../../repository/model-config';
import { type Tensor, toJsonData } from '../../tensor';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import type { HttpInferRequest, RequestedOutput } from './infer-request';
import { requireRegistry } from './shared-memory-ref';

/** Datatypes JSON numbers cannot carry faithfully: only binary data or shared memory. */
const BINARY_ONLY = new Set(['FP16', 'BF16']);

/** The outputs to compute, each with how it travels back; checked before the model runs. */
export function plannedOutputs(request: HttpInferRequest, config: ModelConfig, registry: SharedMemoryRegistry | undefined): RequestedOutput[] {
  const model = config.name;
  const wanted =
    request.outputs ??
    config.outputs.map((o, i) => ({ name: o.name, binary: request.binaryByDefault, sharedMemory: undefined, at: `outputs[${i}]` }));
  for (const out of wanted) {
    const spec = config.outputs.find((o) => o.name === out.name);
    if (!spec) {
      throw invalidArgument(`model "${model}" has no output "${out.name}"; its outputs are: ${config.outputs.map((o) => o.name).join(', ')}`, {
        field: out.name,
        model,
      });
    }
    if (BINARY_ONLY.has(spec.datatype) && !out.binary && !out.sharedMemory) {
      const how = request.outputs ? `set ${out.at}.parameters.binary_data to true` : 'set the request parameter binary_data_output to true';
      throw invalidArgument(`output "${out.name}" is ${spec.datatype}, which JSON cannot carry: ${how}`, { field: out.name, model });
    }
    if (out.sharedMemory) {
      // The region must exist and hold the range now; the size is checked again once the output is known.
      const { region, offset, byteSize } = out.sharedMemory;
      requireRegistry(registry, out.at, model).view(region, offset, byteSize);
    }
  }
  const order = new Map(config.outputs.map((o, i) => [o.name, i]));
  return [...wanted].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
}

export interface EncodedResponse {
  header: Buffer;
  /** Binary tensors, in the order of the JSON outputs that declare binary_data_size. */
  binary: Buffer[];
}

export function encodeInferResponse(
  model: string,
  version: string,
  id: string | undefined,
  planned: readonly RequestedOutput[],
  results: Record<string, Tensor>,
  registry: SharedMemoryRegistry | undefined,
): EncodedResponse {
  const binary: Buffer[] = [];
  const outputs = planned.map((out) => {
    const t = results[out.name];
    if (!t) throw invalidArgument(`model "${model}" did not produce output "${out.name}"`, { field: out.name, model });
    const head = { name: out.name, datatype: t.datatype, shape: t.shape };
    if (out.sharedMemory) {
      const raw = encodeRaw(t);
      const { region, offset, byteSize } = out.sharedMemory;
      if (raw.length > byteSize) {
        throw invalidArgument(
          `${out.at}.parameters.shared_memory_byte_size: output "${out.name}" needs ${raw.length} bytes, the request gives ${byteSize}`,
          { field: `${out.at}.parameters.shared_memory_byte_size`, model },
        );
      }
      raw.copy(requireRegistry(registry, out.at, model).view(region, offset, raw.length));
      return head;
    }
    if (out.binary) {
      const raw = encodeRaw(t);
      binary.push(raw);
      return { ...head, parameters: { binary_data_size: raw.length } };
    }
    return { ...head, data: toJsonData(t) };
  });
  const body = { model_name: model, model_version: version, ...(id !== undefined ? { id } : {}), outputs };
  return { header: Buffer.from(JSON.stringify(body), 'utf8'), binary };
}
