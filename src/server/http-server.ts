// The HTTP face of infergate: Triton's KServe v2 REST API (health, metadata, inference with JSON,
// binary tensor data or system shared memory, statistics, model configuration, the model
// repository, shared-memory control) and the record-scoring endpoint /v1/models/{name}/score. It
// owns routing, ingress, limits and status codes; the route groups in ./http/ do the parsing and
// the models do the work. Shutdown stops accepting, lets requests in flight finish, then returns.

import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { invalidArgument, notFound } from '../errors';
import type { Runtime } from '../runtime/runtime';
import type { Ingress, Principal } from './ingress/ingress';
import { HttpLifecycle } from './http-lifecycle';
import { DEFAULT_MAX_BODY_BYTES } from './json-body';
import type { SharedMemoryRegistry } from './shared-memory-registry';
import { inferRoutes } from './http/infer-routes';
import { metadataRoutes } from './http/metadata-routes';
import { errorReply, writeReply } from './http/reply';
import { repositoryRoutes } from './http/repository-routes';
import { rolloutRoutes } from './http/rollout-routes';
import { type Reply, RequestScope, type Route, type ServerContext, json } from './http/route';
import { sharedMemoryRoutes } from './http/shared-memory-routes';
import { statisticsRoutes } from './http/statistics-routes';

export interface HttpTlsOptions {
  /** PEM certificate chain and private key of the server. */
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM CA certificates that client certificates must chain to. */
  ca?: string | Buffer;
  /** Refuse clients without a certificate signed by `ca` (mutual TLS). Default false. */
  requireClientCert?: boolean;
}

export interface HttpServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Largest accepted request body. Default 1 MiB; with `ingress`, its maxRequestBytes. */
  maxBodyBytes?: number;
  /** Version string reported by GET /v2. */
  serverVersion?: string;
  /** Authentication, per-model authorization and rate limits; every request but /v2/health/* passes it. */
  ingress?: Ingress;
  /** Client system shared memory (the /v2/systemsharedmemory API and shared-memory tensors); off when absent. */
  sharedMemory?: SharedMemoryRegistry;
  /** Serve HTTPS instead of HTTP. */
  tls?: HttpTlsOptions;
}

export class HttpServer {
  private readonly server: http.Server;
  private readonly routes: Route[];
  private readonly ctx: ServerContext;
  private readonly lifecycle: HttpLifecycle;

  constructor(
    runtime: Runtime,
    private readonly options: HttpServerOptions = {},
  ) {
    const maxBodyBytes = options.ingress?.maxRequestBytes ?? options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
      throw new RangeError(`HttpServer: the body limit must be a positive integer of bytes, got ${String(maxBodyBytes)}`);
    }
    this.ctx = {
      runtime,
      ingress: options.ingress,
      sharedMemory: options.sharedMemory,
      maxBodyBytes,
      serverVersion: options.serverVersion ?? '0.0.0',
    };
    // Order matters where patterns overlap: /v2/models/stats before /v2/models/{name}.
    this.routes = [
      ...statisticsRoutes(this.ctx),
      ...metadataRoutes(this.ctx),
      ...inferRoutes(this.ctx),
      ...repositoryRoutes(this.ctx),
      ...rolloutRoutes(this.ctx),
      ...sharedMemoryRoutes(this.ctx),
    ];
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const tls = options.tls;
    this.server = tls
      ? https.createServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
            requestCert: tls.requireClientCert === true,
            rejectUnauthorized: tls.requireClientCert === true,
          },
          onRequest,
        )
      : http.createServer(onRequest);
    this.server.keepAliveTimeout = 5000;
    this.lifecycle = new HttpLifecycle(this.server);
  }

  /** "https" with TLS, else "http". */
  get scheme(): 'http' | 'https' {
    return this.options.tls ? 'https' : 'http';
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(): Promise<AddressInfo> {
    return this.lifecycle.listen(this.options.port ?? 8000, this.options.host ?? '127.0.0.1');
  }

  /** Stops accepting connections, waits for requests in flight to be answered, closes sockets. */
  close(): Promise<void> {
    return this.lifecycle.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Counted out on 'close', which comes once the response is flushed or its connection is gone:
    // end()'s callback never runs for a client that left before its answer, and close() would
    // then wait for that request forever.
    this.lifecycle.track(res);
    let reply: Reply;
    try {
      reply = await this.dispatch(req);
    } catch (err) {
      reply = errorReply(req, res, err);
    }
    writeReply(res, reply);
  }

  private async dispatch(req: http.IncomingMessage): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw invalidArgument(`malformed request target ${JSON.stringify(req.url)}`);
    }
    const path = url.pathname;
    let principal: Principal | undefined;
    const ingress = this.ctx.ingress;
    // Health probes are public; everything else, known path or not, is authenticated first, so an
    // anonymous caller learns nothing (not even which endpoints exist).
    if (ingress && !path.startsWith('/v2/health/')) {
      principal = ingress.authenticate(req.headers);
      ingress.admit(principal);
    }
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method === req.method) return route.handler(new RequestScope(req, m, principal, this.ctx));
    }
    if (pathMatched) return json(405, { error: `method ${req.method} is not allowed on ${path}`, code: 'invalid_argument' });
    throw notFound(`no endpoint ${req.method} ${path}`);
  }
}
