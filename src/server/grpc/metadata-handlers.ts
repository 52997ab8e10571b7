// Health and metadata: ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata and
// ModelConfig.

import { InferError } from '../../errors';
import type { Model } from '../../runtime/model';
import type { GrpcContext, UnaryHandlers } from './handler-types';
import { modelConfigMessage } from './model-config-message';

/**
 * The protocol extensions the gRPC face implements: repository control, model configuration,
 * system shared memory, raw (binary) tensors, request parameters and statistics — the list HTTP
 * declares too, as Triton declares one list on both. (No classification, sequences, CUDA
 * shared memory, trace or logging.)
 */
export const GRPC_EXTENSIONS: readonly string[] = [
  'model_repository',
  'model_configuration',
  'system_shared_memory',
  'binary_tensor_data',
  'parameters',
  'statistics',
];

/** Throws not_found when `version` is given and not loaded. */
function checkVersion(model: Model, version: string): void {
  if (version !== '') model.preprocessHash(version);
}

export function metadataHandlers(ctx: GrpcContext): UnaryHandlers {
  const { runtime, access } = ctx;
  return {
    ServerLive: () => ({ live: true }),
    ServerReady: () => ({ ready: runtime.ready }),
    ServerMetadata: () => ({ name: 'infergate', version: ctx.serverVersion, extensions: [...GRPC_EXTENSIONS] }),
    ModelReady: (req, call) => {
      // As Triton: a model that is not there (or not visible to this caller) is simply not ready.
      let model: Model;
      try {
        model = access.model(call.principal, req.name);
        checkVersion(model, req.version);
      } catch (err) {
        if (err instanceof InferError && (err.code === 'not_found' || err.code === 'invalid_argument')) return { ready: false };
        throw err;
      }
      return { ready: model.ready };
    },
    ModelMetadata: (req, call) => {
      const model = access.model(call.principal, req.name);
      checkVersion(model, req.version);
      const batched = model.config.maxBatchSize > 0;
      const tensor = (t: { name: string; datatype: string; dims: number[] }) => ({
        name: t.name,
        datatype: t.datatype,
        shape: batched ? [-1, ...t.dims] : [...t.dims],
      });
      return {
        name: model.name,
        versions: req.version !== '' ? [req.version] : model.versions.map(String),
        platform: model.config.platform,
        inputs: model.config.inputs.map(tensor),
        outputs: model.config.outputs.map(tensor),
      };
    },
    ModelConfig: (req, call) => {
      const model = access.model(call.principal, req.name);
      checkVersion(model, req.version);
      return { config: modelConfigMessage(model.config) };
    },
  };
}
