// The system shared memory extension: clients register POSIX shared-memory regions they created,
// and infer requests then name tensors in them. The registry maps and bounds the regions.

import type { GrpcContext, UnaryHandlers } from './handler-types';

export function sharedMemoryHandlers(ctx: GrpcContext): UnaryHandlers {
  const registry = ctx.sharedMemory;
  return {
    SystemSharedMemoryStatus: (req) => ({
      regions: Object.fromEntries(
        registry.status(req.name).map((r) => [r.name, { name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize }]),
      ),
    }),
    SystemSharedMemoryRegister: (req) => {
      registry.register(req.name, req.key, req.offset, req.byte_size);
      return {};
    },
    SystemSharedMemoryUnregister: (req) => {
      registry.unregister(req.name);
      return {};
    },
  };
}
