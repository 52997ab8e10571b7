// Mode (a): what a service does without infergate — preprocess and call onnxruntime-node per
// request, on its own event loop. ORT's run() is synchronous inside a setImmediate, so every
// request's model time is spent on the main thread.

import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Preprocessor } from '../../src/preprocess/preprocessor';
import { MODEL_FILE, PREPROCESS_FILE, SCORE_INDEX, SCORE_OUTPUT, cycle, recordPool } from './fraud';
import type { ModeHandle } from './mode';

export async function openOrtMain(): Promise<ModeHandle> {
  const pre = new Preprocessor(readFileSync(PREPROCESS_FILE, 'utf8'), PREPROCESS_FILE, 'fraud');
  const session = await ort.InferenceSession.create(MODEL_FILE, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const next = cycle(recordPool());
  return {
    async send() {
      const row = pre.one(next());
      const out = await session.run({ [pre.outputName]: new ort.Tensor('float32', row, [1, pre.width]) }, [SCORE_OUTPUT]);
      return (out[SCORE_OUTPUT]?.data as Float32Array)[SCORE_INDEX];
    },
    close: () => session.release(),
  };
}
