// The ModelConfig message (model_config.proto) of a loaded model, built from the config.pbtxt
// infergate read: what Triton's ModelConfig RPC answers, for the fields infergate acts on.

import type { Datatype, ModelConfig, TensorConfig } from '../../repository/model-config';
import { BACKEND_OF_PLATFORM, TRITON_TYPE_NAME } from '../../repository/triton-names';
import type { MessageInit } from '../../backends/triton/proto';
import type * as m from '../../backends/triton/messages';

/** config.pbtxt's DataType name (TYPE_FP32, TYPE_STRING, ...) of a KServe v2 datatype. */
export function dataTypeOf(datatype: Datatype): m.DataType {
  return TRITON_TYPE_NAME[datatype] as m.DataType;
}

function tensor(t: TensorConfig): { name: string; data_type: m.DataType; dims: number[] } {
  return { name: t.name, data_type: dataTypeOf(t.datatype), dims: [...t.dims] };
}

/** The fields written here are the ones config.pbtxt set and infergate read; the rest stay default. */
export type ModelConfigMessage = MessageInit<m.ModelConfig> & Record<string, unknown>;

export function modelConfigMessage(config: ModelConfig): ModelConfigMessage {
  const backend = BACKEND_OF_PLATFORM[config.platform];
  const vp = config.versionPolicy;
  const versionPolicy =
    vp.kind === 'latest'
      ? { latest: { num_versions: vp.numVersions } }
      : vp.kind === 'all'
        ? { all: {} }
        : { specific: { versions: [...vp.versions] } };
  const message: ModelConfigMessage = {
    name: config.name,
    // A config that names only a backend ("python") has no platform, as in Triton.
    platform: backend !== undefined ? config.platform : '',
    backend: backend ?? config.platform,
    version_policy: versionPolicy,
    max_batch_size: config.maxBatchSize,
    input: config.inputs.map(tensor),
    output: config.outputs.map(tensor),
    default_model_filename: config.defaultModelFilename,
    parameters: Object.fromEntries([...config.parameters].map(([key, value]) => [key, { string_value: value }])),
  };
  const db = config.dynamicBatching;
  if (db) {
    const q = db.defaultQueuePolicy;
    message['dynamic_batching'] = {
      preferred_batch_size: [...db.preferredBatchSize],
      max_queue_delay_microseconds: db.maxQueueDelayMicroseconds,
      priority_levels: db.priorityLevels,
      default_priority_level: db.defaultPriorityLevel,
      default_queue_policy: {
        timeout_action: q.timeoutAction === 'delay' ? 'DELAY' : 'REJECT',
        default_timeout_microseconds: q.defaultTimeoutMicroseconds,
        allow_timeout_override: q.allowTimeoutOverride,
        max_queue_size: q.maxQueueSize,
      },
    };
  }
  return message;
}
