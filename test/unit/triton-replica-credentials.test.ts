// The credentials a replica sends on every call, seen by a gRPC server built from our own service
// definition: "authorization: Bearer <token>" (for an auth proxy in front of Triton, which has no
// bearer check of its own) and the API-key header. Triton's own header check is exercised against
// the real server in test/integration/triton-backend.test.ts.

import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { inferenceService } from '../../src/backends/triton/proto';
import { Replica } from '../../src/backends/triton/replica';
import { resolveTritonOptions } from '../../src/backends/triton/triton-options';

describe('replica credentials', () => {
  let server: grpc.Server;
  let port: number;
  const seen: grpc.Metadata[] = [];

  before(async () => {
    server = new grpc.Server();
    server.addService(inferenceService().service, {
      ServerReady: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        seen.push(call.metadata);
        callback(null, { ready: true });
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  });

  after(() => server.forceShutdown());

  it('sends the bearer token and the API key on every call', async () => {
    const options = resolveTritonOptions({ endpoints: [`127.0.0.1:${port}`], bearerToken: 'tok-1', apiKey: 'k-2', apiKeyHeader: 'x-team-key' });
    const replica = new Replica(options.endpoints[0]!, options);
    try {
      const res = await replica.call<{ ready: boolean }>('ServerReady', {}, performance.now() + 5000);
      assert.equal(res.ready, true);
      await replica.call('ServerReady', {}, performance.now() + 5000);
      assert.equal(seen.length, 2);
      for (const md of seen) {
        assert.deepEqual(md.get('authorization'), ['Bearer tok-1']);
        assert.deepEqual(md.get('x-team-key'), ['k-2']);
      }
    } finally {
      replica.close();
    }
  });

  it('an unimplemented method fails with the server\'s status, named', async () => {
    const options = resolveTritonOptions({ endpoints: [`127.0.0.1:${port}`] });
    const replica = new Replica(options.endpoints[0]!, options);
    try {
      await assert.rejects(replica.call('ModelReady', { name: 'x', version: '' }, performance.now() + 5000), /ModelReady: UNIMPLEMENTED/);
    } finally {
      replica.close();
    }
  });
});
