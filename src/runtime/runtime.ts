// The entry point of the embedded API: load a model repository, hand out models, close.
//
//   const rt = await Runtime.load({ repository: 'models' });
//   const r = await rt.model('fraud').infer(record);   // { score, decision, modelVersion }
//   await rt.close();

import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Backend } from '../backends/backend';
import { OnnxBackend } from '../backends/onnx/onnx-backend';
import { type BatchSource, OnnxExecutor } from '../backends/onnx/onnx-executor';
import type { LocalFallback } from '../backends/triton/batch-forwarder';
import type { OnnxSessionSpec } from '../backends/onnx/onnx-session-spec';
import { type BatchingOptions, type ResolvedBatching, resolveBatching } from '../batching/batching-options';
import { SchedulerClient } from '../batching/scheduler-client';
import { invalidArgument, modelNotLoaded, notFound, unavailable } from '../errors';
import { batchSchedulerClass } from '../native/addon';
import { type Logger, stderrLogger } from '../observability/logger';
import { Preprocessor } from '../preprocess/preprocessor';
import { ModelConfigError, rowElements } from '../repository/model-config';
import { BACKEND_MODES, type BackendMode, readModelSettings } from '../repository/model-settings';
import { type ModelDescription, describeModel, listModels } from '../repository/repository';
import { scoreResults } from '../postprocess/decision-bands';
import { FallbackBackend } from './fallback-backend';
import { type LoadedVersion, Model } from './model';
import { TritonLink, type TritonRuntimeOptions } from './triton-link';


export interface RepositoryEntry {
  name: string;
  /** "" when the model is not loaded. */
  version: string;
  state: 'READY' | 'UNAVAILABLE';
  reason: string;
}

export interface RuntimeOptions {
  /** The model repository folder (Triton's layout). */
  repository: string;
  /** Load only these models; default: every model in the repository. */
  models?: string[];
  /** ONNX Runtime intra-op threads per session; overrides `infergate.intra_op_threads`. Default 1. */
  intraOpThreads?: number;
  /** ONNX Runtime execution providers, e.g. ["cuda", "cpu"]; overrides the config. Default ["cpu"]. */
  executionProviders?: string[];
  /** Executor worker threads, each with one ONNX Runtime session per model version. Default: CPU cores. */
  executorThreads?: number;
  /** Overrides of config.pbtxt's dynamic_batching, for every model or per model name. */
  batching?: BatchingOptions & { models?: Record<string, BatchingOptions> };
  /**
   * Where batches run, overriding config.pbtxt's `infergate.backend`: one mode for every model, or
   * per model name. "local" (ONNX Runtime here), "triton" (forwarded to a Triton cluster),
   * "triton-with-local-fallback" (forwarded; served locally while no replica is available).
   */
  backend?: BackendMode | Record<string, BackendMode>;
  /** The Triton cluster (endpoints, TLS, credentials, retries, health, shared memory). */
  triton?: TritonRuntimeOptions;
  /** Where operational events go (replica ejected, degraded...); default JSON lines on stderr. */
  logger?: Logger;
}

export class Runtime {
  private closed = false;
  private readonly unloadReasons = new Map<string, string>();

  private constructor(
    readonly repository: string,
    private readonly loaded: Map<string, Model>,
    /** The executor pool; tests use it for chaos drills and to read its counters. */
    readonly executor: OnnxExecutor,
    /** Connections to Triton clusters (replica states for stats). */
    readonly triton: TritonLink,
    private readonly options: RuntimeOptions,
  ) {}

  /** Loads the repository's models. Any model that fails to load fails the whole load, naming it. */
  static async load(options: RuntimeOptions): Promise<Runtime> {
    if (!options || typeof options.repository !== 'string' || options.repository === '') {
      throw new TypeError('Runtime.load: options.repository must be the path of a model repository folder');
    }
    const repository = path.resolve(options.repository);
    const names = options.models ?? (await listModels(repository));
    if (names.length === 0) throw new Error(`model repository "${repository}" holds no model (no <name>/config.pbtxt)`);
    const executor = new OnnxExecutor(options.executorThreads !== undefined ? { threads: options.executorThreads } : {});
    const triton = new TritonLink(options.triton ?? {}, options.logger ?? stderrLogger);
    const loaded = new Map<string, Model>();
    try {
      for (const name of names) loaded.set(name, await loadModel(await describeModel(repository, name), options, executor, triton));
    } catch (err) {
      await Promise.all([...loaded.values()].map((m) => m.close()));
      triton.close();
      await executor.close();
      throw err;
    }
    return new Runtime(repository, loaded, executor, triton, { ...options, repository });
  }

