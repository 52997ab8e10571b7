// A ModelInferRequest as infergate runs it: tensors from raw_input_contents, from typed contents or
// from a registered shared-memory region; the outputs asked for (some of them into shared memory);
// priority, timeout and the other request parameters. Every check happens here, before the model
// sees anything, and every error names the input or parameter and the model. No tensor is
// allocated from a shape alone: sizes are checked against the bytes actually received first.

import type * as m from '../../backends/triton/messages';
import { decodeRaw, elementBytes } from '../../backends/triton/tensor-codec';
import { InferError, invalidArgument } from '../../errors';
import type { Datatype } from '../../repository/model-config';
import type { TensorInferOptions } from '../../runtime/model';
import { type Tensor, type TensorData, elementCount } from '../../tensor';
import type { SharedMemoryRegistry } from '../shared-memory-registry';

const DATATYPES: ReadonlySet<string> = new Set<Datatype>([
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'BF16', 'FP32', 'FP64', 'BYTES',
]);

/** Where a tensor lives in client shared memory (parameters shared_memory_region / _offset / _byte_size). */
export interface SharedMemoryRef {
  region: string;
  offset: number;
  byteSize: number;
}

export interface RequestedOutput {
  name: string;
  /** Written into this region instead of raw_output_contents. */
  sharedMemory: SharedMemoryRef | undefined;
}

export interface DecodedInferRequest {
  inputs: Record<string, Tensor>;
  /** undefined: every output of the model, sent back as raw contents. */
  outputs: RequestedOutput[] | undefined;
  /** For Model.inferTensors: version, priority, timeout, parameters. */
  options: TensorInferOptions;
}

type Scalar = string | number | boolean;

/** The value of a parameter, whichever member of the oneof it is; undefined when none is set. */
export function parameterValue(p: m.InferParameter | undefined): Scalar | undefined {
  if (!p) return undefined;
  if ('bool_param' in p && p.parameter_choice === 'bool_param') return p.bool_param;
  if ('int64_param' in p && p.parameter_choice === 'int64_param') return p.int64_param;
  if ('uint64_param' in p && p.parameter_choice === 'uint64_param') return p.uint64_param;
  if ('double_param' in p && p.parameter_choice === 'double_param') return p.double_param;
  if ('string_param' in p && p.parameter_choice === 'string_param') return p.string_param;
  return undefined;
}

/** A parameter that must be a non-negative integer (int64_param or uint64_param). */
function integerParameter(params: Record<string, m.InferParameter>, key: string, where: string, model: string): number | undefined {
  const p = params[key];
  if (p === undefined) return undefined;
  const v = parameterValue(p);
  const integral = p.parameter_choice === 'int64_param' || p.parameter_choice === 'uint64_param';
  if (!integral || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalidArgument(`${where}parameter "${key}" must be a non-negative int64_param or uint64_param, got ${JSON.stringify(v ?? null)}`, {
      field: key,
      model,
    });
  }
  return v;
}

/** The shared-memory location a tensor's parameters name, or undefined when they name none. */
function sharedMemoryRef(params: Record<string, m.InferParameter>, what: string, field: string, model: string): SharedMemoryRef | undefined {
  const region = params['shared_memory_region'];
  const rest = params['shared_memory_offset'] !== undefined || params['shared_memory_byte_size'] !== undefined;
  if (region === undefined) {
    if (rest) throw invalidArgument(`${what}: shared_memory_offset / shared_memory_byte_size need shared_memory_region`, { field, model });
    return undefined;
  }
  const name = parameterValue(region);
  if (region.parameter_choice !== 'string_param' || typeof name !== 'string' || name === '') {
    throw invalidArgument(`${what}: parameter "shared_memory_region" must be a non-empty string_param`, { field, model });
  }
  const byteSize = integerParameter(params, 'shared_memory_byte_size', `${what}: `, model);
  if (byteSize === undefined) throw invalidArgument(`${what}: parameter "shared_memory_byte_size" is required with shared_memory_region`, { field, model });
  return { region: name, offset: integerParameter(params, 'shared_memory_offset', `${what}: `, model) ?? 0, byteSize };
}

function checkShape(shape: unknown[], what: string, field: string, model: string): number[] {
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw invalidArgument(`${what}: shape [${shape.join(', ')}] must hold non-negative integers`, { field, model });
    }
  }
  return shape as number[];
}

