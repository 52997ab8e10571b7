// One Triton replica: a gRPC channel with keepalive, the calls in flight on it, whether its last
// health probe passed, and its circuit breaker. The pool decides which replica a batch goes to;
// a replica only carries the call and keeps score.

import * as grpc from '@grpc/grpc-js';
import { CircuitBreaker } from './circuit-breaker';
import { inferenceService } from './proto';
import type { ResolvedTritonClientOptions } from './triton-options';

/** A failed call: the gRPC status and the server's message. */
export class TritonCallError extends Error {
  constructor(
    readonly endpoint: string,
    readonly method: string,
    readonly grpcCode: grpc.status,
    readonly details: string,
  ) {
    super(`Triton ${endpoint} ${method}: ${grpc.status[grpcCode] ?? grpcCode}: ${details}`);
    this.name = 'TritonCallError';
  }

  /** Another replica may succeed where this one failed. */
  get retryable(): boolean {
    return this.grpcCode === grpc.status.UNAVAILABLE || this.grpcCode === grpc.status.NOT_FOUND;
  }

  /** The failure says something about the replica (for its breaker), not about the request. */
  get replicaFault(): boolean {
    return (
      this.grpcCode === grpc.status.UNAVAILABLE ||
      this.grpcCode === grpc.status.NOT_FOUND ||
      this.grpcCode === grpc.status.INTERNAL ||
      this.grpcCode === grpc.status.UNKNOWN
    );
  }
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

export type HealthState = 'unknown' | 'ready' | 'ejected';

export class Replica {
  readonly breaker: CircuitBreaker;
  /** Calls in flight on this replica. */
  outstanding = 0;
  health: HealthState = 'unknown';
  /** Why the replica was last ejected (for error messages and stats). */
  lastError = '';
  /** Set when the server's model does not match the local config: never used again. */
  mismatch: string | undefined;
  /** The server's version from ServerMetadata, once checked (prediction logs name it). */
  serverVersion: string | undefined;
  /** ModelInfer calls sent, and those that failed (probes and registrations are not counted). */
  calls = 0;
  failures = 0;
  /** When a call last succeeded (performance.now()): a busy replica whose probe is slow still answers. */
  lastSuccessAt = -Infinity;
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;

  constructor(
    readonly endpoint: string,
    options: ResolvedTritonClientOptions,
  ) {
    this.breaker = new CircuitBreaker(options.breakerThreshold, options.breakerOpenMs);
    const { Client } = inferenceService();
    this.client = new Client(endpoint, credentialsOf(options), {
      'grpc.keepalive_time_ms': options.keepaliveMs,
      'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor(options.keepaliveMs / 2)),
      'grpc.keepalive_permit_without_calls': 1,
      // Retries are the pool's (another replica, within the deadline), not the channel's.
      'grpc.enable_retries': 0,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.max_send_message_length': 256 * 1024 * 1024,
      // One channel per replica even when two replicas resolve alike.
      'grpc.use_local_subchannel_pool': 1,
      // Certificates issued for a name other than the endpoint's host (IP endpoints, tests).
      ...(options.tls?.serverNameOverride ? { 'grpc.ssl_target_name_override': options.tls.serverNameOverride } : {}),
    });
    this.metadata = new grpc.Metadata();
    if (options.bearerToken) this.metadata.set('authorization', `Bearer ${options.bearerToken}`);
    if (options.apiKey) this.metadata.set(options.apiKeyHeader, options.apiKey);
  }

  /** Eligible for a new call: probed ready, circuit closed (or due a trial), matching model. */
  get usable(): boolean {
    return this.health === 'ready' && this.mismatch === undefined && this.breaker.allowsCalls;
  }

  /**
   * One unary call with a deadline (ms on performance.now()'s clock). Resolves with the response
   * or rejects with a TritonCallError. `signal` cancels the call.
   */
  call<Res>(method: string, request: unknown, deadlineAt: number, signal?: AbortSignal): Promise<Res> {
    const fn = (this.client as unknown as Record<string, Unary>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`the inference service has no method ${method}`));
    const deadline = new Date(Date.now() + Math.max(0, deadlineAt - performance.now()));
    const counted = method === 'ModelInfer';
    this.outstanding++;
    if (counted) this.calls++;
    return new Promise<Res>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const call = fn.call(this.client, request, this.metadata, { deadline }, (err, response) => {
        this.outstanding--;
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (err) {
          if (counted) this.failures++;
          reject(new TritonCallError(this.endpoint, method, err.code, err.details || err.message));
        } else {
          this.lastSuccessAt = performance.now();
          resolve(response as Res);
        }
      });
      if (signal) {
        onAbort = () => call.cancel();
        if (signal.aborted) call.cancel();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  close(): void {
    this.client.close();
  }
}

function credentialsOf(o: ResolvedTritonClientOptions): grpc.ChannelCredentials {
  if (!o.tls) return grpc.credentials.createInsecure();
  const buf = (v: Buffer | string | undefined) => (v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));
  return grpc.credentials.createSsl(buf(o.tls.rootCerts), buf(o.tls.privateKey), buf(o.tls.certChain));
}

