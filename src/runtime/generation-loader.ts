// Builds a model generation from its repository description: per version, the backend (a local
// ONNX Runtime session, a Triton connection, or both with fallback), the preprocessor and the native
// batcher with its executor or forwarder; then warms each version up. Nothing here routes traffic:
// the model swaps the finished generation in.

import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Backend } from '../backends/backend';
import { OnnxBackend } from '../backends/onnx/onnx-backend';
import type { BatchSource, OnnxExecutor } from '../backends/onnx/onnx-executor';
import type { LocalFallback } from '../backends/triton/batch-forwarder';
import type { OnnxSessionSpec } from '../backends/onnx/onnx-session-spec';
import { type BatchingOptions, type ResolvedBatching, resolveBatching } from '../batching/batching-options';
import { SchedulerClient } from '../batching/scheduler-client';
import { batchSchedulerClass } from '../native/addon';
import { Preprocessor } from '../preprocess/preprocessor';
import { ModelConfigError, rowElements } from '../repository/model-config';
import { BACKEND_MODES, type BackendMode, type ModelSettings, readModelSettings } from '../repository/model-settings';
import type { ModelDescription, VersionFiles } from '../repository/repository';
import { scoreResults } from '../postprocess/decision-bands';
import { FallbackBackend } from './fallback-backend';
import { type LoadedVersion, ModelGeneration } from './model-generation';
import type { TritonLink, TritonRuntimeOptions } from './triton-link';
import { warmUp } from './warmup';

/** The runtime options a generation is built with (see RuntimeOptions for each). */
export interface GenerationOptions {
  intraOpThreads?: number;
  executionProviders?: string[];
  batching?: BatchingOptions & { models?: Record<string, BatchingOptions> };
  backend?: BackendMode | Record<string, BackendMode>;
  triton?: TritonRuntimeOptions;
}

export interface GenerationContext {
  options: GenerationOptions;
  executor: OnnxExecutor;
  triton: TritonLink;
}

// Native schedulers are process-wide and found by name: each generation gets its own prefix.
const RUNTIME_ID = randomUUID().slice(0, 8);
let generations = 0;

/**
 * Loads every version of `desc`, plus shadow-only instances (a version on another backend), and
 * warms them up. On any failure, what was built is released and the error names the model.
 */
export async function loadGeneration(
  desc: ModelDescription,
  ctx: GenerationContext,
  shadows: readonly { version: number; mode: BackendMode }[] = [],
): Promise<ModelGeneration> {
  const configFile = path.join(desc.dir, 'config.pbtxt');
  const settings = readModelSettings(desc.config, configFile);
  const mode = backendModeOf(ctx.options.backend, desc.name) ?? settings.backend ?? 'local';
  const prefix = `${RUNTIME_ID}-${++generations}/${desc.name}`;
  const built: LoadedVersion[] = [];
  let gen: ModelGeneration | undefined;
  try {
    for (const files of desc.versions) built.push(await loadVersion(desc, settings, files, mode, `${prefix}/${files.version}`, ctx));
    for (const v of built) await warmUp(desc.config, desc.dir, v);
    gen = new ModelGeneration(desc, settings, mode, built);
    for (const s of shadows) await addShadowInstance(gen, ctx, s.version, s.mode);
    return gen;
  } catch (err) {
    await (gen ? gen.retire() : Promise.all(built.map((v) => v.release())));
    throw err;
  }
}

/**
 * Loads `version` of a serving generation's model on another backend, warms it up, and adds it to
 * the generation as an instance for shadow copies only (a local model shadowed on Triton, say).
 */
export async function addShadowInstance(gen: ModelGeneration, ctx: GenerationContext, version: number, mode: BackendMode): Promise<void> {
  const desc = gen.source;
  const files = desc.versions.find((f) => f.version === version);
  if (!files) {
    throw new ModelConfigError(path.join(desc.dir, 'config.pbtxt'), `the shadow's version ${version} is not loaded (loaded: ${gen.versions.join(', ')})`);
  }
  const v = await loadVersion(desc, gen.settings, files, mode, `${RUNTIME_ID}-${++generations}/${desc.name}/${version}@${mode}`, ctx);
  try {
    await warmUp(desc.config, desc.dir, v);
    gen.addShadowInstance(v);
  } catch (err) {
    await v.release();
    throw err;
  }
}

async function loadVersion(
  desc: ModelDescription,
  settings: ModelSettings,
  files: VersionFiles,
  mode: BackendMode,
  key: string,
  { options, executor, triton }: GenerationContext,
): Promise<LoadedVersion> {
  const configFile = path.join(desc.dir, 'config.pbtxt');
  const runsLocally = mode !== 'triton';
  if (runsLocally && desc.config.platform !== 'onnxruntime_onnx') {
    throw new ModelConfigError(configFile, `platform "${desc.config.platform}" is not served locally; infergate runs "onnxruntime_onnx" (or set infergate.backend to "triton")`);
  }
  const endpoints = mode === 'local' ? [] : triton.endpointsFor(desc.name, settings.tritonEndpoints);
  const sharedMemory = mode !== 'local' && (options.triton?.sharedMemory ?? settings.tritonSharedMemory ?? false);
  const { models: perModel, ...forAll } = options.batching ?? {};
  const overrides = { ...forAll, ...perModel?.[desc.name] };
  const batching = resolveBatching(desc.config, {
    ...overrides,
    sparseSealGapMicroseconds: overrides.sparseSealGapMicroseconds ?? settings.sparseSealGapMicroseconds,
  });
  const scoreOutput = desc.config.outputs.find((o) => o.name === settings.scoreOutput);
  const session: OnnxSessionSpec = {
    key,
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
  const releaseSession = (): void => {
    if (local) executor.release(session.key);
  };
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
  let connection;
  try {
    connection = remote && (await triton.connect(remote, mode === 'triton'));
  } catch (err) {
    releaseSession();
    throw err;
  }
  const backend: Backend = connection ? (local ? new FallbackBackend(connection.backend, local) : connection.backend) : (local as Backend);
  if (!preprocessor) {
    return { version: files.version, mode, backend, preprocessor, batching: undefined, forwarder: undefined, release: releaseSession };
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
      releaseSession();
      throw err;
    }
  } else {
    executor.attach(source);
  }
  return {
    version: files.version,
    mode,
    backend,
    preprocessor,
    batching: { scheduler, client },
    forwarder: forwarding?.forwarder,
    release: async () => {
      client.close();
      executor.detach(scheduler);
      await forwarding?.release();
      scheduler.close();
      releaseSession();
    },
  };
}

export function backendModeOf(option: GenerationOptions['backend'], model: string): BackendMode | undefined {
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
