// Client system shared memory, server side: a Triton client registers a POSIX shared-memory region
// (name, key, offset, size) and then refers to tensors in it by (region, offset, byte size) instead
// of sending their bytes. Both the gRPC and the HTTP faces use one registry per server process.
//
// This file is the contract; the implementation maps regions through the native addon.

export interface RegionStatus {
  name: string;
  key: string;
  offset: number;
  byteSize: number;
}

export interface SharedMemoryRegistry {
  /** Maps the region; invalid_argument (naming the field) on a bad key, a region too small, or a duplicate name. */
  register(name: string, key: string, offset: number, byteSize: number): void;
  /** Unmaps one region, or every region when `name` is undefined or "". not_found for an unknown name. */
  unregister(name?: string): void;
  /** One region, or all when `name` is undefined or "". not_found for an unknown name. */
  status(name?: string): RegionStatus[];
  /** The bytes [offset, offset + byteSize) of a region, in place; invalid_argument when out of bounds. */
  view(name: string, offset: number, byteSize: number): Buffer;
  /** Unmaps everything (server shutdown). */
  close(): void;
}
