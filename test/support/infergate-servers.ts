// infergate's gRPC and HTTP servers, in this process, over one Runtime and one client shared-memory
// registry, on free loopback ports: what a Triton client talks to in the compatibility suite.
//
// The parts are loaded by module path at run time rather than imported, so that this file compiles
// while a part is still being written elsewhere; a part that is missing (no module, no export, not
// a class) fails startInfergate() with one error naming every missing part, its file and its
// branch. Every part that did start is closed again before that error is thrown.

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Runtime } from '../../src/runtime/runtime';
import { MODELS, ROOT } from '../helpers';

/** The tests run compiled, from dist/test/; the sources they load live in dist/src/. */
const DIST_SRC = path.join(ROOT, 'dist', 'src');

interface Part {
  /** What it is, in words, for the error. */
  what: string;
  /** Its source file, relative to the checkout. */
  source: string;
  exportName: string;
  /** Where it is being written. */
  branch: string;
}

const PARTS = {
  grpcServer: { what: "infergate's gRPC server (GRPCInferenceService)", source: 'src/server/grpc/grpc-server.ts', exportName: 'GrpcServer', branch: 'grpc' },
  httpServer: { what: "infergate's HTTP server (KServe v2 REST)", source: 'src/server/http-server.ts', exportName: 'HttpServer', branch: 'http' },
  sharedMemory: {
    what: 'the client system shared-memory registry',
    source: 'src/server/shared-memory/system-shared-memory-registry.ts',
    exportName: 'SystemSharedMemoryRegistry',
    branch: 'grpc',
  },
} satisfies Record<string, Part>;

/** What this file relies on of each server: listen() resolving with the bound port, close(). */
interface ListeningServer {
  listen(): Promise<unknown>;
  close(): Promise<void> | void;
}
type ServerClass = new (runtime: Runtime, options: Record<string, unknown>) => ListeningServer;
type RegistryClass = new () => { close(): void };

export interface InfergateServers {
  readonly runtime: Runtime;
  /** "127.0.0.1:<port>" */
  readonly grpcAddress: string;
  /** "127.0.0.1:<port>" */
  readonly httpAddress: string;
  /** Closes the servers, the shared-memory registry and the runtime. */
  close(): Promise<void>;
}

/** The class `part` exports, or a line saying why it cannot be had. */
function loadPart(part: Part): { value?: unknown; problem?: string } {
  const compiled = path.join(DIST_SRC, part.source.replace(/^src\//, '').replace(/\.ts$/, '.js'));
  const where = `${part.what}: expected class ${part.exportName} exported by ${part.source} (branch ${part.branch})`;
  if (!existsSync(compiled)) return { problem: `${where}; there is no ${path.relative(ROOT, compiled)}` };
  let exports: Record<string, unknown>;
  try {
    exports = require(compiled) as Record<string, unknown>;
  } catch (err) {
    return { problem: `${where}; loading ${path.relative(ROOT, compiled)} failed: ${(err as Error).message}` };
  }
  const value = exports[part.exportName];
  if (typeof value !== 'function') return { problem: `${where}; the module exports ${Object.keys(exports).join(', ') || 'nothing'}` };
  return { value };
}

/** The port a listen() resolved with: a number, or an AddressInfo-like { port }. */
function portOf(bound: unknown, what: string): number {
  const port = typeof bound === 'number' ? bound : (bound as { port?: unknown } | null)?.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) {
    throw new Error(`${what}: listen() must resolve with the bound port (a number or { port }), got ${JSON.stringify(bound)}`);
  }
  return port;
}

/**
 * Loads `models` of the project's repository (models/) and serves them over gRPC and HTTP with one
 * shared-memory registry. Checks that every part exists before loading anything.
 */
export async function startInfergate(models: string[]): Promise<InfergateServers> {
  const loaded = Object.fromEntries(Object.entries(PARTS).map(([key, part]) => [key, loadPart(part)])) as Record<keyof typeof PARTS, ReturnType<typeof loadPart>>;
  const problems = Object.values(loaded).flatMap((l) => (l.problem ? [l.problem] : []));
  if (problems.length > 0) {
    throw new Error(`infergate cannot be checked against tritonclient: ${problems.length} server part(s) missing:\n  - ${problems.join('\n  - ')}`);
  }
  const Registry = loaded.sharedMemory.value as RegistryClass;
  const Grpc = loaded.grpcServer.value as ServerClass;
  const Http = loaded.httpServer.value as ServerClass;

  const runtime = await Runtime.load({ repository: MODELS, models });
  let sharedMemory: InstanceType<RegistryClass> | undefined;
  const started: ListeningServer[] = [];
  const closeAll = async (): Promise<void> => {
    // Servers first (they stop using the regions), then the regions, then the models.
    await Promise.allSettled(started.map(async (s) => s.close()));
    sharedMemory?.close();
    await runtime.close();
  };
  try {
    sharedMemory = new Registry();
    const options = { host: '127.0.0.1', port: 0, sharedMemory };
    const grpc = new Grpc(runtime, options);
    const grpcPort = portOf(await grpc.listen().finally(() => started.push(grpc)), PARTS.grpcServer.what);
    const http = new Http(runtime, options);
    const httpPort = portOf(await http.listen().finally(() => started.push(http)), PARTS.httpServer.what);
    return { runtime, grpcAddress: `127.0.0.1:${grpcPort}`, httpAddress: `127.0.0.1:${httpPort}`, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
