// The project's own generated GRPCInferenceService client, promisified for tests: `call` resolves
// with the response, `callError` resolves with the ServiceError a call must fail with.

import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import {
  type GRPCInferenceServiceClient,
  type MessageInit,
  type UnaryClientMethod,
  type UnaryMethodName,
  type UnaryMethods,
  inferenceService,
} from '../../src/backends/triton/proto';

export function grpcClient(address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ClientOptions = {}): GRPCInferenceServiceClient {
  const { Client } = inferenceService();
  return new Client(address, credentials, options);
}

export function call<M extends UnaryMethodName>(
  client: GRPCInferenceServiceClient,
  method: M,
  request: MessageInit<UnaryMethods[M]['request']>,
  metadata = new grpc.Metadata(),
): Promise<UnaryMethods[M]['response']> {
  return new Promise((resolve, reject) => {
    // Indexing the client by a generic method name loses the per-method parameter type.
    const method_ = client[method] as unknown as UnaryClientMethod<M>;
    method_.call(client, request, metadata, {}, (err, response) => (err ? reject(err) : resolve(response as UnaryMethods[M]['response'])));
  });
}

export async function callError<M extends UnaryMethodName>(
  client: GRPCInferenceServiceClient,
  method: M,
  request: MessageInit<UnaryMethods[M]['request']>,
  metadata = new grpc.Metadata(),
): Promise<grpc.ServiceError> {
  try {
    await call(client, method, request, metadata);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  assert.fail(`${method} was expected to fail`);
}

/** Asserts a failed call's status code and that its message contains every `mentions`. */
export function assertStatus(err: grpc.ServiceError, code: grpc.status, ...mentions: string[]): void {
  assert.equal(err.code, code, `expected ${grpc.status[code]}, got ${grpc.status[err.code]}: ${err.details}`);
  for (const m of mentions) assert.ok(err.details.includes(m), `"${err.details}" should mention ${m}`);
}
