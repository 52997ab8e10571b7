// One unary call of the generated client as a promise, always with a deadline: a call without one
// could wait forever on a server that accepted it and never answered.

import * as grpc from '@grpc/grpc-js';
import type { GRPCInferenceServiceClient, MessageInit, UnaryClientMethod, UnaryMethodName, UnaryMethods } from './proto';

export interface UnaryCallOptions {
  /** How long the call may take, in milliseconds (> 0). The server sees it as grpc-timeout. */
  timeoutMs: number;
  /** Sent with the call (authorization, tracing); none when absent. */
  metadata?: grpc.Metadata | undefined;
  /** Aborting cancels the call; the promise then rejects with status CANCELLED. */
  signal?: AbortSignal | undefined;
}

/**
 * Calls `method` on `client` and resolves with its response, or rejects with the
 * grpc.ServiceError the call ended with (its `code` is a grpc.status).
 */
export function unaryCall<M extends UnaryMethodName>(
  client: GRPCInferenceServiceClient,
  method: M,
  request: MessageInit<UnaryMethods[M]['request']>,
  options: UnaryCallOptions,
): Promise<UnaryMethods[M]['response']> {
  const { timeoutMs } = options;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(new RangeError(`timeoutMs must be a finite number of milliseconds above 0, got ${String(timeoutMs)}`));
  }
  // Indexing the client with a generic M loses the link between M and the signature; this one
  // cast restores it.
  const fn = client[method] as UnaryClientMethod<M>;
  const deadline = new Date(Date.now() + timeoutMs);
  return new Promise((resolve, reject) => {
    const signal = options.signal;
    const onAbort = (): void => call.cancel();
    const call = fn.call(client, request, options.metadata ?? new grpc.Metadata(), { deadline }, (err, response) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else if (response === undefined) reject(new Error(`${method} ended without an error and without a response`));
      else resolve(response);
    });
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
