// The KServe v2 REST inference protocol, JSON tensor form: request bodies into Tensors, results
// into response bodies. Every malformed part is an invalid_argument naming its JSON path.

import { invalidArgument } from '../errors';
import type { Datatype } from '../repository/model-config';
import { type Tensor, decodeJsonData, toJsonData } from '../tensor';

const DATATYPES = new Set<string>([
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64',
  'FP16', 'BF16', 'FP32', 'FP64', 'BYTES',
]);

export interface KserveInferRequest {
  id: string | undefined;
  inputs: Record<string, Tensor>;
  /** Requested outputs; undefined means all. */
  outputs: string[] | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseInferRequest(body: unknown, model: string): KserveInferRequest {
  const fail = (field: string, message: string): never => {
    throw invalidArgument(`${field}: ${message}`, { field, model });
  };
  if (!isObject(body)) return fail('body', 'must be a JSON object with "inputs"');
  const id = body.id;
  if (id !== undefined && typeof id !== 'string') fail('id', 'must be a string');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) fail('inputs', 'must be a non-empty array of tensors');
  const inputs: Record<string, Tensor> = {};
  (body.inputs as unknown[]).forEach((raw, i) => {
    const at = `inputs[${i}]`;
    if (!isObject(raw)) return fail(at, 'must be an object with name, shape, datatype and data');
    const { name, shape, datatype, data } = raw;
    if (typeof name !== 'string' || name === '') return fail(`${at}.name`, 'must be a non-empty string');
    if (Object.prototype.hasOwnProperty.call(inputs, name)) return fail(`${at}.name`, `input "${name}" is given twice`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return fail(`${at}.shape`, 'must be an array of non-negative integers');
    }
    if (typeof datatype !== 'string' || !DATATYPES.has(datatype)) {
      return fail(`${at}.datatype`, `must be one of ${[...DATATYPES].join(', ')}`);
    }
    if (isObject(raw.parameters) && raw.parameters.binary_data_size !== undefined) {
      return fail(`${at}.parameters.binary_data_size`, 'the binary tensor data extension is not accepted on this endpoint; send "data" as JSON');
    }
    const dt = datatype as Datatype;
    inputs[name] = { datatype: dt, shape: shape as number[], data: decodeJsonData(dt, shape as number[], data, name, model) };
  });
  let outputs: string[] | undefined;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) fail('outputs', 'must be an array of {"name": ...}');
    outputs = (body.outputs as unknown[]).map((o, i) =>
      isObject(o) && typeof o.name === 'string' ? o.name : fail(`outputs[${i}].name`, 'must be a string'),
    );
  }
  return { id: id as string | undefined, inputs, outputs };
}

export function inferResponse(model: string, version: string, id: string | undefined, outputs: Record<string, Tensor>): unknown {
  return {
    model_name: model,
    model_version: version,
    ...(id !== undefined ? { id } : {}),
    outputs: Object.entries(outputs).map(([name, t]) => ({ name, datatype: t.datatype, shape: t.shape, data: toJsonData(t) })),
  };
}
