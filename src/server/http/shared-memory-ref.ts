// A tensor's place in a registered system shared-memory region, as the shared-memory extension's
// parameters name it: `shared_memory_region` and `shared_memory_byte_size` (both required when
// either is given) and `shared_memory_offset` (default 0).

import { invalidArgument } from '../../errors';
import type { SharedMemoryRegistry } from '../shared-memory-registry';

export interface SharedMemoryRef {
  region: string;
  offset: number;
  byteSize: number;
}

/** The reference in a tensor's `parameters`, or undefined when it names none. `at` is its JSON path. */
export function sharedMemoryRefOf(params: Record<string, unknown> | undefined, at: string, model: string): SharedMemoryRef | undefined {
  if (!params) return undefined;
  const { shared_memory_region: region, shared_memory_byte_size: size, shared_memory_offset: offset } = params;
  if (region === undefined && size === undefined && offset === undefined) return undefined;
  const fail = (key: string, expected: string): never => {
    throw invalidArgument(`${at}.parameters.${key}: ${expected}`, { field: `${at}.parameters.${key}`, model });
  };
  if (typeof region !== 'string' || region === '') return fail('shared_memory_region', 'must name a registered region (a non-empty string) when shared memory is used');
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!count(size)) return fail('shared_memory_byte_size', 'must be a non-negative integer (bytes) when shared_memory_region is given');
  if (offset !== undefined && !count(offset)) return fail('shared_memory_offset', 'must be a non-negative integer (bytes)');
  return { region, offset: (offset as number | undefined) ?? 0, byteSize: size as number };
}

/** The registry, or a clear error when this server was started without one. */
export function requireRegistry(registry: SharedMemoryRegistry | undefined, at: string, model: string): SharedMemoryRegistry {
  if (!registry) {
    throw invalidArgument(`${at}.parameters.shared_memory_region: system shared memory is not enabled on this server`, {
      field: `${at}.parameters.shared_memory_region`,
      model,
    });
  }
  return registry;
}
