// A KServe v2 inference request over HTTP, as Triton takes it: the JSON object, with each input's
// data given in one of three ways (JSON `data`, binary bytes after the JSON header sized by
// `parameters.binary_data_size`, or a registered shared-memory region), and each requested output
// returned as JSON, as binary data, or written into a shared-memory region. Every malformed part is
// an invalid_argument naming its JSON path.

import { invalidArgument } from '../../errors';
import { elementBytes, decodeRaw } from '../../backends/triton/tensor-codec';
import type { Datatype } from '../../repository/model-config';
import { type Tensor, decodeJsonData, elementCount } from '../../tensor';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import { splitInferenceBody } from './binary-body';
import { parseJson } from '../json-body';
import { type SharedMemoryRef, requireRegistry, sharedMemoryRefOf } from './shared-memory-ref';

const DATATYPES = new Set<string>([
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64',
  'FP16', 'BF16', 'FP32', 'FP64', 'BYTES',
]);

/** Request parameters Triton reserves; the rest are passed on to the model. */
const SEQUENCE_PARAMETERS = ['sequence_id', 'sequence_start', 'sequence_end'];

export type ParameterValue = string | number | boolean;

export interface RequestedOutput {
  name: string;
  /** Return the tensor as binary data after the JSON header. */
  binary: boolean;
  /** Write the tensor into this region instead of returning its data. */
  sharedMemory: SharedMemoryRef | undefined;
  /** Its JSON path, for errors found after inference. */
  at: string;
}

export interface HttpInferRequest {
  id: string | undefined;
  inputs: Record<string, Tensor>;
  /** Requested outputs; undefined means every output of the model, each as `binaryByDefault` says. */
  outputs: RequestedOutput[] | undefined;
  /** The request-level `binary_data_output`: how the outputs travel when the request lists none. */
  binaryByDefault: boolean;
  /** Triton's `priority` (1 is the highest; 0: the model's default). */
  priority: number | undefined;
  /** The canary's sticky key (parameter `routing_key`). */
  routingKey: string | undefined;
  /** Triton's `timeout`, in microseconds. */
  timeoutMicroseconds: number | undefined;
  /** The remaining request parameters, passed on to the model. */
  parameters: Record<string, ParameterValue>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Fail = (field: string, message: string) => never;

/** Where an input's bytes come from and how much of the binary section it claims. */
function claimBinary(binary: Buffer, cursor: { at: number }, size: unknown, at: string, fail: Fail): Buffer {
  const field = `${at}.parameters.binary_data_size`;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return fail(field, 'must be a non-negative integer (bytes)');
  if (cursor.at + size > binary.length) {
    return fail(
      field,
      `${size} bytes starting at byte ${cursor.at} of the binary data run past its end (${binary.length} bytes follow the JSON header; is Inference-Header-Content-Length right?)`,
    );
  }
  const bytes = binary.subarray(cursor.at, cursor.at + size);
  cursor.at += size;
  return bytes;
}

/** Raw little-endian element bytes (BYTES: 4-byte length prefixes) into a tensor, checked against its shape. */
function tensorFromBytes(datatype: Datatype, shape: number[], bytes: Buffer, name: string, field: string, fail: Fail): Tensor {
  const count = elementCount(shape);
  const size = elementBytes(datatype);
  if (size !== undefined) {
    if (bytes.length !== count * size) {
      return fail(field, `input "${name}": shape [${shape.join(', ')}] of ${datatype} needs ${count * size} bytes, got ${bytes.length}`);
    }
  } else {
    let at = 0;
    let items = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) return fail(field, `input "${name}": BYTES element ${items} is cut inside its 4-byte length prefix`);
      const n = bytes.readUInt32LE(at);
      if (at + 4 + n > bytes.length) return fail(field, `input "${name}": BYTES element ${items} says ${n} bytes, past the end of the tensor's data`);
      at += 4 + n;
      items++;
    }
    if (items !== count) return fail(field, `input "${name}": shape [${shape.join(', ')}] needs ${count} BYTES elements, the data holds ${items}`);
  }
  return decodeRaw(datatype, shape, bytes, name);
}

function parseParameters(raw: unknown, at: string, fail: Fail): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) return fail(at ? `${at}.parameters` : 'parameters', 'must be an object');
  return raw;
}

function parseOutputs(raw: unknown, fail: Fail, model: string): RequestedOutput[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) return fail('outputs', 'must be an array of {"name": ..., "parameters"?: ...}');
  const seen = new Set<string>();
  return raw.map((o: unknown, i) => {
    const at = `outputs[${i}]`;
    if (!isObject(o) || typeof o.name !== 'string' || o.name === '') return fail(`${at}.name`, 'must be a non-empty string');
    if (seen.has(o.name)) return fail(`${at}.name`, `output "${o.name}" is requested twice`);
    seen.add(o.name);
    const params = parseParameters(o.parameters, at, fail);
    if (params?.classification !== undefined) return fail(`${at}.parameters.classification`, 'the classification extension is not supported');
    const binary = params?.binary_data;
    if (binary !== undefined && typeof binary !== 'boolean') return fail(`${at}.parameters.binary_data`, 'must be true or false');
    const sharedMemory = sharedMemoryRefOf(params, at, model);
    // As in Triton, binary_data_output only covers the outputs a request does not list.
    return { name: o.name, binary: binary ?? false, sharedMemory, at };
  });
}

