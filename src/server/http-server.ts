// The HTTP face of infergate: KServe v2 REST (health, metadata, JSON-tensor infer) and the
// record-scoring endpoint /v1/models/{name}/score. It owns parsing, limits and status codes; the
// models do the work. Shutdown stops accepting, lets requests in flight finish, then returns.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { asInferError, httpStatusOf, invalidArgument, notFound } from '../errors';
import type { Model } from '../runtime/model';
import type { Runtime } from '../runtime/runtime';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './json-body';
import { inferResponse, parseInferRequest } from './kserve-json';

export interface HttpServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Largest accepted request body. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Version string reported by GET /v2. */
  serverVersion?: string;
}

/** An optional non-negative integer request header; a malformed one is invalid_argument naming it. */
function integerHeader(req: http.IncomingMessage, name: string): number | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (Number.isNaN(n)) throw invalidArgument(`header "${name}" must be a non-negative integer, got "${String(raw)}"`, { field: name });
  return n;
}

type Handler = (req: http.IncomingMessage, match: RegExpExecArray) => Promise<[number, unknown]>;

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handler: Handler;
}

const NAME = '([^/]+)';
const VERSION = '(?:/versions/([^/]+))?';

export class HttpServer {
  private readonly server: http.Server;
  private readonly routes: Route[];
  private readonly maxBodyBytes: number;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: HttpServerOptions = {},
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.routes = [
      { method: 'GET', pattern: /^\/v2\/health\/live$/, handler: async () => [200, { live: true }] },
      { method: 'GET', pattern: /^\/v2\/health\/ready$/, handler: async () => this.serverReady() },
      { method: 'GET', pattern: /^\/v2\/?$/, handler: async () => [200, this.serverMetadata()] },
      { method: 'GET', pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/ready$`), handler: async (_r, m) => this.modelReady(m) },
      { method: 'GET', pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/?$`), handler: async (_r, m) => this.modelMetadata(m) },
      { method: 'POST', pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/infer$`), handler: (r, m) => this.infer(r, m) },
      { method: 'POST', pattern: new RegExp(`^/v1/models/${NAME}${VERSION}/score$`), handler: (r, m) => this.score(r, m) },
    ];
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 8000, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections, waits for requests in flight to be answered, closes sockets. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    let status: number;
    let body: unknown;
    try {
      [status, body] = await this.dispatch(req);
    } catch (err) {
      const e = asInferError(err);
      status = httpStatusOf(e.code);
      body = e.code === 'internal' ? { error: 'internal error', code: 'internal' } : e.toJSON();
      if (e.code === 'internal') process.stderr.write(`infergate: internal error on ${req.method} ${req.url}: ${e.stack ?? e.message}\n`);
      if (e.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(Math.ceil(e.retryAfterSeconds)));
      // An oversized body is not read to its end; the connection cannot be reused.
      if (e.code === 'payload_too_large') res.setHeader('connection', 'close');
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text, () => {
      if (--this.inFlight === 0 && this.idle) this.idle();
    });
  }

  private async dispatch(req: http.IncomingMessage): Promise<[number, unknown]> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method === req.method) return route.handler(req, m);
    }
    if (pathMatched) {
      return [405, { error: `method ${req.method} is not allowed on ${url.pathname}`, code: 'invalid_argument' }];
    }
    throw notFound(`no endpoint ${req.method} ${url.pathname}`);
  }

  private model(m: RegExpExecArray): Model {
    return this.runtime.model(decodeURIComponent(m[1] as string));
  }

  private version(m: RegExpExecArray): string | undefined {
    return m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  }

  private serverReady(): [number, unknown] {
    const ready = this.runtime.ready;
    return [ready ? 200 : 503, { ready }];
  }

  private serverMetadata(): unknown {
    return { name: 'infergate', version: this.options.serverVersion ?? '0.0.0', extensions: [] };
  }

  private modelReady(m: RegExpExecArray): [number, unknown] {
    const model = this.model(m);
    const version = this.version(m);
    if (version !== undefined) model.preprocessHash(version); // throws not_found for an unloaded version
    return [model.ready ? 200 : 503, { name: model.name, ready: model.ready }];
  }

  private modelMetadata(m: RegExpExecArray): [number, unknown] {
    const model = this.model(m);
    const version = this.version(m);
    if (version !== undefined) model.preprocessHash(version);
    const batched = model.config.maxBatchSize > 0;
    const tensor = (t: { name: string; datatype: string; dims: number[] }) => ({
      name: t.name,
      datatype: t.datatype,
      shape: batched ? [-1, ...t.dims] : t.dims,
    });
    return [
      200,
      {
        name: model.name,
        versions: (version !== undefined ? [version] : model.versions.map(String)),
        platform: model.config.platform,
        inputs: model.config.inputs.map(tensor),
        outputs: model.config.outputs.map(tensor),
      },
    ];
  }

  private async infer(req: http.IncomingMessage, m: RegExpExecArray): Promise<[number, unknown]> {
    const model = this.model(m);
    const version = this.version(m);
    const request = parseInferRequest(await readJsonBody(req, this.maxBodyBytes), model.name);
    const result = await model.inferTensors(request.inputs, {
      ...(version !== undefined ? { version } : {}),
      ...(request.outputs ? { outputs: request.outputs } : {}),
    });
    return [200, inferResponse(model.name, result.modelVersion, request.id, result.outputs)];
  }

  private async score(req: http.IncomingMessage, m: RegExpExecArray): Promise<[number, unknown]> {
    const model = this.model(m);
    const version = this.version(m);
    const record = await readJsonBody(req, this.maxBodyBytes);
    const priority = integerHeader(req, 'x-infergate-priority');
    const timeout = integerHeader(req, 'x-infergate-timeout-us');
    return [
      200,
      await model.infer(record, {
        ...(version !== undefined ? { version } : {}),
        ...(priority !== undefined ? { priority } : {}),
        ...(timeout !== undefined ? { timeoutMicroseconds: timeout } : {}),
      }),
    ];
  }
}
