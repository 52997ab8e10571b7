// The shape every unary handler of the gRPC face has, and what it is given: the server's parts and
// the authenticated caller. grpc-server.ts wraps these into grpc-js handlers (authentication, rate
// limit, cancellation, errors to statuses) in one place.

import type { MessageInit, UnaryMethodName, UnaryMethods } from '../../backends/triton/proto';
import type { Runtime } from '../../runtime/runtime';
import type { Principal } from '../ingress/ingress';
import type { SharedMemoryRegistry } from '../shared-memory-registry';
import type { ModelAccess } from './model-access';

export interface GrpcContext {
  runtime: Runtime;
  access: ModelAccess;
  sharedMemory: SharedMemoryRegistry;
  serverVersion: string;
}

export interface CallInfo {
  principal: Principal;
  /** Aborted when the client cancels the call or its deadline passes. */
  signal: AbortSignal;
}

export type UnaryHandler<M extends UnaryMethodName> = (
  request: UnaryMethods[M]['request'],
  call: CallInfo,
) => MessageInit<UnaryMethods[M]['response']> | Promise<MessageInit<UnaryMethods[M]['response']>>;

export type UnaryHandlers = { [M in UnaryMethodName]?: UnaryHandler<M> };
