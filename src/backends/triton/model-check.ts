// At load, the model a Triton replica serves must be the model config.pbtxt describes: the same
// input and output names, datatypes and dims, and room for infergate's largest batch. A mismatch is
// found here, with a message that says what differs, instead of as garbage scores later.

import type { ModelConfig, TensorConfig } from '../../repository/model-config';
import type { ModelConfigResponse, ModelMetadataResponse } from './proto';

export class TritonModelMismatchError extends Error {
  constructor(
    readonly endpoint: string,
    readonly model: string,
    readonly problems: string[],
  ) {
    super(`model "${model}" on Triton ${endpoint} does not match config.pbtxt: ${problems.join('; ')}`);
    this.name = 'TritonModelMismatchError';
  }
}

interface RemoteTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** Problems found comparing the server's metadata and config with the local config (empty: none). */
export function compareModel(local: ModelConfig, metadata: ModelMetadataResponse, remote: ModelConfigResponse | undefined): string[] {
  const problems: string[] = [];
  const batched = local.maxBatchSize > 0;
  const check = (kind: 'input' | 'output', mine: TensorConfig[], theirs: RemoteTensor[]) => {
    for (const t of mine) {
      const r = theirs.find((x) => x.name === t.name);
      if (!r) {
        problems.push(`${kind} "${t.name}" is missing on the server (its ${kind}s: ${theirs.map((x) => x.name).join(', ') || 'none'})`);
        continue;
      }
      if (r.datatype !== t.datatype) problems.push(`${kind} "${t.name}" is ${t.datatype} locally but ${r.datatype} on the server`);
      const expected = batched ? [-1, ...t.dims] : t.dims;
      const shape = r.shape.map(Number);
      // A variable dim (-1) on the server accepts (or, for outputs, may produce) what config.pbtxt fixes;
      // output sizes are checked again on every answer.
      const same = shape.length === expected.length && shape.every((d, i) => d === expected[i] || d === -1);
      if (!same) problems.push(`${kind} "${t.name}" has shape [${expected.join(', ')}] locally but [${shape.join(', ')}] on the server`);
    }
  };
  check('input', local.inputs, metadata.inputs ?? []);
  check('output', local.outputs, metadata.outputs ?? []);
  const remoteMax = remote?.config?.max_batch_size;
  if (remoteMax !== undefined) {
    if (batched && remoteMax === 0) problems.push(`the server's model does not batch (max_batch_size 0) but config.pbtxt has max_batch_size ${local.maxBatchSize}`);
    else if (batched && remoteMax < local.maxBatchSize) {
      problems.push(`the server's max_batch_size ${remoteMax} is below config.pbtxt's ${local.maxBatchSize}, so full batches would be refused`);
    }
  }
  return problems;
}
