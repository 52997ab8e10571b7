#!/usr/bin/env node
// The `infergate` command: `serve` runs the servers over a model repository; `score` scores one
// record from a file or stdin without a server; load, unload, traffic, rollback and shadow-report
// steer a running server (control-commands.ts).

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Runtime } from '../runtime/runtime';
import { parseEndpoints } from '../backends/triton/triton-options';
import { stderrLogger } from '../observability/logger';
import type { PredictionLogOptions } from '../observability/prediction-log';
import { BACKEND_MODES, type BackendMode } from '../repository/model-settings';
import { createIngress } from '../server/ingress/create-ingress';
import { loadTlsFiles } from '../server/ingress/tls-files';
import { parseRateLimit } from '../server/ingress/token-buckets';
import { type Serving, serve as startServing } from '../server/serve';
import { INFERGATE_VERSION } from '../version';
import { CONTROL_USAGE, controlCommand } from './control-commands';

const USAGE = `infergate ${INFERGATE_VERSION}: an inference runtime for Node.js services

Usage:
  infergate serve [--repository DIR] [--host ADDR] [--http-port N] [--grpc-port N|off]
                  [--metrics-port N|off] [--max-body-bytes N]
                  [--intra-op-threads N] [--executor-threads N] [--max-batch-size N]
                  [--max-queue-delay-us N] [--max-queue-size N]
                  [--backend local|triton|triton-with-local-fallback]
                  [--upstream triton://HOST:PORT[,HOST:PORT...]] [--upstream-fallback] [--triton-shm]
                  [--auth-file FILE] [--api-key-header NAME] [--rate-limit PER_SECOND[:BURST]]
                  [--max-request-bytes N] [--max-concurrent-streams N]
                  [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]
                  [--prediction-log FILE|stdout [--prediction-log-sample-rate R]
                   [--prediction-log-max-bytes N] [--prediction-log-max-files N]]
      Serves every model in the repository: KServe v2 over HTTP (/v2/..., and POST
      /v1/models/{name}/score for raw records) and over gRPC (GRPCInferenceService, the protocol
      Triton's clients speak), and Prometheus metrics on /metrics.
      Defaults: --repository models, --host 127.0.0.1, --http-port 8000, --grpc-port 8001,
      --metrics-port 8002, --max-body-bytes 1048576; batching from each model's config.pbtxt (the
      flags override it for every model), executor threads: one per CPU core.
      --upstream: the Triton client proxy: every model runs on that Triton cluster, with infergate's
      batching in front (--upstream-fallback: serve from the local ONNX session while no replica is
      available; --triton-shm: system shared memory with a co-located Triton).
      Credentials (--auth-file, or INFERGATE_CREDENTIALS): docs/ingress.md; SIGHUP rereads them.
      HTTP requests may carry x-infergate-priority and x-infergate-timeout-us.

      --prediction-log FILE|stdout: one JSON line per prediction (docs/prediction-log.md), with
      --prediction-log-sample-rate R (raw inputs and features of a share R of predictions),
      --prediction-log-max-bytes N and --prediction-log-max-files N (rotation).
      Rollouts (docs/rollouts.md): POST /v1/models/{name}/traffic | rollback, GET .../shadow | drift.

  infergate score MODEL [--repository DIR] [--file RECORD.json]
      Scores one raw record (JSON, from --file or stdin) and prints the result.

${CONTROL_USAGE}
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
      'grpc-port': { type: 'string' },
      'metrics-port': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'max-body-bytes': { type: 'string' },
      'intra-op-threads': { type: 'string' },
      'executor-threads': { type: 'string' },
      'max-batch-size': { type: 'string' },
      'max-queue-delay-us': { type: 'string' },
      'max-queue-size': { type: 'string' },
      backend: { type: 'string' },
      upstream: { type: 'string' },
      'upstream-fallback': { type: 'boolean', default: false },
      'triton-shm': { type: 'boolean', default: false },
      'auth-file': { type: 'string' },
      'api-key-header': { type: 'string' },
      'rate-limit': { type: 'string' },
      'max-request-bytes': { type: 'string' },
      'max-concurrent-streams': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'prediction-log': { type: 'string' },
      'prediction-log-sample-rate': { type: 'string' },
      'prediction-log-max-bytes': { type: 'string' },
      'prediction-log-max-files': { type: 'string' },
    },
    strict: true,
  });
  const optional = (name: 'executor-threads' | 'max-batch-size' | 'max-queue-delay-us' | 'max-queue-size' | 'max-request-bytes' | 'max-concurrent-streams', min: number) => {
    const v = values[name];
    return v === undefined ? undefined : intOption(v, name, 0, min);
  };
  const portOption = (name: 'http-port' | 'grpc-port' | 'metrics-port', fallback: number, canBeOff: boolean): number | null => {
    const v = values[name];
    if (canBeOff && v === 'off') return null;
    const port = intOption(v, name, fallback, 0);
    if (port > 65535) fail(`--${name} must be at most 65535${canBeOff ? ' (or "off")' : ''}`);
    return port;
  };
  const batching = {
    maxBatchSize: optional('max-batch-size', 1),
    maxQueueDelayMicroseconds: optional('max-queue-delay-us', 0),
    maxQueueSize: optional('max-queue-size', 1),
  };
  const executorThreads = optional('executor-threads', 1);
  const httpPort = portOption('http-port', 8000, false) as number;
  const grpcPort = portOption('grpc-port', 8001, true);
  const metricsPort = portOption('metrics-port', 8002, true);
  const threads = values['intra-op-threads'];

  // Where models run: --upstream makes infergate a proxy in front of a Triton cluster.
  let backend = values.backend as BackendMode | undefined;
  if (backend !== undefined && !BACKEND_MODES.includes(backend)) fail(`--backend must be one of ${BACKEND_MODES.join(', ')}, got "${backend}"`);
  let endpoints: string[] | undefined;
  if (values.upstream !== undefined) {
    try {
      endpoints = parseEndpoints(values.upstream, '--upstream');
    } catch (err) {
      fail((err as Error).message);
    }
    backend ??= values['upstream-fallback'] ? 'triton-with-local-fallback' : 'triton';
  } else if (values['upstream-fallback']) {
    fail('--upstream-fallback needs --upstream');
  }

  const tlsFiles = values['tls-cert'] ?? values['tls-key'] ?? values['tls-ca'];
  if (tlsFiles !== undefined && (values['tls-cert'] === undefined || values['tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
  const tls =
    values['tls-cert'] !== undefined && values['tls-key'] !== undefined
      ? loadTlsFiles({ certFile: values['tls-cert'], keyFile: values['tls-key'], ...(values['tls-ca'] ? { caFile: values['tls-ca'] } : {}) })
      : undefined;
  const maxRequestBytes = optional('max-request-bytes', 1024);
  const maxConcurrentStreams = optional('max-concurrent-streams', 1);
  const ingress = createIngress({
    env: process.env,
    ...(values['auth-file'] !== undefined ? { credentialsFile: values['auth-file'] } : {}),
    ...(values['api-key-header'] !== undefined ? { apiKeyHeader: values['api-key-header'] } : {}),
    ...(values['rate-limit'] !== undefined ? { rateLimit: parseRateLimit(values['rate-limit'], '--rate-limit') } : {}),
    ...(maxRequestBytes !== undefined ? { maxRequestBytes } : {}),
    ...(maxConcurrentStreams !== undefined ? { maxConcurrentStreams } : {}),
  });
  const useIngress = ingress.authenticationEnabled || ingress.rateLimit !== undefined || maxRequestBytes !== undefined || maxConcurrentStreams !== undefined;

  const predictionLog = predictionLogOptions(values);
  const runtime = await Runtime.load({
    repository: values.repository as string,
    ...(predictionLog ? { predictionLog } : {}),
    ...(threads !== undefined ? { intraOpThreads: intOption(threads, 'intra-op-threads', 1, 1) } : {}),
    ...(executorThreads !== undefined ? { executorThreads } : {}),
    batching: Object.fromEntries(Object.entries(batching).filter(([, v]) => v !== undefined)),
    ...(backend !== undefined ? { backend } : {}),
    ...(endpoints || values['triton-shm'] ? { triton: { ...(endpoints ? { endpoints } : {}), ...(values['triton-shm'] ? { sharedMemory: true } : {}) } } : {}),
  });
  let serving: Serving;
  try {
    serving = await startServing(runtime, {
      host: values.host as string,
      httpPort,
      grpcPort,
      metricsPort,
      maxBodyBytes: intOption(values['max-body-bytes'], 'max-body-bytes', 1024 * 1024, 1),
      ...(useIngress ? { ingress } : {}),
      ...(tls ? { tls: { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) } } : {}),
      serverVersion: INFERGATE_VERSION,
      logger: stderrLogger,
    });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const address = serving.http;
  const scheme = tls ? 'https' : 'http';
  const url = `${scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const models = runtime.models();
  const listing = models.map((m) => `${m.name} (v${m.versions.join(', v')}${m.backendMode === 'local' ? '' : `, ${m.backendMode}`})`).join(', ');
  const first = models[0];
  const example = first && path.join(runtime.repository, first.name, 'example.json');
  const tryLine =
    first && example && existsSync(example)
      ? `\n  try: curl -s -X POST ${url}/v1/models/${first.name}/score -H 'content-type: application/json' -d @${path.relative(process.cwd(), example)}`
      : '';
  const grpcPart = serving.grpcPort !== undefined ? ` grpc=${values.host}:${serving.grpcPort}` : '';
  const metricsPart = serving.metrics ? ` metrics=http://${values.host}:${serving.metrics.port}/metrics` : '';
  process.stdout.write(`infergate ready: ${url}${grpcPart}${metricsPart} serving ${listing}${tryLine}\n`);

  process.on('SIGHUP', () => {
    try {
      const n = ingress.reloadCredentials();
      process.stderr.write(`infergate: SIGHUP: ${n} credentials in force\n`);
    } catch (err) {
      process.stderr.write(`infergate: SIGHUP: credentials not reloaded: ${(err as Error).message}\n`);
    }
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`infergate: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`infergate: ${signal}: no new connections; finishing requests in flight\n`);
    void serving.close().then(() => {
      process.stderr.write('infergate: stopped\n');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function predictionLogOptions(values: Record<string, string | boolean | undefined>): PredictionLogOptions | undefined {
  const destination = values['prediction-log'] as string | undefined;
  const rate = values['prediction-log-sample-rate'] as string | undefined;
  const maxBytes = values['prediction-log-max-bytes'] as string | undefined;
  const maxFiles = values['prediction-log-max-files'] as string | undefined;
  if (destination === undefined) {
    if (rate !== undefined || maxBytes !== undefined || maxFiles !== undefined) fail('--prediction-log-* options need --prediction-log FILE|stdout');
    return undefined;
  }
  let sampleInputs: number | undefined;
  if (rate !== undefined) {
    sampleInputs = Number(rate);
    if (rate.trim() === '' || !(sampleInputs >= 0 && sampleInputs <= 1)) fail(`--prediction-log-sample-rate must be a number in [0, 1], got "${rate}"`);
  }
  if (destination === 'stdout' && (maxBytes !== undefined || maxFiles !== undefined)) fail('rotation (--prediction-log-max-bytes/-files) needs a file, not stdout');
  const rotate =
    maxBytes !== undefined || maxFiles !== undefined
      ? {
          ...(maxBytes !== undefined ? { maxBytes: intOption(maxBytes, 'prediction-log-max-bytes', 0, 1024) } : {}),
          ...(maxFiles !== undefined ? { maxFiles: intOption(maxFiles, 'prediction-log-max-files', 0, 1) } : {}),
        }
      : undefined;
  return { destination, ...(sampleInputs !== undefined ? { sampleInputs } : {}), ...(rotate ? { rotate } : {}) };
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
      if (!(await controlCommand(command, rest, fail))) fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as Error & { code?: string };
  process.stderr.write(`infergate: ${e.message}\n`);
  process.exit(1);
});