function typedContents(datatype: Datatype, shape: number[], c: m.InferTensorContents, what: string, field: string, model: string): TensorData {
  const count = elementCount(shape);
  const take = <T>(list: T[], listName: string): T[] => {
    if (list.length !== count) {
      throw invalidArgument(`${what}: shape [${shape.join(', ')}] needs ${count} elements, ${listName} has ${list.length}`, { field, model });
    }
    return list;
  };
  const ranged = (list: number[], listName: string, lo: number, hi: number): number[] => {
    take(list, listName).forEach((v, i) => {
      if (v < lo || v > hi) throw invalidArgument(`${what}: element ${i} of ${listName} is ${v}, outside ${datatype}'s [${lo}, ${hi}]`, { field, model });
    });
    return list;
  };
  switch (datatype) {
    case 'BOOL': return Uint8Array.from(take(c.bool_contents, 'bool_contents'), (b) => (b ? 1 : 0));
    case 'INT8': return Int8Array.from(ranged(c.int_contents, 'int_contents', -128, 127));
    case 'INT16': return Int16Array.from(ranged(c.int_contents, 'int_contents', -32768, 32767));
    case 'INT32': return Int32Array.from(take(c.int_contents, 'int_contents'));
    case 'INT64': return BigInt64Array.from(take(c.int64_contents, 'int64_contents'), (v) => BigInt(v));
    case 'UINT8': return Uint8Array.from(ranged(c.uint_contents, 'uint_contents', 0, 255));
    case 'UINT16': return Uint16Array.from(ranged(c.uint_contents, 'uint_contents', 0, 65535));
    case 'UINT32': return Uint32Array.from(take(c.uint_contents, 'uint_contents'));
    case 'UINT64': return BigUint64Array.from(take(c.uint64_contents, 'uint64_contents'), (v) => BigInt(v));
    case 'FP32': return Float32Array.from(take(c.fp32_contents, 'fp32_contents'));
    case 'FP64': return Float64Array.from(take(c.fp64_contents, 'fp64_contents'));
    case 'BYTES': return take(c.bytes_contents, 'bytes_contents').map((b) => b.toString('utf8'));
    case 'FP16':
    case 'BF16':
      throw invalidArgument(`${what}: ${datatype} has no typed contents list; send it in raw_input_contents`, { field, model });
  }
}

/** Raw little-endian bytes into a tensor, the byte count checked against the shape first. */
function rawContents(datatype: Datatype, shape: number[], raw: Buffer, what: string, field: string, model: string): Tensor {
  const size = elementBytes(datatype);
  if (size !== undefined && raw.length !== elementCount(shape) * size) {
    throw invalidArgument(`${what}: shape [${shape.join(', ')}] of ${datatype} needs ${elementCount(shape) * size} bytes, got ${raw.length}`, {
      field,
      model,
    });
  }
  try {
    return decodeRaw(datatype, shape, raw, field);
  } catch (err) {
    // decodeRaw speaks of outputs (it decodes Triton's answers too): say which input it was.
    const detail = (err as Error).message.replace(/^output "[^"]*": /, '');
    throw invalidArgument(`${what}: ${detail}`, { field, model });
  }
}

/** The request-level parameters: priority and timeout for the batcher, the rest for the model. */
function requestOptions(req: m.ModelInferRequest, model: string): TensorInferOptions {
  const options: TensorInferOptions = {};
  if (req.model_version !== '') options.version = req.model_version;
  const priority = integerParameter(req.parameters, 'priority', '', model);
  if (priority !== undefined) options.priority = priority;
  const timeout = integerParameter(req.parameters, 'timeout', '', model);
  if (timeout !== undefined) options.timeoutMicroseconds = timeout;
  const key = req.parameters['routing_key'];
  if (key !== undefined) {
    const v = parameterValue(key);
    if (key.parameter_choice !== 'string_param' || typeof v !== 'string' || v === '' || v.length > 256) {
      throw invalidArgument(`parameter "routing_key" must be a string_param of 1 to 256 characters (the canary's sticky key)`, { field: 'routing_key', model });
    }
    options.routingKey = v;
  }
  if (req.id !== '') options.requestId = req.id;
  const rest: Record<string, Scalar> = {};
  for (const [key, p] of Object.entries(req.parameters)) {
    // binary_data_output is the HTTP face's; gRPC outputs are always binary.
    if (key === 'priority' || key === 'timeout' || key === 'routing_key' || key === 'binary_data_output') continue;
    const v = parameterValue(p);
    if (v !== undefined) rest[key] = v;
  }
  if (Object.keys(rest).length > 0) options.parameters = rest;
  return options;
}

