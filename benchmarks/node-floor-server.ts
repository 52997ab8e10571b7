// The floor under any Node.js proxy on this machine: a process that speaks the same two protocols
// as Triton and infergate (grpc-js GRPCInferenceService ModelInfer, node:http KServe v2 JSON infer)
// and answers each golden row with its golden score from a table, running no model and forwarding
// nothing. Whatever latency and CPU it costs, a Node server in the path costs at least that; the
// serve benchmark measures it beside the real paths, labelled as what it is.
//
// Run by serve.ts as `node node-floor-server.js`; prints `node-floor ready grpc=HOST:PORT
// http=http://HOST:PORT` and serves until SIGTERM. A row not in the table is an error.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequest } from '../src/backends/triton/messages';
import { inferenceService } from '../src/backends/triton/proto';
import { loadFraudRows } from './serve-senders';

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 1 << 20;

const rows = loadFraudRows();
/** Score of each row, keyed by the row's float32 bytes. */
const scores = new Map(rows.tensors.map((t, i) => [Buffer.from(new Float32Array(t).buffer).toString('latin1'), rows.scores[i] as number]));

function probabilities(row: Buffer): Buffer | undefined {
  const score = scores.get(row.toString('latin1'));
  if (score === undefined) return undefined;
  const out = Buffer.alloc(8);
  out.writeFloatLE(1 - score, 0);
  out.writeFloatLE(score, 4);
  return out;
}

function startGrpc(): Promise<number> {
  const server = new grpc.Server();
  server.addService(inferenceService().service, {
    ModelInfer: (call: grpc.ServerUnaryCall<ModelInferRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const out = probabilities(call.request.raw_input_contents[0] ?? Buffer.alloc(0));
      if (!out) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'node-floor: not a golden fraud row' });
      callback(null, { model_name: 'fraud', model_version: '1', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2] }], raw_output_contents: [out] });
    },
  });
  return new Promise((resolve, reject) => server.bindAsync(`${HOST}:0`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}

function startHttp(): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      let out: Buffer | undefined;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs?: { data?: number[] }[] };
        out = probabilities(Buffer.from(new Float32Array(body.inputs?.[0]?.data ?? []).buffer));
      } catch {
        out = undefined;
      }
      const text = out
        ? JSON.stringify({ model_name: 'fraud', model_version: '1', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [out.readFloatLE(0), out.readFloatLE(4)] }] })
        : JSON.stringify({ error: 'node-floor: not a golden fraud row' });
      res.writeHead(out ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as AddressInfo).port)));
}

async function main(): Promise<void> {
  const [grpcPort, httpPort] = [await startGrpc(), await startHttp()];
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`node-floor ready grpc=${HOST}:${grpcPort} http=http://${HOST}:${httpPort}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`node-floor: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
