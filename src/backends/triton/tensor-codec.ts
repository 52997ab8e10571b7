// Tensors to and from KServe v2 raw contents: the little-endian bytes of the elements, row-major;
// BYTES elements each prefixed by a 4-byte little-endian length. Numeric tensors are sent as views
// of their own memory (no copy before the gRPC encoder's one), and decoded as views of the received
// buffer where its alignment allows.

import type { Datatype } from '../../repository/model-config';
import { type Tensor, type TensorData, elementCount } from '../../tensor';

const ELEMENT_BYTES: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1, UINT8: 1, INT8: 1,
  UINT16: 2, INT16: 2, FP16: 2, BF16: 2,
  UINT32: 4, INT32: 4, FP32: 4,
  UINT64: 8, INT64: 8, FP64: 8,
};

type ViewCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Exclude<TensorData, string[]>;

const VIEW: Record<Exclude<Datatype, 'BYTES'>, ViewCtor> = {
  BOOL: Uint8Array, UINT8: Uint8Array, INT8: Int8Array,
  UINT16: Uint16Array, INT16: Int16Array, FP16: Uint16Array, BF16: Uint16Array,
  UINT32: Uint32Array, INT32: Int32Array, FP32: Float32Array,
  UINT64: BigUint64Array, INT64: BigInt64Array, FP64: Float64Array,
};

export function elementBytes(datatype: Datatype): number | undefined {
  return datatype === 'BYTES' ? undefined : ELEMENT_BYTES[datatype];
}

/** The raw contents of a tensor: a view of its memory for numeric types, an encoding for BYTES. */
export function encodeRaw(t: Tensor): Buffer {
  if (t.datatype === 'BYTES') {
    const items = (t.data as string[]).map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.allocUnsafe(items.reduce((n, b) => n + 4 + b.length, 0));
    let at = 0;
    for (const b of items) {
      out.writeUInt32LE(b.length, at);
      b.copy(out, at + 4);
      at += 4 + b.length;
    }
    return out;
  }
  const d = t.data as Exclude<TensorData, string[]>;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/** Decodes raw contents into a tensor of `shape`, checking the byte count against it. */
export function decodeRaw(datatype: Datatype, shape: number[], raw: Buffer, name: string): Tensor {
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    const items: string[] = [];
    let at = 0;
    while (at < raw.length) {
      if (at + 4 > raw.length) throw new Error(`output "${name}": BYTES contents end inside an element's length prefix`);
      const n = raw.readUInt32LE(at);
      if (at + 4 + n > raw.length) throw new Error(`output "${name}": BYTES element ${items.length} runs past the contents`);
      items.push(raw.toString('utf8', at + 4, at + 4 + n));
      at += 4 + n;
    }
    if (items.length !== count) throw new Error(`output "${name}": shape [${shape.join(', ')}] needs ${count} BYTES elements, got ${items.length}`);
    return { datatype, shape, data: items };
  }
  const size = ELEMENT_BYTES[datatype];
  if (raw.length !== count * size) {
    throw new Error(`output "${name}": shape [${shape.join(', ')}] of ${datatype} needs ${count * size} bytes, got ${raw.length}`);
  }
  const Ctor = VIEW[datatype];
  // A view needs its offset aligned to the element size; gRPC's buffers usually are, else copy once.
  const aligned = raw.byteOffset % size === 0 ? raw : Buffer.from(raw);
  return { datatype, shape, data: new Ctor(aligned.buffer, aligned.byteOffset, count) };
}
