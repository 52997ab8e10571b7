// infergate's own per-model settings, read from config.pbtxt `parameters` under the `infergate.`
// prefix (Triton ignores parameters it does not know, so the repository still loads there).

import { type ModelConfig, ModelConfigError, rowElements } from './model-config';
import { DecisionBands } from '../postprocess/decision-bands';

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
}

const KNOWN = new Set([
  'infergate.preprocess',
  'infergate.score_output',
  'infergate.score_index',
  'infergate.decision_bands',
  'infergate.decision_default',
  'infergate.intra_op_threads',
  'infergate.execution_providers',
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
  if (!Number.isInteger(scoreIndex) || scoreIndex < 0 || scoreIndex >= width) {
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
  return {
    preprocess: p.get('infergate.preprocess'),
    scoreOutput,
    scoreIndex,
    decisionBands,
    intraOpThreads,
    executionProviders: eps === undefined ? undefined : eps.split(',').map((s) => s.trim()).filter(Boolean),
  };
}
