// A stable fingerprint of a raw input record, written into every prediction log line so that the same
// input can be found across lines, versions and services without logging the input itself.
//
// The record is rendered as canonical JSON (object keys sorted, no whitespace), hashed with SHA-256,
// and the first 16 hex digits (64 bits) are kept: enough to join and deduplicate millions of lines,
// short enough to keep lines small. It is a fingerprint, not a security boundary.

import { hash } from 'node:crypto';

/** Hex digits kept from the SHA-256 digest. */
export const INPUT_HASH_HEX_DIGITS = 16;

/** Records nest a level or two; anything deeper than this is a cycle or a mistake. */
const MAX_DEPTH = 64;

/** sha256(canonicalJson(record)), truncated to 16 hex digits. */
export function inputHash(record: unknown): string {
  return hash('sha256', canonicalJson(record), 'hex').slice(0, INPUT_HASH_HEX_DIGITS);
}

/**
 * JSON with object keys sorted by UTF-16 code unit (Array.prototype.sort's order) and no whitespace,
 * so that two records with the same fields and values give the same text whatever their key order.
 * As in JSON, object members whose value is undefined or a function are left out, and such array
 * elements become null; a toJSON() method is honoured. Beyond JSON, so that no two distinct values
 * share a text: non-finite numbers are written as the bare tokens NaN, Infinity and -Infinity, a
 * bigint as its digits followed by n, and typed arrays as arrays of their numbers.
 */
export function canonicalJson(value: unknown): string {
  return render(value, 0);
}

function render(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value}n`;
    case 'object':
      break;
    default:
      // undefined, functions and symbols have no JSON text; in an array they read as null.
      return 'null';
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) throw new RangeError(`inputHash: the record nests deeper than ${MAX_DEPTH} levels (a cycle?)`);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return render(toJSON.call(value), depth + 1);
  if (Array.isArray(value)) return `[${value.map((v) => render(v, depth + 1)).join(',')}]`;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return `[${Array.from(value as unknown as ArrayLike<number | bigint>, (v) => render(v, depth + 1)).join(',')}]`;
  }
  const object = value as Record<string, unknown>;
  const order = sortedKeys(Object.keys(object));
  let text = '{';
  let first = true;
  for (let i = 0; i < order.keys.length; i++) {
    const v = object[order.keys[i] as string];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    text += `${first ? '' : ','}${order.quoted[i] as string}:${render(v, depth + 1)}`;
    first = false;
  }
  return `${text}}`;
}

/**
 * The keys sorted, and each as JSON, for the last key list seen: a service's records arrive with
 * the same fields in the same order, so sorting and quoting them once serves every record after.
 */
let lastKeys: string[] = [];
let lastOrder: { keys: string[]; quoted: string[] } = { keys: [], quoted: [] };

function sortedKeys(keys: string[]): { keys: string[]; quoted: string[] } {
  if (keys.length === lastKeys.length && keys.every((k, i) => k === lastKeys[i])) return lastOrder;
  const sorted = [...keys].sort();
  lastKeys = keys;
  lastOrder = { keys: sorted, quoted: sorted.map((k) => JSON.stringify(k)) };
  return lastOrder;
}
