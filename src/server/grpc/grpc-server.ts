// The gRPC face of infergate: KServe v2's GRPCInferenceService, as Triton serves it, so that any
// Triton client (tritonclient, perf_analyzer) works against infergate unchanged. This file owns the
// listener, its lifecycle and what every call goes through (authentication, rate limit, bounds,
// errors to statuses); the handler files own the methods. Shutdown stops accepting, lets calls in
// flight finish, ends open streams once their requests are answered, then returns.

import * as grpc from '@grpc/grpc-js';
import type * as m from '../../backends/triton/messages';
import { type MessageInit, type UnaryMethodName, inferenceService } from '../../backends/triton/proto';
import { InferError, unavailable } from '../../errors';
import { type Logger, stderrLogger } from '../../observability/logger';
import type { Runtime } from '../../runtime/runtime';
import { INFERGATE_VERSION } from '../../version';
import type { Ingress } from '../ingress/ingress';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import { type CallStatus, callStatusOf } from './grpc-errors';
import type { GrpcContext, UnaryHandler, UnaryHandlers } from './handler-types';
import { DEFAULT_STREAM_IN_FLIGHT, InferStream, type StreamCall } from './infer-stream';
import { metadataHandlers } from './metadata-handlers';
import { ModelAccess } from './model-access';
import { modelInfer } from './model-infer';
import { repositoryHandlers } from './repository-handlers';
import { sharedMemoryHandlers } from './shared-memory-handlers';

export interface GrpcTlsOptions {
  /** PEM certificate chain of the server. */
  cert: Buffer | string;
  /** PEM private key of the server. */
  key: Buffer | string;
  /** PEM root certificates that sign client certificates (mutual TLS). */
  ca?: Buffer | string;
  /** Refuse clients without a certificate signed by `ca`. Default false. */
  requireClientCert?: boolean;
}

export interface GrpcServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8001; 0 picks a free port. */
  port?: number;
  /** Serve TLS instead of plaintext. */
  tls?: GrpcTlsOptions;
  /** Authentication, per-model authorisation, rate limits, message size and stream caps. */
  ingress?: Ingress;
  /** Client system shared memory, shared with the HTTP face. */
  sharedMemory: SharedMemoryRegistry;
  /** Reported by ServerMetadata. Default: infergate's package version. */
  serverVersion?: string;
  /** Where internal errors are reported. Default: JSON lines on stderr. */
  logger?: Logger;
  /** Largest request message without an Ingress (with one: ingress.maxRequestBytes). Default 4 MiB. */
  maxMessageBytes?: number;
  /** ModelStreamInfer calls open at once without an Ingress (with one: ingress.maxConcurrentStreams). Default 256. */
  maxConcurrentStreams?: number;
  /** Unary calls being handled at once; past it a call is refused RESOURCE_EXHAUSTED. Default 4096. */
  maxCallsInFlight?: number;
  /** Requests of one stream run at once; past it the stream stops reading. Default 64. */
  maxStreamInFlight?: number;
  /** close() waits this long for calls in flight, then cancels what is left. Default 30 s. */
  drainTimeoutMs?: number;
}

export const DEFAULT_GRPC_PORT = 8001;
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_STREAMS = 256;
const DEFAULT_MAX_CALLS = 4096;
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** Methods of the service that infergate answers UNIMPLEMENTED. */
const UNIMPLEMENTED: readonly UnaryMethodName[] = [
  'CudaSharedMemoryStatus', 'CudaSharedMemoryRegister', 'CudaSharedMemoryUnregister', 'TraceSetting', 'LogSettings',
];

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`GrpcServer: ${name} must be an integer >= 1, got ${String(v)}`);
  return v;
}

function credentialsOf(tls: GrpcTlsOptions | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const pem = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v) : v);
  if (tls.requireClientCert && tls.ca === undefined) {
    throw new RangeError('GrpcServer: tls.requireClientCert needs tls.ca, the roots that sign client certificates');
  }
  return grpc.ServerCredentials.createSsl(
    tls.ca === undefined ? null : pem(tls.ca),
    [{ cert_chain: pem(tls.cert), private_key: pem(tls.key) }],
    tls.requireClientCert ?? false,
  );
}