function requestedOutputs(req: m.ModelInferRequest, model: string, registry: SharedMemoryRegistry): RequestedOutput[] | undefined {
  if (req.outputs.length === 0) return undefined;
  const seen = new Set<string>();
  return req.outputs.map((o) => {
    const what = `output "${o.name}"`;
    if (seen.has(o.name)) throw invalidArgument(`${what} is requested twice`, { field: o.name, model });
    seen.add(o.name);
    if (o.parameters['classification'] !== undefined) {
      throw invalidArgument(`${what}: the classification extension is not supported by infergate`, { field: o.name, model });
    }
    const ref = sharedMemoryRef(o.parameters, what, o.name, model);
    // Checked now, so a bad region fails the request before the model runs.
    if (ref) viewOf(registry, ref, what, o.name, model);
    return { name: o.name, sharedMemory: ref };
  });
}

/** The bytes a shared-memory reference names, in place; errors say which tensor named them. */
export function viewOf(registry: SharedMemoryRegistry, ref: SharedMemoryRef, what: string, field: string, model: string): Buffer {
  try {
    return registry.view(ref.region, ref.offset, ref.byteSize);
  } catch (err) {
    // The registry's code stands (an unregistered region is not_found, as Triton has it).
    const code = err instanceof InferError ? err.code : 'invalid_argument';
    throw new InferError(code, `${what}: ${(err as Error).message}`, { field, model });
  }
}

export function decodeInferRequest(req: m.ModelInferRequest, model: string, registry: SharedMemoryRegistry): DecodedInferRequest {
  const raw = req.raw_input_contents;
  const inputs: Record<string, Tensor> = {};
  // Like Triton: raw_input_contents holds one entry per input that is neither in shared memory nor
  // given as typed contents, in the order of those inputs.
  let nextRaw = 0;
  for (const input of req.inputs) {
    const field = input.name;
    const what = `input "${input.name}"`;
    if (Object.prototype.hasOwnProperty.call(inputs, input.name)) throw invalidArgument(`${what} is given twice`, { field, model });
    if (!DATATYPES.has(input.datatype)) {
      throw invalidArgument(`${what}: datatype "${input.datatype}" is not a KServe v2 datatype (expected one of ${[...DATATYPES].join(', ')})`, {
        field,
        model,
      });
    }
    const datatype = input.datatype as Datatype;
    const shape = checkShape(input.shape, what, field, model);
    const ref = sharedMemoryRef(input.parameters, what, field, model);
    if (ref) {
      if (input.contents !== null) throw invalidArgument(`${what}: give its data in shared memory or in contents, not both`, { field, model });
      // Copied out once: the model may run on another thread after the client reuses the region.
      inputs[input.name] = rawContents(datatype, shape, Buffer.from(viewOf(registry, ref, what, field, model)), what, field, model);
    } else if (input.contents !== null) {
      if (raw.length > 0) {
        throw invalidArgument(`${what}: "contents" must not be given when the request uses raw_input_contents`, { field, model });
      }
      inputs[input.name] = { datatype, shape, data: typedContents(datatype, shape, input.contents, what, field, model) };
    } else {
      const bytes = raw[nextRaw++];
      if (bytes === undefined) {
        throw invalidArgument(`${what} has no data: no raw_input_contents entry, no contents and no shared memory region`, { field, model });
      }
      inputs[input.name] = rawContents(datatype, shape, bytes, what, field, model);
    }
  }
  if (nextRaw !== raw.length) {
    throw invalidArgument(`raw_input_contents has ${raw.length} entries but only ${nextRaw} inputs take raw data`, {
      field: 'raw_input_contents',
      model,
    });
  }
  const outputs = requestedOutputs(req, model, registry);
  const options = requestOptions(req, model);
  if (outputs) options.outputs = outputs.map((o) => o.name);
  return { inputs, outputs, options };
}
