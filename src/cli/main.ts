#!/usr/bin/env node
// The `infergate` command: `serve` runs the HTTP server over a model repository; `score` scores one
// record from a file or stdin without a server.

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Runtime } from '../runtime/runtime';
import { HttpServer } from '../server/http-server';
import { INFERGATE_VERSION } from '../version';

const USAGE = `infergate ${INFERGATE_VERSION}: an inference runtime for Node.js services

Usage:
  infergate serve [--repository DIR] [--http-port N] [--host ADDR] [--max-body-bytes N]
                  [--intra-op-threads N] [--executor-threads N] [--max-batch-size N]
                  [--max-queue-delay-us N] [--max-queue-size N]
      Serves every model in the repository over HTTP: KServe v2 REST (/v2/...) and
      POST /v1/models/{name}/score (a raw record in, {score, decision, modelVersion} out).
      Defaults: --repository models, --http-port 8000, --host 127.0.0.1, --max-body-bytes 1048576;
      batching from each model's config.pbtxt (the flags override it for every model), executor
      threads: one per CPU core. Requests may carry x-infergate-priority and x-infergate-timeout-us.

  infergate score MODEL [--repository DIR] [--file RECORD.json]
      Scores one raw record (JSON, from --file or stdin) and prints the result.

  infergate --version | --help
`;

function fail(message: string): never {
  process.stderr.write(`infergate: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      repository: { type: 'string', default: 'models' },
      'http-port': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'max-body-bytes': { type: 'string' },
      'intra-op-threads': { type: 'string' },
      'executor-threads': { type: 'string' },
      'max-batch-size': { type: 'string' },
      'max-queue-delay-us': { type: 'string' },
      'max-queue-size': { type: 'string' },
    },
    strict: true,
  });
  const optional = (name: 'executor-threads' | 'max-batch-size' | 'max-queue-delay-us' | 'max-queue-size', min: number) => {
    const v = values[name];
    return v === undefined ? undefined : intOption(v, name, 0, min);
  };
  const batching = {
    maxBatchSize: optional('max-batch-size', 1),
    maxQueueDelayMicroseconds: optional('max-queue-delay-us', 0),
    maxQueueSize: optional('max-queue-size', 1),
  };
  const executorThreads = optional('executor-threads', 1);
  const port = intOption(values['http-port'], 'http-port', 8000, 0);
  if (port > 65535) fail('--http-port must be at most 65535');
  const threads = values['intra-op-threads'];
  const runtime = await Runtime.load({
    repository: values.repository as string,
    ...(threads !== undefined ? { intraOpThreads: intOption(threads, 'intra-op-threads', 1, 1) } : {}),
    ...(executorThreads !== undefined ? { executorThreads } : {}),
    batching: Object.fromEntries(Object.entries(batching).filter(([, v]) => v !== undefined)),
  });
  const server = new HttpServer(runtime, {
    host: values.host as string,
    port,
    maxBodyBytes: intOption(values['max-body-bytes'], 'max-body-bytes', 1024 * 1024, 1),
    serverVersion: INFERGATE_VERSION,
  });
  const address = await server.listen();
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const models = runtime.models();
  const listing = models.map((m) => `${m.name} (v${m.versions.join(', v')})`).join(', ');
  const first = models[0];
  const example = first && path.join(runtime.repository, first.name, 'example.json');
  const tryLine =
    first && example && existsSync(example)
      ? `\n  try: curl -s -X POST ${url}/v1/models/${first.name}/score -H 'content-type: application/json' -d @${path.relative(process.cwd(), example)}`
      : '';
  process.stdout.write(`infergate ready: ${url} serving ${listing}${tryLine}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`infergate: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`infergate: ${signal}: no new connections; finishing requests in flight\n`);
    void (async () => {
      // Batches stop waiting for company, so the requests the server is finishing are answered.
      runtime.drain();
      await server.close();
      await runtime.close();
      process.stderr.write('infergate: stopped\n');
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function score(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { repository: { type: 'string', default: 'models' }, file: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) fail('score takes exactly one MODEL name');
  const text = readFileSync(values.file ?? 0, 'utf8');
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    fail(`the record is not valid JSON: ${(err as Error).message}`);
  }
  const runtime = await Runtime.load({ repository: values.repository as string, models: [name] });
  try {
    const result = await runtime.model(name).infer(record);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await runtime.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'score':
      return score(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${INFERGATE_VERSION}\n`);
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as Error & { code?: string };
  process.stderr.write(`infergate: ${e.message}\n`);
  process.exit(1);
});
