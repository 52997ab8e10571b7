// Client system shared memory, server side: the regions Triton clients register, each mapped once
// through the native addon when registered and unmapped when unregistered. Requests then name a
// tensor by (region, offset, byte size) and the servers read or write those bytes in place.
//
// One registry per server process, shared by the gRPC and HTTP faces; bounded by a number of
// regions. Everything runs on the JS thread, so no locking.

import { InferError, invalidArgument, notFound } from '../../errors';
import { type SharedMemoryMapping, sharedMemoryMappingClass } from '../../native/addon';
import type { RegionStatus, SharedMemoryRegistry } from '../shared-memory-registry';

export interface SystemSharedMemoryOptions {
  /** Regions registered at once; past it, register() answers resource_exhausted. Default 64. */
  maxRegions?: number;
}

export const DEFAULT_MAX_REGIONS = 64;

interface Region {
  status: RegionStatus;
  mapping: SharedMemoryMapping;
}

/** A byte count or offset as the protocol carries it: a non-negative safe integer. */
function checkSize(value: unknown, field: string, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(`${what}: "${field}" must be an integer >= ${min}, got ${JSON.stringify(value) ?? String(value)}`, { field });
  }
  return value;
}

export class SystemSharedMemoryRegistry implements SharedMemoryRegistry {
  private readonly regions = new Map<string, Region>();
  readonly maxRegions: number;

  constructor(options: SystemSharedMemoryOptions = {}) {
    const max = options.maxRegions ?? DEFAULT_MAX_REGIONS;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxRegions must be an integer >= 1, got ${String(max)}`);
    this.maxRegions = max;
  }

  register(name: string, key: string, offset: number, byteSize: number): void {
    if (typeof name !== 'string' || name === '') {
      throw invalidArgument('system shared memory register: "name" must be a non-empty string', { field: 'name' });
    }
    const what = `system shared memory region "${name}"`;
    if (typeof key !== 'string' || key === '') throw invalidArgument(`${what}: "key" must be a non-empty string`, { field: 'key' });
    checkSize(offset, 'offset', what, 0);
    checkSize(byteSize, 'byte_size', what, 1);
    if (this.regions.has(name)) {
      throw invalidArgument(`${what} is already registered; unregister it first`, { field: 'name' });
    }
    if (this.regions.size >= this.maxRegions) {
      throw new InferError('resource_exhausted', `${what}: this server holds at most ${this.maxRegions} regions; unregister one first`, {
        field: 'name',
      });
    }
    let mapping: SharedMemoryMapping;
    try {
      mapping = new (sharedMemoryMappingClass())(key, offset, byteSize);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw invalidArgument(`${what} cannot be mapped: ${message}`, { field: 'key' });
    }
    this.regions.set(name, { status: { name, key, offset, byteSize }, mapping });
  }

  unregister(name?: string): void {
    if (name === undefined || name === '') {
      for (const r of this.regions.values()) r.mapping.close();
      this.regions.clear();
      return;
    }
    const region = this.find(name);
    region.mapping.close();
    this.regions.delete(name);
  }

  status(name?: string): RegionStatus[] {
    if (name === undefined || name === '') return [...this.regions.values()].map((r) => ({ ...r.status }));
    return [{ ...this.find(name).status }];
  }

  view(name: string, offset: number, byteSize: number): Buffer {
    const region = this.regions.get(name);
    if (!region) {
      // As Triton answers it: NOT_FOUND / 404.
      throw notFound(`system shared memory region "${name}" is not registered`, { field: 'shared_memory_region' });
    }
    const what = `system shared memory region "${name}"`;
    checkSize(offset, 'shared_memory_offset', what, 0);
    checkSize(byteSize, 'shared_memory_byte_size', what, 0);
    const size = region.status.byteSize;
    if (offset + byteSize > size) {
      throw invalidArgument(`${what} holds ${size} bytes; offset ${offset} + byte size ${byteSize} runs past its end`, {
        field: 'shared_memory_byte_size',
      });
    }
    return Buffer.from(region.mapping.buffer, offset, byteSize);
  }

  close(): void {
    this.unregister();
  }

  private find(name: string): Region {
    const region = this.regions.get(name);
    if (!region) throw notFound(`system shared memory region "${name}" is not registered`, { field: 'name' });
    return region;
  }
}
