// The system shared-memory extension's control API: register, status, unregister, through the
// server's SharedMemoryRegistry. Without a registry the routes answer that the extension is off.

import { invalidArgument, notFound } from '../../errors';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import { NAME, type RequestScope, type Route, type ServerContext, empty, json } from './route';

const REGION = `(?:/region/${NAME})?`;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sharedMemoryRoutes(ctx: ServerContext): Route[] {
  const registry = (): SharedMemoryRegistry => {
    if (!ctx.sharedMemory) throw notFound('system shared memory is not enabled on this server');
    return ctx.sharedMemory;
  };

  const register = async (s: RequestScope) => {
    const shm = registry();
    const name = s.param(1) as string;
    const body = await s.json();
    if (!isObject(body)) throw invalidArgument('body: must be a JSON object {"key", "offset", "byte_size"}', { field: 'body' });
    const { key, offset, byte_size: byteSize } = body;
    if (typeof key !== 'string' || key === '') {
      throw invalidArgument('key: must be the shared-memory object\'s name, a non-empty string such as "/input0"', { field: 'key' });
    }
    const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (offset !== undefined && !count(offset)) throw invalidArgument('offset: must be a non-negative integer (bytes)', { field: 'offset' });
    if (!count(byteSize) || byteSize === 0) throw invalidArgument('byte_size: must be a positive integer (bytes)', { field: 'byte_size' });
    shm.register(name, key, (offset as number | undefined) ?? 0, byteSize as number);
    return empty();
  };

  return [
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/systemsharedmemory${REGION}/status$`),
      handler: async (s) =>
        json(
          200,
          registry()
            .status(s.param(1))
            .map((r) => ({ name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize })),
        ),
    },
    { method: 'POST', pattern: new RegExp(`^/v2/systemsharedmemory/region/${NAME}/register$`), handler: register },
    {
      method: 'POST',
      pattern: new RegExp(`^/v2/systemsharedmemory${REGION}/unregister$`),
      handler: async (s) => {
        registry().unregister(s.param(1));
        return empty();
      },
    },
  ];
}
