// unaryCall against a real gRPC server built from the same service definition (the one infergate's
// own gRPC ingress will serve): responses, server errors, metadata, deadlines and cancellation.

import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type GRPCInferenceServiceClient, inferenceService } from '../../src/backends/triton/proto';
import { unaryCall } from '../../src/backends/triton/unary-call';

describe('unaryCall', () => {
  let server: grpc.Server;
  let client: GRPCInferenceServiceClient;
  const seen: { authorization: grpc.MetadataValue[]; deadline: grpc.Deadline }[] = [];
  // Resolved when the server receives a ModelMetadata call (which it never answers).
  let metadataCallArrived: () => void = () => undefined;
  let metadataCallCancelled: () => void = () => undefined;

  before(async () => {
    server = new grpc.Server();
    server.addService(inferenceService().service, {
      ServerLive: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        seen.push({ authorization: call.metadata.get('authorization'), deadline: call.getDeadline() });
        callback(null, { live: true });
      },
      ModelReady: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        callback({ code: grpc.status.NOT_FOUND, details: `model "${call.request.name}" is not known` });
      },
      ModelMetadata: (call: grpc.ServerUnaryCall<unknown, unknown>) => {
        call.on('cancelled', () => metadataCallCancelled());
        metadataCallArrived();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new (inferenceService().Client)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client.close();
    server.forceShutdown();
  });

  it('resolves with the decoded response, sending the metadata and a deadline', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer t0k3n');
    const response = await unaryCall(client, 'ServerLive', {}, { timeoutMs: 60_000, metadata });
    assert.deepEqual(response, { live: true });
    const call = seen.at(-1);
    assert.ok(call);
    assert.deepEqual(call.authorization, ['Bearer t0k3n']);
    // grpc-js gives the server Infinity when the client sent no deadline.
    assert.ok(Number.isFinite(Number(call.deadline)), 'the server sees a deadline');
  });

  it("rejects with the server's status and message", async () => {
    await assert.rejects(unaryCall(client, 'ModelReady', { name: 'nope' }, { timeoutMs: 60_000 }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.details, 'model "nope" is not known');
      return true;
    });
  });

  it('refuses a call without a usable timeout, naming the option', async () => {
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, undefined as unknown as number]) {
      await assert.rejects(unaryCall(client, 'ServerLive', {}, { timeoutMs }), /timeoutMs must be a finite number of milliseconds above 0/);
    }
  });

  it('ends a call the server never answers with DEADLINE_EXCEEDED', async () => {
    await assert.rejects(unaryCall(client, 'ModelMetadata', { name: 'm' }, { timeoutMs: 50 }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      return true;
    });
  });

  it('cancels the call when the signal aborts, on both ends', async () => {
    const arrived = new Promise<void>((resolve) => (metadataCallArrived = resolve));
    const cancelled = new Promise<void>((resolve) => (metadataCallCancelled = resolve));
    const abort = new AbortController();
    const call = unaryCall(client, 'ModelMetadata', { name: 'm' }, { timeoutMs: 60_000, signal: abort.signal });
    await arrived;
    abort.abort();
    await assert.rejects(call, (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.CANCELLED);
      return true;
    });
    await cancelled;
  });

  it('a signal that has already aborted cancels the call', async () => {
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(unaryCall(client, 'ServerLive', {}, { timeoutMs: 60_000, signal: abort.signal }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.CANCELLED);
      return true;
    });
  });
});