export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly credentials: grpc.ServerCredentials;
  private readonly access: ModelAccess;
  private readonly logger: Logger;
  private readonly maxStreams: number;
  private readonly maxCalls: number;
  private readonly maxStreamInFlight: number;
  private readonly drainTimeoutMs: number;
  private readonly streams = new Set<InferStream>();
  private callsInFlight = 0;
  private closing: Promise<void> | undefined;

  constructor(
    runtime: Runtime,
    private readonly options: GrpcServerOptions,
  ) {
    if (!options || typeof options.sharedMemory !== 'object' || options.sharedMemory === null) {
      throw new TypeError('GrpcServer: options.sharedMemory (a SharedMemoryRegistry) is required');
    }
    const ingress = options.ingress;
    this.credentials = credentialsOf(options.tls);
    this.logger = options.logger ?? stderrLogger;
    this.maxStreams = positiveInteger(ingress?.maxConcurrentStreams ?? options.maxConcurrentStreams, DEFAULT_MAX_STREAMS, 'maxConcurrentStreams');
    this.maxCalls = positiveInteger(options.maxCallsInFlight, DEFAULT_MAX_CALLS, 'maxCallsInFlight');
    this.maxStreamInFlight = positiveInteger(options.maxStreamInFlight, DEFAULT_STREAM_IN_FLIGHT, 'maxStreamInFlight');
    this.drainTimeoutMs = positiveInteger(options.drainTimeoutMs, DEFAULT_DRAIN_TIMEOUT_MS, 'drainTimeoutMs');
    const maxMessage = positiveInteger(ingress?.maxRequestBytes ?? options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes');
    this.access = new ModelAccess(runtime, ingress);
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessage });
    const ctx: GrpcContext = {
      runtime,
      access: this.access,
      sharedMemory: options.sharedMemory,
      serverVersion: options.serverVersion ?? INFERGATE_VERSION,
    };
    const handlers: UnaryHandlers = {
      ...metadataHandlers(ctx),
      ...repositoryHandlers(ctx),
      ...sharedMemoryHandlers(ctx),
      ModelInfer: (req, call) => modelInfer(this.access, options.sharedMemory, call.principal, req, call.signal),
    };
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(handlers)) {
      implementation[name] = this.unary(name, handler as UnaryHandler<UnaryMethodName>);
    }
    for (const name of UNIMPLEMENTED) implementation[name] = this.unary(name, undefined);
    implementation['ModelStreamInfer'] = (call: StreamCall) => this.stream(call);
    this.server.addService(inferenceService().service, implementation);
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    const host = this.options.host ?? '127.0.0.1';
    const address = `${host.includes(':') ? `[${host}]` : host}:${this.options.port ?? DEFAULT_GRPC_PORT}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, this.credentials, (err, port) => {
        if (err) reject(new Error(`gRPC server cannot listen on ${address}: ${err.message}`));
        else resolve(port);
      });
    });
  }

  /** Unary calls being handled now and ModelStreamInfer streams open now. */
  get active(): { calls: number; streams: number } {
    return { calls: this.callsInFlight, streams: this.streams.size };
  }

  /**
   * Stops accepting calls, lets those in flight finish and open streams answer what they have
   * read (then end), and resolves once every connection is closed. Past drainTimeoutMs, what is
   * left is cancelled. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.log('warn', 'grpc.drain_timeout', { calls: this.callsInFlight, streams: this.streams.size, timeoutMs: this.drainTimeoutMs });
        this.server.forceShutdown();
        resolve();
      }, this.drainTimeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const stream of this.streams) stream.drain();
    });
    return this.closing;
  }

  /** A grpc-js unary handler around `handler` (undefined: the method is not implemented). */
  private unary<M extends UnaryMethodName>(method: string, handler: UnaryHandler<M> | undefined): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const fail = (status: CallStatus) => callback(status, null, status.metadata);
      if (this.closing) return fail(callStatusOf(unavailable('the server is shutting down'), method, this.logger));
      if (this.callsInFlight >= this.maxCalls) {
        return fail(callStatusOf(new InferError('resource_exhausted', `the server is handling ${this.maxCalls} calls already; retry`, { retryAfterSeconds: 1 }), method, this.logger));
      }
      this.callsInFlight++;
      const abort = new AbortController();
      // grpc-js also says 'cancelled' when a finished call's stream closes: only a call still being
      // handled is aborted.
      let answered = false;
      call.on('cancelled', () => {
        if (!answered) abort.abort();
      });
      const request = call.request as unknown as Parameters<UnaryHandler<M>>[0];
      new Promise<MessageInit<unknown>>((resolve) => {
        const principal = this.access.authenticate(call.metadata);
        this.access.admit(principal);
        if (!handler) throw new InferError('unimplemented', `inference.GRPCInferenceService/${method} is not implemented by infergate`);
        resolve(handler(request, { principal, signal: abort.signal }) as MessageInit<unknown>);
      })
        .then(
          (response) => {
            answered = true;
            callback(null, response);
          },
          (err: unknown) => {
            answered = true;
            fail(callStatusOf(err, method, this.logger));
          },
        )
        // grpc-js answers a response it cannot serialise itself; anything else thrown here is a bug.
        .catch((err: unknown) => this.logger.log('error', 'grpc.internal_error', { method, error: String(err) }))
        .finally(() => this.callsInFlight--);
    };
  }

  private stream(call: StreamCall): void {
    const refuse = (err: unknown) => {
      const status = callStatusOf(err, 'ModelStreamInfer', this.logger);
      call.emit('error', { code: status.code, details: status.details, metadata: status.metadata });
    };
    if (this.closing) return refuse(unavailable('the server is shutting down'));
    let principal: ReturnType<ModelAccess['authenticate']>;
    try {
      principal = this.access.authenticate(call.metadata);
    } catch (err) {
      return refuse(err);
    }
    if (this.streams.size >= this.maxStreams) {
      return refuse(new InferError('resource_exhausted', `the server has ${this.maxStreams} streams open already; retry later`, { retryAfterSeconds: 1 }));
    }
    const run = (req: m.ModelInferRequest, signal: AbortSignal) =>
      Promise.resolve().then(() => {
        this.access.admit(principal);
        return modelInfer(this.access, this.options.sharedMemory, principal, req, signal);
      });
    const stream: InferStream = new InferStream(call, run, this.logger, () => this.streams.delete(stream), this.maxStreamInFlight);
    this.streams.add(stream);
  }
}