/**
 * Parses an inference request body. `headerLength` is the Inference-Header-Content-Length header
 * (undefined: the body is all JSON). Shared-memory inputs are copied out of their region here, so
 * a region unregistered while the request runs cannot pull memory from under it.
 */
export function parseInferRequest(
  body: Buffer,
  headerLength: number | undefined,
  model: string,
  registry: SharedMemoryRegistry | undefined,
): HttpInferRequest {
  const fail: Fail = (field, message) => {
    throw invalidArgument(`${field}: ${message}`, { field, model });
  };
  if (body.length === 0) return fail('body', 'is empty: expected a JSON object with "inputs"');
  const { header, binary } = splitInferenceBody(body, headerLength);
  const json = parseJson(header, headerLength === undefined ? 'body' : 'inference header');
  if (!isObject(json)) return fail('body', 'must be a JSON object with "inputs"');
  const id = json.id;
  if (id !== undefined && typeof id !== 'string') fail('id', 'must be a string');

  const params = parseParameters(json.parameters, '', fail) ?? {};
  const parameters: Record<string, ParameterValue> = {};
  let binaryByDefault = false;
  let priority: number | undefined;
  let timeoutMicroseconds: number | undefined;
  let routingKey: string | undefined;
  for (const [key, value] of Object.entries(params)) {
    const field = `parameters.${key}`;
    const count = (): number =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(field, 'must be a non-negative integer');
    if (key === 'binary_data_output') {
      if (typeof value !== 'boolean') fail(field, 'must be true or false');
      binaryByDefault = value as boolean;
    } else if (key === 'priority') priority = count();
    else if (key === 'timeout') timeoutMicroseconds = count();
    else if (key === 'routing_key') {
      if (typeof value !== 'string' || value === '' || value.length > 256) fail(field, 'must be a string of 1 to 256 characters (the canary\'s sticky key)');
      routingKey = value as string;
    }
    else if (SEQUENCE_PARAMETERS.includes(key)) fail(field, 'sequence batching is not supported by infergate');
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') parameters[key] = value;
    else fail(field, 'must be a string, a number or a boolean');
  }

  if (!Array.isArray(json.inputs) || json.inputs.length === 0) fail('inputs', 'must be a non-empty array of tensors');
  const inputs: Record<string, Tensor> = {};
  const cursor = { at: 0 };
  (json.inputs as unknown[]).forEach((raw, i) => {
    const at = `inputs[${i}]`;
    if (!isObject(raw)) return fail(at, 'must be an object with name, shape, datatype and data');
    const { name, shape, datatype, data } = raw;
    if (typeof name !== 'string' || name === '') return fail(`${at}.name`, 'must be a non-empty string');
    if (Object.prototype.hasOwnProperty.call(inputs, name)) return fail(`${at}.name`, `input "${name}" is given twice`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return fail(`${at}.shape`, 'must be an array of non-negative integers');
    }
    if (typeof datatype !== 'string' || !DATATYPES.has(datatype)) return fail(`${at}.datatype`, `must be one of ${[...DATATYPES].join(', ')}`);
    const dt = datatype as Datatype;
    const dims = shape as number[];
    const p = parseParameters(raw.parameters, at, fail);
    const shm = sharedMemoryRefOf(p, at, model);
    const binarySize = p?.binary_data_size;
    const sources = [data !== undefined && '"data"', binarySize !== undefined && 'binary_data_size', shm && 'shared_memory_region'].filter(Boolean);
    if (sources.length > 1) return fail(at, `give the tensor's data one way only, not ${sources.join(' and ')}`);
    if (binarySize !== undefined) {
      const bytes = claimBinary(binary, cursor, binarySize, at, fail);
      inputs[name] = tensorFromBytes(dt, dims, bytes, name, `${at}.parameters.binary_data_size`, fail);
    } else if (shm) {
      const view = requireRegistry(registry, at, model).view(shm.region, shm.offset, shm.byteSize);
      inputs[name] = tensorFromBytes(dt, dims, Buffer.from(view), name, `${at}.parameters.shared_memory_byte_size`, fail);
    } else {
      if (dt === 'FP16' || dt === 'BF16') {
        return fail(`${at}.data`, `input "${name}" is ${dt}, which JSON numbers cannot carry: send it as binary data (parameters.binary_data_size) or in shared memory`);
      }
      inputs[name] = { datatype: dt, shape: dims, data: decodeJsonData(dt, dims, data, name, model) };
    }
  });
  if (cursor.at !== binary.length) {
    fail(
      'Inference-Header-Content-Length',
      `${binary.length - cursor.at} of the ${binary.length} bytes after the JSON header belong to no input (the inputs' binary_data_size add up to ${cursor.at})`,
    );
  }
  return {
    id: id as string | undefined,
    inputs,
    outputs: parseOutputs(json.outputs, fail, model),
    binaryByDefault,
    priority,
    routingKey,
    timeoutMicroseconds,
    parameters,
  };
}
