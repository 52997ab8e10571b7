// The typed view of a Triton config.pbtxt: the subset infergate acts on, validated, with Triton's
// names. Anything Triton accepts that infergate does not use is left alone (so the same repository
// still loads in Triton), but a field infergate uses with a wrong type is an error naming it.

import { PbIdent, PbMessage, type PbValue, parsePbtxt } from './pbtxt';

/** KServe v2 tensor datatypes, as they appear on the wire. */
export type Datatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'BF16' | 'FP32' | 'FP64' | 'BYTES';

const DATATYPES: Record<string, Datatype> = {
  TYPE_BOOL: 'BOOL', TYPE_UINT8: 'UINT8', TYPE_UINT16: 'UINT16', TYPE_UINT32: 'UINT32',
  TYPE_UINT64: 'UINT64', TYPE_INT8: 'INT8', TYPE_INT16: 'INT16', TYPE_INT32: 'INT32',
  TYPE_INT64: 'INT64', TYPE_FP16: 'FP16', TYPE_BF16: 'BF16', TYPE_FP32: 'FP32', TYPE_FP64: 'FP64',
  TYPE_STRING: 'BYTES',
};

export interface TensorConfig {
  name: string;
  datatype: Datatype;
  /** Dimensions without the batch dimension when maxBatchSize > 0; -1 means variable. */
  dims: number[];
}

export type VersionPolicy =
  | { kind: 'latest'; numVersions: number }
  | { kind: 'all' }
  | { kind: 'specific'; versions: number[] };

export interface QueuePolicy {
  /** What happens to a request that waited past its timeout: rejected, or kept. */
  timeoutAction: 'reject' | 'delay';
  /** 0: no timeout. */
  defaultTimeoutMicroseconds: number;
  /** Whether a request may set its own timeout. */
  allowTimeoutOverride: boolean;
  /** Requests waiting at most; 0 in Triton means unbounded, which infergate replaces by a bound. */
  maxQueueSize: number;
}

export interface DynamicBatchingConfig {
  preferredBatchSize: number[];
  maxQueueDelayMicroseconds: number;
  /** 0: one level. Triton: 1 is the highest priority. */
  priorityLevels: number;
  defaultPriorityLevel: number;
  defaultQueuePolicy: QueuePolicy;
}

/** One input of a warm-up sample (Triton's ModelWarmup.Input): its data is zeros, random, or a file. */
export interface WarmupInput {
  datatype: Datatype;
  /** Without the batch dimension, which the sample's batch size supplies. */
  dims: number[];
  data: { kind: 'zero' } | { kind: 'random' } | { kind: 'file'; file: string };
}

/** Triton's `model_warmup`: a sample request run `count` times on each version before it takes traffic. */
export interface WarmupSample {
  name: string;
  batchSize: number;
  count: number;
  inputs: Map<string, WarmupInput>;
}

export interface ModelConfig {
  name: string;
  platform: string;
  /** 0 means the model takes no batch dimension. */
  maxBatchSize: number;
  inputs: TensorConfig[];
  outputs: TensorConfig[];
  versionPolicy: VersionPolicy;
  dynamicBatching: DynamicBatchingConfig | undefined;
  /** The file inside each version folder (Triton's `default_model_filename`). */
  defaultModelFilename: string;
  /** config.pbtxt `parameters { key: ... value: { string_value: ... } }`. */
  parameters: Map<string, string>;
  /** `model_warmup` samples, in order (empty: none configured). */
  warmup: WarmupSample[];
}

export class ModelConfigError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelConfigError';
  }
}

/** Field access with errors that name the field path and what was expected. */
class Reader {
  constructor(
    private readonly file: string,
    private readonly msg: PbMessage,
    private readonly path: string,
  ) {}

