// infergate's own per-model settings, read from config.pbtxt `parameters` under the `infergate.`
// prefix (Triton ignores parameters it does not know, so the repository still loads there).

import { type ModelConfig, ModelConfigError, rowElements } from './model-config';
import { DecisionBands } from '../postprocess/decision-bands';
import { parseEndpoints } from '../backends/triton/triton-options';
import type { TrafficPolicy } from '../routing/traffic-policy';

/** Score-drift monitoring against a reference histogram stored with the model. */
export interface DriftSettings {
  /** The reference file, relative to the model's folder (e.g. reference_scores.json). */
  reference: string;
  /** Live scores in the sliding window. */
  window: number | undefined;
  /** PSI at which drift is a warning, and an alert. */
  warnAt: number | undefined;
  alertAt: number | undefined;
}

export interface ModelSettings {
  /** preprocess.json beside config.pbtxt (relative), if the model takes raw records. */
  preprocess: string | undefined;
  /** The output holding the score, and the element of each row that is the score. */
  scoreOutput: string;
  scoreIndex: number;
  /** Decision bands; undefined when the config sets none (results then carry no decision). */
  decisionBands: DecisionBands | undefined;
  intraOpThreads: number | undefined;
  executionProviders: string[] | undefined;
  /** Where batches run: here, on a Triton cluster, or there with a local fallback. */
  backend: BackendMode | undefined;
  /** The Triton cluster's gRPC endpoints ("host:port"). */
  tritonEndpoints: string[] | undefined;
  /** The model's name and version on the cluster; default: the local name and version. */
  tritonModel: string | undefined;
  tritonVersion: string | undefined;
  /** Pass batches to a co-located Triton through system shared memory. */
  tritonSharedMemory: boolean | undefined;
  /** The traffic policy the model starts with (`infergate.traffic.*`); checked against the versions at load. */
  traffic: TrafficPolicy;
  drift: DriftSettings | undefined;
  /** The batcher's sparse-seal gap (BatchingOptions.sparseSealGapMicroseconds); undefined: not set. */
  sparseSealGapMicroseconds: number | undefined;
}

export type BackendMode = 'local' | 'triton' | 'triton-with-local-fallback';
export const BACKEND_MODES: readonly BackendMode[] = ['local', 'triton', 'triton-with-local-fallback'];

const KNOWN = new Set([
  'infergate.sparse_seal_gap_microseconds',
  'infergate.preprocess',
  'infergate.score_output',
  'infergate.score_index',
  'infergate.decision_bands',
  'infergate.decision_default',
  'infergate.intra_op_threads',
  'infergate.execution_providers',
  'infergate.backend',
  'infergate.triton.endpoints',
  'infergate.triton.model',
  'infergate.triton.version',
  'infergate.triton.shared_memory',
  'infergate.traffic.primary',
  'infergate.traffic.canary_version',
  'infergate.traffic.canary_percent',
  'infergate.traffic.canary_key',
  'infergate.traffic.shadow_version',
  'infergate.traffic.shadow_backend',
  'infergate.traffic.shadow_sample_rate',
  'infergate.drift.reference',
  'infergate.drift.window',
  'infergate.drift.warn',
  'infergate.drift.alert',
]);

