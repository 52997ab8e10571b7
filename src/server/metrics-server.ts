// The Prometheus endpoint: GET /metrics on its own listener (127.0.0.1:8002 by default, Triton's
// metrics port), so scrapes never queue behind inference traffic and the port can be firewalled
// apart from it. Every other path is 404.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpLifecycle } from './http-lifecycle';
import type { InferenceMetrics } from '../observability/metrics';

export interface MetricsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8002; 0 picks a free port. */
  port?: number;
}

/** Scrapes answered at once; past this a scrape is answered 503 (a scraper retrying in a loop cannot pile up work). */
const MAX_CONCURRENT_SCRAPES = 4;

export class MetricsServer {
  private readonly server: http.Server;
  private readonly lifecycle: HttpLifecycle;

  constructor(
    private readonly metrics: InferenceMetrics,
    private readonly options: MetricsServerOptions = {},
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.lifecycle = new HttpLifecycle(this.server);
    this.server.keepAliveTimeout = 5000;
    // A scrape is one small GET: a client that takes longer than this to send it is dropped.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(): Promise<AddressInfo> {
    return this.lifecycle.listen(this.options.port ?? 8002, this.options.host ?? '127.0.0.1');
  }

  /** Stops accepting connections, finishes the scrapes in flight, closes every socket. */
  close(): Promise<void> {
    return this.lifecycle.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.lifecycle.track(res);
    let status = 200;
    let type = this.metrics.contentType;
    let body: string;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') {
      [status, type, body] = [404, 'text/plain; charset=utf-8', `no endpoint ${req.method} ${path}; metrics are at GET /metrics\n`];
    } else if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      [status, type, body] = [405, 'text/plain; charset=utf-8', `method ${req.method} is not allowed on /metrics; use GET\n`];
    } else if (this.lifecycle.inFlight > MAX_CONCURRENT_SCRAPES) {
      res.setHeader('retry-after', '1');
      [status, type, body] = [503, 'text/plain; charset=utf-8', `more than ${MAX_CONCURRENT_SCRAPES} scrapes at once; retry later\n`];
    } else {
      try {
        body = await this.metrics.metrics();
      } catch (err) {
        process.stderr.write(`infergate: metrics collection failed: ${(err as Error).stack ?? String(err)}\n`);
        [status, type, body] = [500, 'text/plain; charset=utf-8', 'metrics collection failed\n'];
      }
    }
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