  private where(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  fail(name: string, expected: string): never {
    throw new ModelConfigError(this.file, `field "${this.where(name)}" must be ${expected}`);
  }

  private single(name: string): PbValue | undefined {
    const all = this.msg.all(name);
    if (all.length > 1) throw new ModelConfigError(this.file, `field "${this.where(name)}" is given ${all.length} times`);
    return all[0];
  }

  has(name: string): boolean {
    return this.msg.all(name).length > 0;
  }

  string(name: string, fallback?: string): string {
    const v = this.single(name);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') this.fail(name, 'a string');
    return v;
  }

  int(name: string, fallback: number, min = 0): number {
    const v = this.single(name);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(name, `an integer >= ${min}`);
    return v;
  }

  ints(name: string, min: number): number[] {
    return this.msg.all(name).map((v) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(name, `a list of integers >= ${min}`);
      return v;
    });
  }

  bool(name: string): boolean {
    const v = this.single(name);
    if (typeof v !== 'boolean') this.fail(name, 'true or false');
    return v;
  }

  ident(name: string): string | undefined {
    const v = this.single(name);
    if (v === undefined) return undefined;
    if (!(v instanceof PbIdent)) this.fail(name, 'an enum name such as TYPE_FP32');
    return v.name;
  }

  message(name: string): Reader | undefined {
    const v = this.single(name);
    if (v === undefined) return undefined;
    if (!(v instanceof PbMessage)) this.fail(name, 'a message { ... }');
    return new Reader(this.file, v, this.where(name));
  }

  messages(name: string): Reader[] {
    return this.msg.all(name).map((v, i) => {
      if (!(v instanceof PbMessage)) this.fail(name, 'a list of messages { ... }');
      return new Reader(this.file, v, `${this.where(name)}[${i}]`);
    });
  }
}

function readTensor(r: Reader): TensorConfig {
  const name = r.string('name');
  const type = r.ident('data_type');
  const datatype = type === undefined ? undefined : DATATYPES[type];
  if (datatype === undefined) r.fail('data_type', `one of ${Object.keys(DATATYPES).join(', ')}`);
  const dims = r.ints('dims', -1);
  if (dims.length === 0 && !r.has('reshape')) r.fail('dims', 'a non-empty list of dimensions');
  return { name, datatype, dims };
}

function readVersionPolicy(r: Reader | undefined): VersionPolicy {
  if (r === undefined) return { kind: 'latest', numVersions: 1 };
  const latest = r.message('latest');
  if (latest) return { kind: 'latest', numVersions: latest.int('num_versions', 1, 1) };
  if (r.message('all')) return { kind: 'all' };
  const specific = r.message('specific');
  if (specific) {
    const versions = specific.ints('versions', 1);
    if (versions.length === 0) specific.fail('versions', 'a non-empty list of version numbers');
    return { kind: 'specific', versions };
  }
  return r.fail('', 'one of latest { num_versions }, all { }, specific { versions }');
}

function readQueuePolicy(r: Reader | undefined): QueuePolicy {
  const action = r?.ident('timeout_action') ?? 'REJECT';
  if (action !== 'REJECT' && action !== 'DELAY') r?.fail('timeout_action', 'REJECT or DELAY');
  const override = r?.has('allow_timeout_override') ? r.bool('allow_timeout_override') : false;
  return {
    timeoutAction: action === 'DELAY' ? 'delay' : 'reject',
    defaultTimeoutMicroseconds: r?.int('default_timeout_microseconds', 0) ?? 0,
    allowTimeoutOverride: override,
    maxQueueSize: r?.int('max_queue_size', 0) ?? 0,
  };
}

function readDynamicBatching(db: Reader): DynamicBatchingConfig {
  const priorityLevels = db.int('priority_levels', 0);
  const defaultPriorityLevel = db.int('default_priority_level', 0);
  if (priorityLevels > 0 && (defaultPriorityLevel < 1 || defaultPriorityLevel > priorityLevels)) {
    db.fail('default_priority_level', `between 1 and priority_levels (${priorityLevels})`);
  }
  return {
    preferredBatchSize: db.ints('preferred_batch_size', 1),
    maxQueueDelayMicroseconds: db.int('max_queue_delay_microseconds', 0),
    priorityLevels,
    defaultPriorityLevel,
    defaultQueuePolicy: readQueuePolicy(db.message('default_queue_policy')),
  };
}

