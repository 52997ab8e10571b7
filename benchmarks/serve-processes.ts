// The servers the serve benchmark puts in front of its load generators, each a process of its own:
// `infergate serve --upstream triton://...` started with the CLI as a user would (every listener on
// a free port), and the Node floor (node-floor-server.ts).

import * as path from 'node:path';
import { type ReadyLineProcess, startReadyLineProcess } from './ready-line-process';

/** A server speaking KServe v2 over gRPC and HTTP. */
export interface ServerProcess extends ReadyLineProcess {
  /** "127.0.0.1:Q" */
  readonly grpcAddress: string;
  /** "http://127.0.0.1:P" */
  readonly httpUrl: string;
  /** The command line, for the report. */
  readonly command: string;
}

export async function startInfergate(root: string, upstream: string, extraArgs: string[] = []): Promise<ServerProcess> {
  const args = ['serve', '--repository', path.join(root, 'models'), '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--upstream', `triton://${upstream}`, ...extraArgs];
  const p = await startReadyLineProcess('infergate', [path.join(root, 'dist', 'src', 'cli', 'main.js'), ...args], root, /^infergate ready: (http:\/\/\S+) grpc=(\S+)/m);
  const command = `infergate ${args.map((a) => (a.startsWith(root) ? path.relative(root, a) : a)).join(' ')}`;
  return { ...p, httpUrl: p.ready[1] as string, grpcAddress: p.ready[2] as string, command };
}

export async function startNodeFloor(root: string): Promise<ServerProcess> {
  const script = path.join(root, 'dist', 'benchmarks', 'node-floor-server.js');
  const p = await startReadyLineProcess('node-floor', [script], root, /^node-floor ready grpc=(\S+) http=(\S+)/m);
  return { ...p, grpcAddress: p.ready[1] as string, httpUrl: p.ready[2] as string, command: 'node dist/benchmarks/node-floor-server.js' };
}
