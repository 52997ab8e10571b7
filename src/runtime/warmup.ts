// Warm-up: before a version takes traffic, it runs sample requests, as Triton's `model_warmup`
// configures them (zeros, random data, or a file under <model>/warmup/, `count` times each). The
// first real request then finds the session initialised and its memory arenas grown. A version
// that takes records and has no configured samples runs one zero row: a sane default for hot swaps.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelConfigError, type ModelConfig, type WarmupSample } from '../repository/model-config';
import type { Tensor, TensorData } from '../tensor';
import type { LoadedVersion } from './model-generation';

const ARRAYS: Partial<Record<string, { new (n: number): TensorData; BYTES_PER_ELEMENT: number }>> = {
  FP32: Float32Array, FP64: Float64Array, INT8: Int8Array, INT16: Int16Array, INT32: Int32Array,
  INT64: BigInt64Array, UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array, UINT64: BigUint64Array,
  BOOL: Uint8Array, FP16: Uint16Array, BF16: Uint16Array,
};

/** Runs the model's warm-up samples on one version; throws naming the sample when one fails. */
export async function warmUp(config: ModelConfig, modelDir: string, v: LoadedVersion): Promise<void> {
  const samples = config.warmup.length > 0 ? config.warmup : defaultSamples(config, v);
  for (const sample of samples) {
    const inputs = await sampleInputs(config, modelDir, sample);
    for (let i = 0; i < sample.count; i++) {
      try {
        await runSample(config, v, inputs);
      } catch (err) {
        throw new Error(`model "${config.name}" version ${v.version}: warm-up sample "${sample.name}" failed: ${(err as Error).message}`);
      }
    }
  }
}

function defaultSamples(config: ModelConfig, v: LoadedVersion): WarmupSample[] {
  const input = config.inputs[0];
  if (!v.batching || !input || config.inputs.length !== 1) return [];
  return [{ name: 'default (one zero row)', batchSize: 1, count: 1, inputs: new Map([[input.name, { datatype: input.datatype, dims: input.dims, data: { kind: 'zero' } }]]) }];
}

async function sampleInputs(config: ModelConfig, modelDir: string, sample: WarmupSample): Promise<Record<string, Tensor>> {
  const file = path.join(modelDir, 'config.pbtxt');
  const inputs: Record<string, Tensor> = {};
  for (const [name, spec] of sample.inputs) {
    if (!config.inputs.some((i) => i.name === name)) {
      throw new ModelConfigError(file, `model_warmup "${sample.name}": input "${name}" is not an input of the model`);
    }
    const shape = sample.batchSize > 0 ? [sample.batchSize, ...spec.dims] : [...spec.dims];
    const count = shape.reduce((a, b) => a * b, 1);
    const Ctor = ARRAYS[spec.datatype];
    if (!Ctor) throw new ModelConfigError(file, `model_warmup "${sample.name}": input "${name}" of type ${spec.datatype} is not supported for warm-up`);
    const data = new Ctor(count);
    if (spec.data.kind === 'random') fillRandom(data);
    else if (spec.data.kind === 'file') {
      const bytes = await fs.readFile(path.join(modelDir, 'warmup', spec.data.file)).catch((err: Error) => {
        throw new ModelConfigError(file, `model_warmup "${sample.name}": input "${name}": ${err.message}`);
      });
      const want = count * Ctor.BYTES_PER_ELEMENT;
      if (bytes.length !== want) {
        throw new ModelConfigError(file, `model_warmup "${sample.name}": input "${name}": file "${spec.data.file}" holds ${bytes.length} bytes, expected ${want} (shape [${shape.join(', ')}])`);
      }
      new Uint8Array((data as Uint8Array).buffer).set(bytes);
    }
    inputs[name] = { datatype: spec.datatype, shape, data };
  }
  return inputs;
}

function fillRandom(data: TensorData): void {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) data[i] = BigInt(Math.floor(Math.random() * 100));
  } else if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) data[i] = Math.random();
  } else if (!Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) (data as Uint8Array)[i] = Math.floor(Math.random() * 2);
  }
}

/**
 * Straight to the version's backend: the same session (on every executor thread that holds it) or
 * the same Triton model that batches will reach, without passing the batcher, so that warm-up never
 * shows in the request statistics (Triton does not count warm-up either).
 */
async function runSample(config: ModelConfig, v: LoadedVersion, inputs: Record<string, Tensor>): Promise<void> {
  await v.backend.infer(inputs, config.outputs.map((o) => o.name));
}
