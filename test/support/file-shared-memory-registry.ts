// A test-only SharedMemoryRegistry over /dev/shm files with plain fs reads and writes, standing in
// for the native one (src/server/shared-memory-registry.ts is the contract) so the HTTP server's
// shared-memory paths can be tested with real clients' regions. Node cannot mmap, so view() reads
// the bytes into a mirror and writes the mirror back once the current synchronous job is done: the
// server reads an input, or copies an output in, within one job, and answers after it.

import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { invalidArgument, notFound } from '../../src/errors';
import type { RegionStatus, SharedMemoryRegistry } from '../../src/server/shared-memory-registry';

interface Region extends RegionStatus {
  fd: number;
}

export class FileSharedMemoryRegistry implements SharedMemoryRegistry {
  private readonly regions = new Map<string, Region>();

  register(name: string, key: string, offset: number, byteSize: number): void {
    if (this.regions.has(name)) throw invalidArgument(`shared memory region "${name}" is already registered`, { field: 'name' });
    if (!/^\/[^/]+$/.test(key)) throw invalidArgument(`key: must be "/<name>" of a POSIX shared-memory object, got "${key}"`, { field: 'key' });
    let fd: number;
    try {
      fd = openSync(`/dev/shm${key}`, 'r+');
    } catch (err) {
      throw invalidArgument(`key: cannot open shared-memory object "${key}": ${(err as Error).message}`, { field: 'key' });
    }
    const size = fstatSync(fd).size;
    if (offset + byteSize > size) {
      closeSync(fd);
      throw invalidArgument(`byte_size: offset ${offset} + byte_size ${byteSize} exceeds the object's ${size} bytes`, { field: 'byte_size' });
    }
    this.regions.set(name, { name, key, offset, byteSize, fd });
  }

  unregister(name?: string): void {
    if (name === undefined || name === '') {
      for (const r of this.regions.values()) closeSync(r.fd);
      this.regions.clear();
      return;
    }
    const r = this.found(name);
    closeSync(r.fd);
    this.regions.delete(name);
  }

  status(name?: string): RegionStatus[] {
    const pick = name === undefined || name === '' ? [...this.regions.values()] : [this.found(name)];
    return pick.map(({ name: n, key, offset, byteSize }) => ({ name: n, key, offset, byteSize }));
  }

  view(name: string, offset: number, byteSize: number): Buffer {
    const r = this.found(name);
    if (offset + byteSize > r.byteSize) {
      throw invalidArgument(`shared memory region "${name}": offset ${offset} + byte size ${byteSize} exceeds its ${r.byteSize} bytes`, {
        field: 'shared_memory_byte_size',
      });
    }
    const mirror = Buffer.alloc(byteSize);
    readSync(r.fd, mirror, 0, byteSize, r.offset + offset);
    queueMicrotask(() => {
      // The region may have been unregistered meanwhile; then there is nothing to write back to.
      if (this.regions.get(name) === r) writeSync(r.fd, mirror, 0, byteSize, r.offset + offset);
    });
    return mirror;
  }

  close(): void {
    this.unregister();
  }

  private found(name: string): Region {
    const r = this.regions.get(name);
    if (!r) throw notFound(`no shared memory region "${name}" is registered`);
    return r;
  }
}
