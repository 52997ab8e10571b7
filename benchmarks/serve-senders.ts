// Batch-of-one fraud requests, the way a Triton client sends them, over gRPC (the project's generated
// GRPCInferenceService client, ModelInfer with raw_input_contents) and over HTTP (KServe v2 JSON,
// POST /v2/models/fraud/infer on a keep-alive agent). Each sender cycles through the preprocessed
// rows of test/fixtures/fraud/golden.json (`tensors`, [1, 40] FP32 each) and checks every answer:
// a wrong shape or a score other than the golden one rejects the request, so a benchmark never
// counts a wrong answer as a fast one.

import * as http from 'node:http';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type GRPCInferenceServiceClient, inferenceService } from '../src/backends/triton/proto';
import type { Protocol } from './serve-jobs';

/** The repository root (this file runs as dist/benchmarks/serve-senders.js). */
export const ROOT = path.resolve(__dirname, '..', '..');
const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'fraud', 'golden.json');
const MODEL = 'fraud';
const INPUT = 'features';
const OUTPUT = 'probabilities';
const WIDTH = 40;
/** Python ONNX Runtime in Triton against the fixture's scores (the proxy test's tolerance). */
const SCORE_TOLERANCE = 1e-5;
/** No call waits longer than this: a lost answer fails its request instead of hanging the step. */
const CALL_TIMEOUT_MS = 30_000;
/** HTTP connections per target; requests beyond wait in the agent (and that wait counts as latency). */
const HTTP_SOCKETS = 64;

export interface FraudRows {
  /** Row i: 40 float32 values. */
  tensors: number[][];
  /** P(fraud) of row i. */
  scores: number[];
}

export function loadFraudRows(): FraudRows {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Partial<FraudRows>;
  const { tensors, scores } = golden;
  if (!Array.isArray(tensors) || !Array.isArray(scores) || tensors.length === 0 || tensors.length !== scores.length) {
    throw new Error(`${GOLDEN}: expected "tensors" and "scores" of equal, non-zero length`);
  }
  tensors.forEach((t, i) => {
    if (!Array.isArray(t) || t.length !== WIDTH) throw new Error(`${GOLDEN}: tensors[${i}] must hold ${WIDTH} numbers`);
  });
  return { tensors, scores };
}

export interface Sender {
  /** Sends the next row; resolves once its answer has been checked. */
  send(): Promise<void>;
  close(): void;
}

export function openSender(protocol: Protocol, address: string, rows: FraudRows): Sender {
  return protocol === 'grpc' ? grpcSender(address, rows) : httpSender(address, rows);
}

function checkScore(score: number | undefined, row: number, rows: FraudRows): void {
  const want = rows.scores[row] as number;
  if (typeof score !== 'number' || !(Math.abs(score - want) <= SCORE_TOLERANCE)) {
    throw new Error(`row ${row}: score ${String(score)}, expected ${want} (±${SCORE_TOLERANCE})`);
  }
}

function grpcSender(address: string, rows: FraudRows): Sender {
  const { Client } = inferenceService();
  const client: GRPCInferenceServiceClient = new Client(address, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 });
  // Encoded once: what a client holding preprocessed rows would send.
  const raw = rows.tensors.map((t) => Buffer.from(new Float32Array(t).buffer));
  const metadata = new grpc.Metadata();
  let next = 0;
  return {
    send() {
      const row = next;
      next = next + 1 === raw.length ? 0 : next + 1;
      const request = {
        model_name: MODEL,
        inputs: [{ name: INPUT, datatype: 'FP32', shape: [1, WIDTH] }],
        outputs: [{ name: OUTPUT }],
        raw_input_contents: [raw[row] as Buffer],
      };
      return new Promise<void>((resolve, reject) => {
        client.ModelInfer(request, metadata, { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) }, (err, response) => {
          if (err) return reject(new Error(`ModelInfer: ${grpc.status[err.code] ?? err.code}: ${err.details}`));
          try {
            const out = response?.outputs[0];
            const bytes = response?.raw_output_contents[0];
            if (out?.name !== OUTPUT || out.shape.map(Number).join(',') !== '1,2' || bytes?.length !== 8) {
              throw new Error(`row ${row}: expected ${OUTPUT} [1, 2] in 8 raw bytes, got ${out?.name} [${out?.shape.join(', ')}] in ${bytes?.length} bytes`);
            }
            checkScore(bytes.readFloatLE(4), row, rows);
            resolve();
          } catch (e) {
            reject(e as Error);
          }
        });
      });
    },
    close: () => client.close(),
  };
}

function httpSender(baseUrl: string, rows: FraudRows): Sender {
  const url = new URL(`/v2/models/${MODEL}/infer`, baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_SOCKETS });
  const bodies = rows.tensors.map((t) =>
    Buffer.from(JSON.stringify({ inputs: [{ name: INPUT, shape: [1, WIDTH], datatype: 'FP32', data: t }], outputs: [{ name: OUTPUT }] })),
  );
  let next = 0;
  return {
    send() {
      const row = next;
      next = next + 1 === bodies.length ? 0 : next + 1;
      const body = bodies[row] as Buffer;
      return new Promise<void>((resolve, reject) => {
        const req = http.request(
          url,
          { method: 'POST', agent, timeout: CALL_TIMEOUT_MS, headers: { 'content-type': 'application/json', 'content-length': body.length } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              try {
                if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
                const answer = JSON.parse(text) as { outputs?: { name?: string; shape?: number[]; data?: number[] }[] };
                const out = answer.outputs?.find((o) => o.name === OUTPUT);
                if (out?.shape?.join(',') !== '1,2' || out.data?.length !== 2) throw new Error(`row ${row}: expected ${OUTPUT} [1, 2], got ${text.slice(0, 200)}`);
                checkScore(out.data[1], row, rows);
                resolve();
              } catch (e) {
                reject(e as Error);
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
