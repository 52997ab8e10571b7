// Tensors as infergate passes them between ingress and backends: a KServe v2 datatype, a shape and
// a typed array that owns (or views) the bytes. No per-element JS arrays on the data path.

import type { Datatype } from './repository/model-config';
import { invalidArgument } from './errors';

export type TensorData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | string[];

export interface Tensor {
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

type NumericCtor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Int16ArrayConstructor
  | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor;

interface DatatypeInfo {
  /** ONNX Runtime's name for the element type. */
  ort: string;
  /** For number-valued types: the typed array holding them. */
  array?: NumericCtor;
  bigint?: BigInt64ArrayConstructor | BigUint64ArrayConstructor;
  /** Inclusive range of JSON integer values accepted (integer types). */
  range?: [number, number];
}

const INFO: Record<Datatype, DatatypeInfo> = {
  BOOL: { ort: 'bool', array: Uint8Array },
  UINT8: { ort: 'uint8', array: Uint8Array, range: [0, 255] },
  UINT16: { ort: 'uint16', array: Uint16Array, range: [0, 65535] },
  UINT32: { ort: 'uint32', array: Uint32Array, range: [0, 4294967295] },
  UINT64: { ort: 'uint64', bigint: BigUint64Array, range: [0, Number.MAX_SAFE_INTEGER] },
  INT8: { ort: 'int8', array: Int8Array, range: [-128, 127] },
  INT16: { ort: 'int16', array: Int16Array, range: [-32768, 32767] },
  INT32: { ort: 'int32', array: Int32Array, range: [-2147483648, 2147483647] },
  INT64: { ort: 'int64', bigint: BigInt64Array, range: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] },
  // FP16 and BF16 travel as raw 16-bit patterns; JSON cannot carry them as numbers faithfully.
  FP16: { ort: 'float16' },
  BF16: { ort: 'bfloat16' },
  FP32: { ort: 'float32', array: Float32Array },
  FP64: { ort: 'float64', array: Float64Array },
  BYTES: { ort: 'string' },
};

const BY_ORT = new Map<string, Datatype>(Object.entries(INFO).map(([dt, i]) => [i.ort, dt as Datatype]));

export function ortTypeOf(datatype: Datatype): string {
  return INFO[datatype].ort;
}

export function datatypeOfOrt(ortType: string): Datatype | undefined {
  return BY_ORT.get(ortType);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Flattens nested JSON arrays (row-major), as KServe allows `data` to be nested or flat. */
function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

/**
 * Decodes a KServe v2 JSON tensor's `data` into a typed array, checking every element.
 * `field` names the tensor in error messages.
 */
export function decodeJsonData(datatype: Datatype, shape: number[], data: unknown, field: string, model: string): TensorData {
  if (!Array.isArray(data)) throw invalidArgument(`input "${field}": "data" must be an array`, { field, model });
  const expected = elementCount(shape);
  const flat: unknown[] = [];
  flatten(data, flat);
  if (flat.length !== expected) {
    throw invalidArgument(
      `input "${field}": shape [${shape.join(', ')}] needs ${expected} elements, "data" has ${flat.length}`,
      { field, model },
    );
  }
  const info = INFO[datatype];
  const bad = (i: number, what: string): never => {
    throw invalidArgument(`input "${field}": element ${i} must be ${what}, got ${JSON.stringify(flat[i]) ?? 'undefined'}`, {
      field,
      model,
    });
  };
  if (datatype === 'BYTES') {
    return flat.map((v, i) => (typeof v === 'string' ? v : bad(i, 'a string')));
  }
  if (datatype === 'BOOL') {
    const out = new Uint8Array(expected);
    flat.forEach((v, i) => (typeof v === 'boolean' ? (out[i] = v ? 1 : 0) : bad(i, 'true or false')));
    return out;
  }
  if (info.bigint) {
    const out = new info.bigint(expected);
    const [lo, hi] = info.range as [number, number];
    flat.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(i, `an integer in [${lo}, ${hi}]`);
      out[i] = BigInt(v as number);
    });
    return out;
  }
  if (!info.array) {
    throw invalidArgument(`input "${field}": datatype ${datatype} cannot be sent as JSON numbers; use the binary tensor extension`, {
      field,
      model,
    });
  }
  const out = new info.array(expected);
  const range = info.range;
  for (let i = 0; i < expected; i++) {
    const v = flat[i];
    if (typeof v !== 'number') bad(i, 'a number');
    if (range && (!Number.isInteger(v) || (v as number) < range[0] || (v as number) > range[1])) {
      bad(i, `an integer in [${range[0]}, ${range[1]}]`);
    }
    out[i] = v as number;
  }
  return out;
}

/** A tensor's data as JSON-ready values (KServe v2 `data`, flat, row-major). */
export function toJsonData(t: Tensor): (number | boolean | string)[] {
  const d = t.data;
  if (Array.isArray(d)) return d;
  if (t.datatype === 'BOOL') return Array.from(d as Uint8Array, (v) => v !== 0);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
  return Array.from(d as ArrayLike<number>);
}
