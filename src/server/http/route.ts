// What every HTTP route group shares: the route table entry, the reply a handler returns, and the
// per-request scope that hands out models only after ingress has authorized the caller for them.

import type { IncomingMessage } from 'node:http';
import type { Model } from '../../runtime/model';
import type { Runtime } from '../../runtime/runtime';
import type { Ingress, Principal } from '../ingress/ingress';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import { parseJson, readBody, readJsonBody } from '../json-body';

/**
 * A handler's answer. `json` is sent as application/json; `empty` as a 200 with no body (Triton's
 * answer to repository and shared-memory control calls); `inference` is a KServe v2 inference
 * response whose JSON header may be followed by binary tensor data.
 */
export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; empty: true }
  | { status: number; inference: { header: Buffer; binary: Buffer[] } };

export const json = (status: number, body: unknown): Reply => ({ status, json: body });
export const empty = (): Reply => ({ status: 200, empty: true });

/** What the route groups need from the server. */
export interface ServerContext {
  runtime: Runtime;
  ingress: Ingress | undefined;
  sharedMemory: SharedMemoryRegistry | undefined;
  /** Largest request body accepted, bytes. */
  maxBodyBytes: number;
  serverVersion: string;
}

export class RequestScope {
  constructor(
    readonly req: IncomingMessage,
    readonly match: RegExpExecArray,
    /** Undefined when the server runs without ingress. */
    readonly principal: Principal | undefined,
    private readonly ctx: ServerContext,
  ) {}

  /** A path parameter, URL-decoded; a malformed escape is taken as written rather than crashing the request. */
  param(index: number): string | undefined {
    const raw = this.match[index];
    if (raw === undefined) return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }

  /** Whether the caller may use `name` (always, without ingress). */
  mayUse(name: string): boolean {
    if (!this.ctx.ingress || !this.principal) return true;
    try {
      this.ctx.ingress.authorizeModel(this.principal, name);
      return true;
    } catch {
      return false;
    }
  }

  /** Authorizes the caller for `name`, then resolves it: a model outside the allow-list reads exactly like a missing one. */
  model(name: string): Model {
    if (this.ctx.ingress && this.principal) this.ctx.ingress.authorizeModel(this.principal, name);
    return this.ctx.runtime.model(name);
  }

  /** Authorizes the caller for a model name without resolving it (repository load/unload). */
  authorize(name: string): void {
    if (this.ctx.ingress && this.principal) this.ctx.ingress.authorizeModel(this.principal, name);
  }

  body(): Promise<Buffer> {
    return readBody(this.req, this.ctx.maxBodyBytes);
  }

  json(): Promise<unknown> {
    return readJsonBody(this.req, this.ctx.maxBodyBytes);
  }

  /** The JSON body, or undefined when the request has none (optional bodies of control calls). */
  async optionalJson(): Promise<unknown> {
    const body = await this.body();
    return body.length === 0 ? undefined : parseJson(body);
  }
}

export type Handler = (scope: RequestScope) => Promise<Reply>;

export interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handler: Handler;
}

/** Path pieces: a model or region name, and an optional `/versions/{v}`. */
export const NAME = '([^/]+)';
export const VERSION = '(?:/versions/([^/]+))?';
