// Real tritonserver replicas for tests and benchmarks: provisioned by scripts/triton/provision.sh,
// serving the Python-backend models of scripts/triton/repository on free loopback ports.
//
// No process outlives its owner: stop() and kill() kill the server's whole process group (the
// server and its Python backend stubs) and wait until every member is gone; a process 'exit'
// handler kills whatever is still running, synchronously, if the owner never called stop().

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers';
import { BoundedLog } from './bounded-log';
import { freeLoopbackPorts } from './free-ports';
import { processGroup } from './processes';

export const TRITON_REPOSITORY = path.join(ROOT, 'scripts', 'triton', 'repository');
const PROVISION = path.join(ROOT, 'scripts', 'triton', 'provision.sh');
const PROVISIONED = path.join(ROOT, '.venv', 'triton', 'triton.json');
const SHM_DIR = '/dev/shm';
const POLL_MS = 100;
/** Attempts with fresh ports when a port chosen as free was taken before the server bound it. */
const PORT_ATTEMPTS = 5;
const MAX_REPLICAS = 16;
/** Polls (10 ms apart) for a killed process group to be gone before giving up. */
const GROUP_EXIT_POLLS = 1000;

export interface TritonPaths {
  tritonserver: string;
  backendDirectory: string;
  repository: string;
  python: string;
}

export interface TritonPorts {
  grpc: number;
  http: number;
  metrics: number;
}

export interface TritonReplica {
  readonly index: number;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly metricsPort: number;
  /** "127.0.0.1:<grpcPort>" */
  readonly grpcAddress: string;
  /** "http://127.0.0.1:<httpPort>" */
  readonly httpUrl: string;
  /** The server's pid; undefined while stopped. */
  readonly pid: number | undefined;
  /** Sends `signal` (default SIGKILL, to the whole process group); resolves when every process of the group has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kills the server if it runs, starts it again on the same ports, resolves when it is ready. */
  restart(): Promise<void>;
  /** The server's recent output (its last 256 KiB), optionally only the last `lines` lines. */
  log(lines?: number): string;
}

export interface TritonCluster {
  readonly replicas: TritonReplica[];
  /** Kills every replica (process group, SIGKILL) and resolves when all are gone. */
  stop(): Promise<void>;
}

export interface TritonOptions {
  /** Number of servers, 1..16 (default 1). */
  replicas?: number;
  /** Models to load, by directory name in scripts/triton/repository (default: all of them). */
  models?: string[];
  /** Extra environment of replica `index` (e.g. { INFERGATE_TRITON_FAIL: 'UNAVAILABLE' }). */
  env?: (index: number) => Record<string, string>;
  /** Extra tritonserver flags of replica `index` (TLS, --grpc-restricted-protocol, ...). */
  args?: (index: number) => string[];
  /** Fixed ports of replica `index`; the ones left out are chosen free. */
  ports?: (index: number) => Partial<TritonPorts>;
  /** How long a replica may take to become ready, in ms (default 120000). */
  readyTimeoutMs?: number;
}

/** Runs scripts/triton/provision.sh (instant once done) and returns what it provisioned. */
export function provisionTriton(): TritonPaths {
  try {
    execFileSync('bash', [PROVISION], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`provisioning tritonserver failed (bash scripts/triton/provision.sh):\n${stderr.slice(-4000) || String(err)}`);
  }
  const paths = JSON.parse(readFileSync(PROVISIONED, 'utf8')) as Omit<TritonPaths, 'repository'>;
  return { ...paths, repository: TRITON_REPOSITORY };
}

/** The models of the test repository: its directories holding a config.pbtxt. */
export function repositoryModels(): string[] {
  return readdirSync(TRITON_REPOSITORY, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(TRITON_REPOSITORY, e.name, 'config.pbtxt')))
    .map((e) => e.name)
    .sort();
}

// Every replica with a live process, for the exit handler.
const running = new Set<Replica>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  // 'exit' handlers run synchronously: signal now, and remove the shared memory the stubs leave.
  process.on('exit', () => {
    for (const replica of running) replica.killNow();
  });
}

let clusters = 0;