  /**
   * A loaded model; throws not_found worded by modelNotLoaded, which names no other model: the
   * servers pass this answer to callers whose allow-list may not include the models loaded.
   */
  model(name: string): Model {
    const m = this.loaded.get(name);
    if (!m || this.closed) throw modelNotLoaded(name);
    return m;
  }

  models(): Model[] {
    return [...this.loaded.values()];
  }

  /**
   * Loads a model from the repository, or reloads it: the new instance takes traffic once loaded,
   * then the old one drains (requests in flight finish) and closes. Triton's RepositoryModelLoad.
   */
  async loadModel(name: string): Promise<Model> {
    if (this.closed) throw unavailable('the runtime is closed');
    if (typeof name !== 'string' || !/^[^/\\]+$/.test(name) || name === '.' || name === '..') {
      throw invalidArgument(`model name must be a plain folder name, got ${JSON.stringify(name)}`, { field: 'name' });
    }
    let desc: ModelDescription;
    try {
      desc = await describeModel(this.repository, name);
    } catch (err) {
      throw notFound((err as Error).message, { model: name });
    }
    const model = await loadModel(desc, this.options, this.executor, this.triton);
    const old = this.loaded.get(name);
    this.loaded.set(name, model);
    this.unloadReasons.delete(name);
    if (old) await old.close();
    return model;
  }

  /** Stops serving a model: new requests get not_found, those in flight finish. RepositoryModelUnload. */
  async unloadModel(name: string): Promise<void> {
    const m = this.loaded.get(name);
    if (!m) throw modelNotLoaded(name);
    this.loaded.delete(name);
    this.unloadReasons.set(name, 'unloaded');
    await m.close();
  }

  /** Every model of the repository with its state, as Triton's RepositoryIndex reports it. */
  async repositoryIndex(): Promise<RepositoryEntry[]> {
    const names = new Set([...(await listModels(this.repository)), ...this.loaded.keys()]);
    const out: RepositoryEntry[] = [];
    for (const name of [...names].sort()) {
      const m = this.loaded.get(name);
      if (m) for (const v of m.versions) out.push({ name, version: String(v), state: 'READY', reason: '' });
      else out.push({ name, version: '', state: 'UNAVAILABLE', reason: this.unloadReasons.get(name) ?? 'not loaded' });
    }
    return out;
  }

  get ready(): boolean {
    return !this.closed && [...this.loaded.values()].every((m) => m.ready);
  }

  /** Runs every batch without waiting for its queue delay, from now on (see Model.drain). */
  drain(): void {
    this.executor.resume();
    for (const m of this.loaded.values()) m.drain();
  }