export function readModelSettings(config: ModelConfig, file: string): ModelSettings {
  const p = config.parameters;
  for (const key of p.keys()) {
    if (key.startsWith('infergate.') && !KNOWN.has(key)) {
      throw new ModelConfigError(file, `unknown parameter "${key}"; infergate's parameters are: ${[...KNOWN].join(', ')}`);
    }
  }
  const fail = (key: string, expected: string): never => {
    throw new ModelConfigError(file, `parameter "${key}" must be ${expected}, got "${p.get(key)}"`);
  };

  const firstOutput = config.outputs[0]?.name ?? '';
  const scoreOutput = p.get('infergate.score_output') ?? firstOutput;
  const output = config.outputs.find((o) => o.name === scoreOutput);
  if (!output) fail('infergate.score_output', `one of the outputs (${config.outputs.map((o) => o.name).join(', ')})`);
  const width = rowElements(output as NonNullable<typeof output>);
  const rawIndex = p.get('infergate.score_index');
  // A two-column output is [P(negative), P(positive)] by convention; otherwise the first element.
  const scoreIndex = rawIndex === undefined ? (width === 2 ? 1 : 0) : Number(rawIndex);
  // A variable-size output (-1 in its dims) is checked per answer, not here.
  if (!Number.isInteger(scoreIndex) || scoreIndex < 0 || (width > 0 && scoreIndex >= width)) {
    fail('infergate.score_index', `an integer in [0, ${width - 1}] (the output's row has ${width} elements)`);
  }

  let decisionBands: DecisionBands | undefined;
  const bands = p.get('infergate.decision_bands');
  if (bands !== undefined) {
    try {
      decisionBands = DecisionBands.parse(bands, p.get('infergate.decision_default') ?? 'allow');
    } catch (err) {
      fail('infergate.decision_bands', `valid (${(err as Error).message})`);
    }
  }

  const threads = p.get('infergate.intra_op_threads');
  const intraOpThreads = threads === undefined ? undefined : Number(threads);
  if (intraOpThreads !== undefined && (!Number.isInteger(intraOpThreads) || intraOpThreads < 1)) {
    fail('infergate.intra_op_threads', 'an integer >= 1');
  }
  const eps = p.get('infergate.execution_providers');
  const backend = p.get('infergate.backend');
  if (backend !== undefined && !BACKEND_MODES.includes(backend as BackendMode)) fail('infergate.backend', BACKEND_MODES.join(' | '));
  const endpoints = p.get('infergate.triton.endpoints');
  let tritonEndpoints: string[] | undefined;
  if (endpoints !== undefined) {
    try {
      tritonEndpoints = parseEndpoints(endpoints, 'infergate.triton.endpoints');
    } catch (err) {
      fail('infergate.triton.endpoints', `"host:port[,host:port...]" (${(err as Error).message})`);
    }
  }
  const shm = p.get('infergate.triton.shared_memory');
  if (shm !== undefined && shm !== 'true' && shm !== 'false') fail('infergate.triton.shared_memory', 'true or false');
  const tritonVersion = p.get('infergate.triton.version');
  if (tritonVersion !== undefined && !/^([0-9]+|latest)$/.test(tritonVersion)) fail('infergate.triton.version', 'a version number or "latest"');
  const number = (key: string, expected: string, ok: (n: number) => boolean): number | undefined => {
    const raw = p.get(key);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !ok(n)) fail(key, expected);
    return n;
  };
  const version = (key: string) => number(key, 'a version number', (n) => Number.isInteger(n) && n >= 1);
  const sparseSealGapMicroseconds = number('infergate.sparse_seal_gap_microseconds', 'a whole number of microseconds', (n) => Number.isSafeInteger(n) && n >= 0);
  const traffic: TrafficPolicy = {};
  const primary = version('infergate.traffic.primary');
  if (primary !== undefined) traffic.primary = primary;
  const canaryVersion = version('infergate.traffic.canary_version');
  const canaryPercent = number('infergate.traffic.canary_percent', 'a number in [0, 100]', (n) => n >= 0 && n <= 100);
  if ((canaryVersion === undefined) !== (canaryPercent === undefined)) {
    fail(canaryVersion === undefined ? 'infergate.traffic.canary_version' : 'infergate.traffic.canary_percent', 'set together with the other canary parameter');
  }
  if (canaryVersion !== undefined) {
    const key = p.get('infergate.traffic.canary_key');
    traffic.canary = { version: canaryVersion, percent: canaryPercent as number, ...(key ? { key } : {}) };
  }
  const shadowVersion = version('infergate.traffic.shadow_version');
  const shadowBackend = p.get('infergate.traffic.shadow_backend');
  if (shadowBackend !== undefined && !BACKEND_MODES.includes(shadowBackend as BackendMode)) fail('infergate.traffic.shadow_backend', BACKEND_MODES.join(' | '));
  const sampleRate = number('infergate.traffic.shadow_sample_rate', 'a number in [0, 1]', (n) => n >= 0 && n <= 1);
  if (shadowVersion !== undefined || shadowBackend !== undefined) {
    traffic.shadow = {
      ...(shadowVersion !== undefined ? { version: shadowVersion } : {}),
      ...(shadowBackend !== undefined ? { backend: shadowBackend as BackendMode } : {}),
      ...(sampleRate !== undefined ? { sampleRate } : {}),
    };
  }
  const reference = p.get('infergate.drift.reference');
  const drift: DriftSettings | undefined =
    reference === undefined
      ? undefined
      : {
          reference,
          window: number('infergate.drift.window', 'an integer >= 1', (n) => Number.isInteger(n) && n >= 1),
          warnAt: number('infergate.drift.warn', 'a positive number', (n) => n > 0),
          alertAt: number('infergate.drift.alert', 'a positive number', (n) => n > 0),
        };
  return {
    traffic,
    drift,
    backend: backend as BackendMode | undefined,
    tritonEndpoints,
    tritonModel: p.get('infergate.triton.model'),
    tritonVersion,
    tritonSharedMemory: shm === undefined ? undefined : shm === 'true',
    preprocess: p.get('infergate.preprocess'),
    scoreOutput,
    scoreIndex,
    decisionBands,
    intraOpThreads,
    executionProviders: eps === undefined ? undefined : eps.split(',').map((s) => s.trim()).filter(Boolean),
    sparseSealGapMicroseconds,
  };
}
