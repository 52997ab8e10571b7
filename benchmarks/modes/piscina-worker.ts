// The worker of mode (b): loads its own Preprocessor and ORT session once, then scores one record
// per task. Piscina calls the default export.

import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Preprocessor } from '../../src/preprocess/preprocessor';
import { MODEL_FILE, PREPROCESS_FILE, SCORE_INDEX, SCORE_OUTPUT } from './fraud';

const ready = (async () => {
  const pre = new Preprocessor(readFileSync(PREPROCESS_FILE, 'utf8'), PREPROCESS_FILE, 'fraud');
  const session = await ort.InferenceSession.create(MODEL_FILE, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return { pre, session };
})();

export default async function score(record: unknown): Promise<number> {
  const { pre, session } = await ready;
  const row = pre.one(record);
  const out = await session.run({ [pre.outputName]: new ort.Tensor('float32', row, [1, pre.width]) }, [SCORE_OUTPUT]);
  return (out[SCORE_OUTPUT]?.data as Float32Array)[SCORE_INDEX] as number;
}