class Replica implements TritonReplica {
  readonly grpcAddress: string;
  readonly httpUrl: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = new BoundedLog();
  // The Python backend names its shared-memory regions with this prefix, so they can be removed
  // after a SIGKILL (which leaves them in /dev/shm).
  private readonly shmPrefix: string;

  constructor(
    readonly index: number,
    private readonly ports: TritonPorts,
    private readonly paths: TritonPaths,
    private readonly models: string[],
    private readonly env: Record<string, string>,
    private readonly extraArgs: string[],
    private readonly readyTimeoutMs: number,
    cluster: number,
  ) {
    this.grpcAddress = `127.0.0.1:${ports.grpc}`;
    this.httpUrl = `http://127.0.0.1:${ports.http}`;
    this.shmPrefix = `infergate-triton-${process.pid}-${cluster}-${index}-`;
  }

  get grpcPort(): number {
    return this.ports.grpc;
  }
  get httpPort(): number {
    return this.ports.http;
  }
  get metricsPort(): number {
    return this.ports.metrics;
  }
  get pid(): number | undefined {
    return this.child !== undefined && running.has(this) ? this.child.pid : undefined;
  }

  log(lines?: number): string {
    return this.output.tail(lines);
  }

  /** Spawns the server and resolves once it and every model are ready. */
  async start(): Promise<void> {
    if (this.pid !== undefined) throw new Error(`triton replica ${this.index} is already running (pid ${this.pid})`);
    this.output = new BoundedLog();
    const args = [
      `--model-repository=${this.paths.repository}`,
      `--backend-directory=${this.paths.backendDirectory}`,
      '--model-control-mode=explicit',
      ...this.models.map((m) => `--load-model=${m}`),
      '--http-address=127.0.0.1',
      '--grpc-address=127.0.0.1',
      '--metrics-address=127.0.0.1',
      `--http-port=${this.ports.http}`,
      `--grpc-port=${this.ports.grpc}`,
      `--metrics-port=${this.ports.metrics}`,
      `--backend-config=python,shm-region-prefix-name=${this.shmPrefix}`,
      // A graceful stop (SIGTERM) waits at most this long for requests in flight.
      '--exit-timeout-secs=5',
      ...this.extraArgs,
    ];
    // detached: the server leads a new process group, which its backend stubs join.
    const child = spawn(this.paths.tritonserver, args, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, INFERGATE_ROOT: ROOT, ...this.env },
    });
    child.stdout?.on('data', (d: Buffer) => this.output.append(d));
    child.stderr?.on('data', (d: Buffer) => this.output.append(d));
    this.child = child;
    installExitHandler();
    running.add(this);
    let exitCode: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        exitCode ??= signal ?? String(code);
        running.delete(this);
        resolve();
      };
      child.once('exit', done);
      child.once('error', (err) => {
        this.output.append(Buffer.from(`spawn failed: ${err.message}\n`));
        done(null, null);
      });
    });
    try {
      await this.waitReady(() => exitCode);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  private async waitReady(exitCode: () => string | undefined): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    const endpoints = ['/v2/health/ready', ...this.models.map((m) => `/v2/models/${m}/ready`)];
    let pending = endpoints;
    while (pending.length > 0) {
      const code = exitCode();
      if (code !== undefined) {
        throw new TritonStartError(
          `tritonserver replica ${this.index} exited (${code}) before it was ready; its log ends:\n${this.log(40)}`,
          /address already in use|failed to bind|failed to start/i.test(this.log()),
        );
      }
      if (Date.now() > deadline) {
        throw new TritonStartError(
          `tritonserver replica ${this.index} was not ready within ${this.readyTimeoutMs} ms (waiting for ${pending.join(', ')}); its log ends:\n${this.log(40)}`,
          false,
        );
      }
      const ready = await Promise.all(pending.map((e) => this.isOk(e)));
      pending = pending.filter((_, i) => !ready[i]);
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async isOk(endpoint: string): Promise<boolean> {
    try {
      const res = await fetch(`${this.httpUrl}${endpoint}`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    if (running.has(this)) {
      try {
        // SIGKILL takes the whole group at once; other signals go to the server, which then stops its stubs.
        if (signal === 'SIGKILL') process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    }
    await this.exited;
    // Whatever the server left in its group (stubs it did not stop) goes too; SIGKILLed processes
    // still take a moment to exit, so wait for them (bounded: a process stuck in the kernel would hang us).
    for (let attempt = 0; processGroup(child.pid).length > 0; attempt++) {
      if (attempt === GROUP_EXIT_POLLS) {
        throw new Error(`triton replica ${this.index}: processes ${processGroup(child.pid).join(', ')} of group ${child.pid} survived SIGKILL`);
      }
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.removeSharedMemory();
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** For the process 'exit' handler: signals the group and cleans up without waiting. */
  killNow(): void {
    if (this.child?.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    this.removeSharedMemory();
  }

  private removeSharedMemory(): void {
    let names: string[];
    try {
      names = readdirSync(SHM_DIR);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(this.shmPrefix)) continue;
      try {
        unlinkSync(path.join(SHM_DIR, name));
      } catch {
        // Removed by the server itself meanwhile.
      }
    }
  }
}

class TritonStartError extends Error {
  constructor(
    message: string,
    /** The server could not bind one of its ports: worth retrying on other ports. */
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'TritonStartError';
  }
}

interface CheckedOptions {
  replicas: number;
  models: string[];
  readyTimeoutMs: number;
  fixedPorts: Partial<TritonPorts>[];
}

function checkOptions(options: TritonOptions): CheckedOptions {
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new RangeError(`startTriton: options.replicas must be an integer in 1..${MAX_REPLICAS}, got ${String(replicas)}`);
  }
  const available = repositoryModels();
  const models = options.models ?? available;
  if (!Array.isArray(models) || models.length === 0) {
    throw new TypeError(`startTriton: options.models must be a non-empty array of model names (${available.join(', ')})`);
  }
  for (const m of models) {
    if (!available.includes(m)) {
      throw new RangeError(`startTriton: options.models: no model ${JSON.stringify(m)} in ${TRITON_REPOSITORY}; expected one of ${available.join(', ')}`);
    }
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0) {
    throw new RangeError(`startTriton: options.readyTimeoutMs must be a positive number of milliseconds, got ${String(readyTimeoutMs)}`);
  }
  const fixedPorts = Array.from({ length: replicas }, (_, index) => {
    const ports = options.ports?.(index) ?? {};
    for (const [name, port] of Object.entries(ports)) {
      if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
        throw new RangeError(`startTriton: options.ports(${index}).${name} must be an integer in 1..65535, got ${String(port)}`);
      }
    }
    return ports;
  });
  return { replicas, models, readyTimeoutMs, fixedPorts };
}

/** Starts one replica, retrying on fresh ports if a port it was given as free got taken first. */
async function startReplica(
  index: number,
  fixed: Partial<TritonPorts>,
  make: (ports: TritonPorts) => Replica,
): Promise<Replica> {
  for (let attempt = 1; ; attempt++) {
    const [grpc, http, metrics] = await freeLoopbackPorts(3);
    const replica = make({ grpc: fixed.grpc ?? (grpc as number), http: fixed.http ?? (http as number), metrics: fixed.metrics ?? (metrics as number) });
    try {
      await replica.start();
      return replica;
    } catch (err) {
      const anyFixed = fixed.grpc !== undefined || fixed.http !== undefined || fixed.metrics !== undefined;
      if (!(err instanceof TritonStartError) || !err.portInUse || anyFixed || attempt >= PORT_ATTEMPTS) {
        throw new Error(`starting triton replica ${index}: ${(err as Error).message}`);
      }
    }
  }
}

/** Provisions (if needed) and starts `replicas` tritonservers; resolves when all are ready. */
export async function startTriton(options: TritonOptions = {}): Promise<TritonCluster> {
  const { replicas: count, models, readyTimeoutMs, fixedPorts } = checkOptions(options);
  const paths = provisionTriton();
  const cluster = ++clusters;
  const started: Replica[] = [];
  const stop = async () => {
    await Promise.all(started.map((r) => r.kill()));
  };
  // In parallel: most of a start is loading models, which the replicas do side by side.
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, index) =>
      startReplica(index, fixedPorts[index] ?? {}, (ports) => {
        const replica = new Replica(index, ports, paths, models, options.env?.(index) ?? {}, options.args?.(index) ?? [], readyTimeoutMs, cluster);
        started[index] = replica;
        return replica;
      }),
    ),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return { replicas: started, stop };
}
