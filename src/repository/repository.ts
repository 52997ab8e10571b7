// Reads a Triton-layout model repository: <repository>/<model>/config.pbtxt and numbered version
// folders, selected by the config's version_policy. Returns descriptions; loading is the runtime's.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type ModelConfig, ModelConfigError, type VersionPolicy, parseModelConfig } from './model-config';

export interface VersionFiles {
  version: number;
  dir: string;
  /** The model file: config `default_model_filename`, else model.onnx. */
  modelFile: string;
  /** `<version>/preprocess.json` when present, else the model's own, else none. */
  preprocessFile: string | undefined;
}

export interface ModelDescription {
  name: string;
  dir: string;
  config: ModelConfig;
  /** The versions the policy selects, ascending. */
  versions: VersionFiles[];
}

export class RepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepositoryError';
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

export function selectVersions(available: number[], policy: VersionPolicy): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'all':
      return sorted;
    case 'latest':
      return sorted.slice(Math.max(0, sorted.length - policy.numVersions));
    case 'specific':
      return sorted.filter((v) => policy.versions.includes(v));
  }
}

/** Lists the models in a repository folder (folders holding a config.pbtxt). */
export async function listModels(repository: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(repository, { withFileTypes: true });
  } catch (err) {
    throw new RepositoryError(`model repository "${repository}" cannot be read: ${(err as Error).message}`);
  }
  const names: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await exists(path.join(repository, e.name, 'config.pbtxt')))) names.push(e.name);
  }
  return names.sort();
}

/**
 * Reads a model's config and the version folders its version_policy selects; `only`, when
 * given, selects exactly those folders instead (a rollback to a version outside the policy).
 */
export async function describeModel(repository: string, name: string, only?: readonly number[]): Promise<ModelDescription> {
  const dir = path.join(repository, name);
  const configFile = path.join(dir, 'config.pbtxt');
  let text: string;
  try {
    text = await fs.readFile(configFile, 'utf8');
  } catch {
    throw new RepositoryError(`model "${name}" not found: ${configFile} does not exist`);
  }
  const config = parseModelConfig(text, configFile, name);
  const available: number[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory() && /^[1-9][0-9]*$/.test(e.name)) available.push(Number(e.name));
  }
  if (only) {
    const missing = only.filter((v) => !available.includes(v));
    if (missing.length > 0 || only.length === 0) {
      throw new ModelConfigError(configFile, `version folder(s) ${missing.join(', ') || '(none asked)'} not found (folders found: ${available.length ? available.sort((a, b) => a - b).join(', ') : 'none'})`);
    }
  }
  const selected = only ? [...only].sort((a, b) => a - b) : selectVersions(available, config.versionPolicy);
  if (selected.length === 0) {
    throw new ModelConfigError(
      configFile,
      `version_policy selects no version (folders found: ${available.length ? available.join(', ') : 'none'})`,
    );
  }
  const sharedPreprocess = config.parameters.get('infergate.preprocess');
  const versions: VersionFiles[] = [];
  for (const version of selected) {
    const vdir = path.join(dir, String(version));
    const own = path.join(vdir, 'preprocess.json');
    let preprocessFile: string | undefined;
    if (await exists(own)) preprocessFile = own;
    else if (sharedPreprocess !== undefined) preprocessFile = path.join(dir, sharedPreprocess);
    versions.push({ version, dir: vdir, modelFile: path.join(vdir, config.defaultModelFilename), preprocessFile });
  }
  return { name, dir, config, versions };
}