  /** Finishes the requests in flight, then releases every model. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Admitted requests are answered, so a paused executor runs again.
    this.executor.resume();
    await Promise.all([...this.loaded.values()].map((m) => m.close()));
    this.triton.close();
    await this.executor.close();
  }
}

// Native schedulers are process-wide and found by name: each runtime gets its own prefix.
const RUNTIME_ID = randomUUID().slice(0, 8);
let runtimes = 0;

async function loadModel(desc: ModelDescription, options: RuntimeOptions, executor: OnnxExecutor, triton: TritonLink): Promise<Model> {
  const configFile = path.join(desc.dir, 'config.pbtxt');
  const settings = readModelSettings(desc.config, configFile);
  const mode = backendModeOf(options.backend, desc.name) ?? settings.backend ?? 'local';
  const runsLocally = mode !== 'triton';
  if (runsLocally && desc.config.platform !== 'onnxruntime_onnx') {
    throw new ModelConfigError(configFile, `platform "${desc.config.platform}" is not served locally; infergate runs "onnxruntime_onnx" (or set infergate.backend to "triton")`);
  }
  const endpoints = mode === 'local' ? [] : triton.endpointsFor(desc.name, settings.tritonEndpoints);
  const sharedMemory = mode !== 'local' && (options.triton?.sharedMemory ?? settings.tritonSharedMemory ?? false);
  const { models: perModel, ...forAll } = options.batching ?? {};
  const batching = resolveBatching(desc.config, { ...forAll, ...perModel?.[desc.name] });
  const scoreOutput = desc.config.outputs.find((o) => o.name === settings.scoreOutput);
  const prefix = `${RUNTIME_ID}-${++runtimes}/${desc.name}`;
  const versions: LoadedVersion[] = [];
  try {
    for (const files of desc.versions) {
      const session: OnnxSessionSpec = {
        key: `${prefix}/${files.version}`,
        file: files.modelFile,
        intraOpThreads: options.intraOpThreads ?? settings.intraOpThreads ?? 1,
        executionProviders: options.executionProviders ?? settings.executionProviders ?? ['cpu'],
      };
      let preprocessor: Preprocessor | undefined;
      if (files.preprocessFile) {
        const text = await fs.readFile(files.preprocessFile, 'utf8').catch((err: Error) => {
          throw new ModelConfigError(configFile, `preprocess file cannot be read: ${err.message}`);
        });
        preprocessor = new Preprocessor(text, files.preprocessFile, desc.name);
        checkRecordInput(desc, preprocessor, files.preprocessFile);
      }
      const local = runsLocally ? await OnnxBackend.create(executor, session, desc.config) : undefined;
      const remote =
        mode === 'local'
          ? undefined
          : {
              config: desc.config,
              endpoints,
              remote: {
                name: settings.tritonModel ?? desc.name,
                version: settings.tritonVersion === 'latest' ? '' : (settings.tritonVersion ?? String(files.version)),
              },
            };
      const connection = remote && (await triton.connect(remote, mode === 'triton'));
      const backend: Backend = connection ? (local ? new FallbackBackend(connection.backend, local) : connection.backend) : (local as Backend);
      if (!preprocessor) {
        versions.push({ version: files.version, backend, preprocessor, batching: undefined, forwarder: undefined, release: () => undefined });
        continue;
      }
      if (sharedMemory) triton.sweepSharedMemoryOnce();
      const scheduler = new (batchSchedulerClass())({
        name: session.key,
        ...batching,
        slabCount: slabCount(batching, executor.threads),
        inputWidth: preprocessor.width,
        outputWidth: scoreOutput ? rowElements(scoreOutput) : 1,
        plan: preprocessor.plan,
        sharedMemory,
      });
      const client = new SchedulerClient(
        scheduler,
        preprocessor.encoder,
        desc.name,
        settings.scoreIndex,
        batching.priorityLevels,
        scoreResults(settings.decisionBands, files.version),
      );
      const source: BatchSource = { scheduler, session, input: preprocessor.outputName, output: settings.scoreOutput };
      let forwarding: Awaited<ReturnType<TritonLink['forward']>> | undefined;
      if (connection && remote) {
        const fallback: LocalFallback | undefined = local && {
          engage: () => executor.attach(source),
          release: () => executor.detach(scheduler),
          run: (batch) => executor.runTaken(source, batch),
        };
        try {
          forwarding = await triton.forward(
            connection.pool,
            scheduler,
            remote,
            { input: source.input, output: source.output, sendPriority: batching.priorityLevels > 1 },
            fallback,
            sharedMemory,
          );
        } catch (err) {
          client.close();
          scheduler.close();
          throw err;
        }
      } else {
        executor.attach(source);
      }
      versions.push({
        version: files.version,
        backend,
        preprocessor,
        batching: { scheduler, client },
        forwarder: forwarding?.forwarder,
        release: async () => {
          client.close();
          executor.detach(scheduler);
          await forwarding?.release();
          scheduler.close();
        },
      });
    }
  } catch (err) {
    await Promise.all(versions.map((v) => v.release()));
    throw err;
  }
  return new Model(desc.config, settings, versions, mode);
}

function backendModeOf(option: RuntimeOptions['backend'], model: string): BackendMode | undefined {
  if (option === undefined) return undefined;
  const mode = typeof option === 'string' ? option : option[model];
  if (mode !== undefined && !BACKEND_MODES.includes(mode)) {
    throw new RangeError(`backend for model "${model}" must be one of ${BACKEND_MODES.join(', ')}, got "${String(mode)}"`);
  }
  return mode;
}

/**
 * Batch buffers for one scheduler: twice what a full queue needs in batches of the size that seals
 * them (room for batches the timer sealed part-full), one per executor thread, one open per level.
 * Past that, admission answers resource_exhausted: memory is bounded by this number.
 */
function slabCount(b: ResolvedBatching, threads: number): number {
  const sealSize = b.preferredBatchSize.length > 0 ? Math.max(...b.preferredBatchSize) : b.maxBatchSize;
  return 2 * Math.ceil(b.maxQueueSize / sealSize) * b.priorityLevels + threads + b.priorityLevels + 1;
}

/** A model fed by preprocess.json has one FP32 input whose row is exactly the plan's output. */
function checkRecordInput(desc: ModelDescription, pre: Preprocessor, file: string): void {
  const inputs = desc.config.inputs;
  const input = inputs[0];
  if (inputs.length !== 1 || !input || input.datatype !== 'FP32') {
    throw new ModelConfigError(file, `a preprocessed model needs exactly one FP32 input in config.pbtxt`);
  }
  if (input.name !== pre.outputName || rowElements(input) !== pre.width) {
    throw new ModelConfigError(
      file,
      `output "${pre.outputName}" of width ${pre.width} does not match config.pbtxt input "${input.name}" with dims [${input.dims.join(', ')}]`,
    );
  }
}
