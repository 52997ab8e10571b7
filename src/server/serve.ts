// `infergate serve` as a function: over one Runtime, the KServe v2 HTTP and gRPC listeners (one
// ingress and one client shared-memory registry between them) and the Prometheus listener, started
// together and stopped together: stop accepting, let requests in flight finish, then release.

import type { AddressInfo } from 'node:net';
import { InferenceMetrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import type { Runtime } from '../runtime/runtime';
import { GrpcServer } from './grpc/grpc-server';
import { HttpServer } from './http-server';
import type { Ingress } from './ingress/ingress';
import { MetricsServer } from './metrics-server';
import { SystemSharedMemoryRegistry } from './shared-memory/system-shared-memory-registry';

export interface TlsMaterialOptions {
  cert: Buffer;
  key: Buffer;
  /** Client certificates must chain to this CA (mutual TLS) when set. */
  ca?: Buffer;
}

export interface ServeOptions {
  host: string;
  /** 0 picks a free port; null turns the listener off. */
  httpPort: number;
  grpcPort: number | null;
  metricsPort: number | null;
  /** HTTP body limit without an ingress (with one: its maxRequestBytes). */
  maxBodyBytes?: number;
  ingress?: Ingress;
  /** TLS for the HTTP and gRPC listeners (not /metrics, which stays on loopback by default). */
  tls?: TlsMaterialOptions;
  serverVersion: string;
  logger: Logger;
}

export interface Serving {
  http: AddressInfo;
  grpcPort: number | undefined;
  metrics: AddressInfo | undefined;
  /** Stops accepting, finishes requests in flight, releases the models. */
  close(): Promise<void>;
}

export async function serve(runtime: Runtime, o: ServeOptions): Promise<Serving> {
  const sharedMemory = new SystemSharedMemoryRegistry();
  const tls = o.tls && { cert: o.tls.cert, key: o.tls.key, ...(o.tls.ca ? { ca: o.tls.ca, requireClientCert: true } : {}) };
  const http = new HttpServer(runtime, {
    host: o.host,
    port: o.httpPort,
    serverVersion: o.serverVersion,
    sharedMemory,
    ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
    ...(o.ingress ? { ingress: o.ingress } : {}),
    ...(tls ? { tls } : {}),
  });
  const grpc =
    o.grpcPort === null
      ? undefined
      : new GrpcServer(runtime, {
          host: o.host,
          port: o.grpcPort,
          serverVersion: o.serverVersion,
          sharedMemory,
          logger: o.logger,
          ...(o.ingress ? { ingress: o.ingress } : {}),
          ...(tls ? { tls } : {}),
        });
  const metrics = o.metricsPort === null ? undefined : new MetricsServer(new InferenceMetrics(runtime), { host: o.host, port: o.metricsPort });
  const httpAddress = await http.listen();
  let grpcPort: number | undefined;
  let metricsAddress: AddressInfo | undefined;
  try {
    grpcPort = await grpc?.listen();
    metricsAddress = await metrics?.listen();
  } catch (err) {
    await Promise.all([http.close(), grpc?.close(), metrics?.close()]);
    sharedMemory.close();
    throw err;
  }
  return {
    http: httpAddress,
    grpcPort,
    metrics: metricsAddress,
    async close() {
      // Batches stop waiting for company, so the requests being finished are answered promptly.
      runtime.drain();
      await Promise.all([http.close(), grpc?.close()]);
      await runtime.close();
      await metrics?.close();
      sharedMemory.close();
    },
  };
}
