// The entry point of the embedded API: load a model repository, hand out models, close.
//
//   const rt = await Runtime.load({ repository: 'models' });
//   const r = await rt.model('fraud').infer(record);   // { score, decision, modelVersion }
//   await rt.close();

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { OnnxBackend } from '../backends/onnx/onnx-backend';
import { notFound } from '../errors';
import { Preprocessor } from '../preprocess/preprocessor';
import { ModelConfigError, rowElements } from '../repository/model-config';
import { readModelSettings } from '../repository/model-settings';
import { type ModelDescription, describeModel, listModels } from '../repository/repository';
import { type LoadedVersion, Model } from './model';

export interface RuntimeOptions {
  /** The model repository folder (Triton's layout). */
  repository: string;
  /** Load only these models; default: every model in the repository. */
  models?: string[];
  /** ONNX Runtime intra-op threads per session; overrides `infergate.intra_op_threads`. Default 1. */
  intraOpThreads?: number;
  /** ONNX Runtime execution providers, e.g. ["cuda", "cpu"]; overrides the config. Default ["cpu"]. */
  executionProviders?: string[];
}

export class Runtime {
  private closed = false;

  private constructor(
    readonly repository: string,
    private readonly loaded: Map<string, Model>,
  ) {}

  /** Loads the repository's models. Any model that fails to load fails the whole load, naming it. */
  static async load(options: RuntimeOptions): Promise<Runtime> {
    if (!options || typeof options.repository !== 'string' || options.repository === '') {
      throw new TypeError('Runtime.load: options.repository must be the path of a model repository folder');
    }
    const repository = path.resolve(options.repository);
    const names = options.models ?? (await listModels(repository));
    if (names.length === 0) throw new Error(`model repository "${repository}" holds no model (no <name>/config.pbtxt)`);
    const loaded = new Map<string, Model>();
    try {
      for (const name of names) loaded.set(name, await loadModel(await describeModel(repository, name), options));
    } catch (err) {
      await Promise.all([...loaded.values()].map((m) => m.close()));
      throw err;
    }
    return new Runtime(repository, loaded);
  }

  /** A loaded model; throws not_found naming the models that are loaded. */
  model(name: string): Model {
    const m = this.loaded.get(name);
    if (!m || this.closed) {
      throw notFound(`model "${name}" is not loaded (loaded: ${[...this.loaded.keys()].join(', ') || 'none'})`, { model: name });
    }
    return m;
  }

  models(): Model[] {
    return [...this.loaded.values()];
  }

  get ready(): boolean {
    return !this.closed && this.models().every((m) => m.ready);
  }

  /** Finishes the requests in flight, then releases every model. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.models().map((m) => m.close()));
  }
}

async function loadModel(desc: ModelDescription, options: RuntimeOptions): Promise<Model> {
  const configFile = path.join(desc.dir, 'config.pbtxt');
  const settings = readModelSettings(desc.config, configFile);
  if (desc.config.platform !== 'onnxruntime_onnx') {
    throw new ModelConfigError(configFile, `platform "${desc.config.platform}" is not served locally; infergate runs "onnxruntime_onnx"`);
  }
  const versions: LoadedVersion[] = [];
  try {
    for (const files of desc.versions) {
      let preprocessor: Preprocessor | undefined;
      if (files.preprocessFile) {
        const text = await fs.readFile(files.preprocessFile, 'utf8').catch((err: Error) => {
          throw new ModelConfigError(configFile, `preprocess file cannot be read: ${err.message}`);
        });
        preprocessor = new Preprocessor(text, files.preprocessFile, desc.name);
        checkRecordInput(desc, preprocessor, files.preprocessFile);
      }
      const backend = await OnnxBackend.create(files.modelFile, desc.config, {
        intraOpThreads: options.intraOpThreads ?? settings.intraOpThreads ?? 1,
        executionProviders: options.executionProviders ?? settings.executionProviders ?? ['cpu'],
      });
      versions.push({ version: files.version, backend, preprocessor });
    }
  } catch (err) {
    await Promise.all(versions.map((v) => v.backend.close()));
    throw err;
  }
  return new Model(desc.config, settings, versions);
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