function readParameters(r: Reader): Map<string, string> {
  const params = new Map<string, string>();
  for (const p of r.messages('parameters')) {
    const key = p.string('key');
    const value = p.message('value') ?? p.fail('value', 'a message { string_value: "..." }');
    params.set(key, value.string('string_value'));
  }
  return params;
}

function readWarmupInput(r: Reader): WarmupInput {
  const type = r.ident('data_type');
  const datatype = type === undefined ? undefined : DATATYPES[type];
  if (datatype === undefined) r.fail('data_type', `one of ${Object.keys(DATATYPES).join(', ')}`);
  const dims = r.ints('dims', 1);
  const sources = ['zero_data', 'random_data', 'input_data_file'].filter((f) => r.has(f));
  if (sources.length !== 1) r.fail('zero_data', 'one of zero_data: true, random_data: true, input_data_file: "..." (exactly one)');
  let data: WarmupInput['data'];
  if (r.has('input_data_file')) data = { kind: 'file', file: r.string('input_data_file') };
  else if (r.has('zero_data')) {
    if (!r.bool('zero_data')) r.fail('zero_data', 'true when given');
    data = { kind: 'zero' };
  } else {
    if (!r.bool('random_data')) r.fail('random_data', 'true when given');
    data = { kind: 'random' };
  }
  return { datatype, dims, data };
}

function readWarmup(r: Reader): WarmupSample {
  const name = r.string('name', '');
  const inputs = new Map<string, WarmupInput>();
  for (const entry of r.messages('inputs')) {
    const key = entry.string('key');
    inputs.set(key, readWarmupInput(entry.message('value') ?? entry.fail('value', 'a message { data_type ... dims ... }')));
  }
  if (inputs.size === 0) r.fail('inputs', 'at least one input { key: "..." value: { ... } }');
  return { name, batchSize: r.int('batch_size', 0), count: r.int('count', 1, 1), inputs };
}

/** Parses and validates config.pbtxt text. `dirName` is the model's folder name in the repository. */
export function parseModelConfig(text: string, file: string, dirName: string): ModelConfig {
  let root: PbMessage;
  try {
    root = parsePbtxt(text);
  } catch (err) {
    throw new ModelConfigError(file, (err as Error).message);
  }
  const r = new Reader(file, root, '');
  const name = r.string('name', dirName);
  if (name !== dirName) {
    throw new ModelConfigError(file, `field "name" is "${name}" but the model's folder is "${dirName}"; they must match`);
  }
  const platform = r.string('platform', r.has('backend') ? r.string('backend') : '');
  if (!platform) r.fail('platform', 'set (for example "onnxruntime_onnx")');
  const maxBatchSize = r.int('max_batch_size', 0);
  const inputs = r.messages('input').map(readTensor);
  const outputs = r.messages('output').map(readTensor);
  if (inputs.length === 0) r.fail('input', 'at least one input tensor');
  if (outputs.length === 0) r.fail('output', 'at least one output tensor');
  const db = r.message('dynamic_batching');
  const dynamicBatching = db && readDynamicBatching(db);
  if (dynamicBatching && maxBatchSize > 0) {
    for (const size of dynamicBatching.preferredBatchSize) {
      if (size > maxBatchSize) {
        throw new ModelConfigError(file, `dynamic_batching.preferred_batch_size ${size} exceeds max_batch_size ${maxBatchSize}`);
      }
    }
  }
  return {
    name,
    platform,
    maxBatchSize,
    inputs,
    outputs,
    versionPolicy: readVersionPolicy(r.message('version_policy')),
    dynamicBatching,
    defaultModelFilename: r.string('default_model_filename', 'model.onnx'),
    parameters: readParameters(r),
    warmup: r.messages('model_warmup').map(readWarmup),
  };
}

/** The number of elements of one batch row of a tensor (every dim must be fixed). */
export function rowElements(t: TensorConfig): number {
  return t.dims.reduce((a, b) => a * b, 1);
}
