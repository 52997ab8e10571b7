// A model's config.pbtxt as Triton's GET /v2/models/{name}/config shows it: the ModelConfig message
// in JSON form with proto field names, every scalar present (defaults included) and 64-bit integers
// as JSON numbers, the way tritonserver prints it. Only what infergate reads from config.pbtxt is
// shown; sections it does not model (instance_group, optimization, ...) are left out rather than
// invented.

import type { ModelConfig, TensorConfig, VersionPolicy } from '../../repository/model-config';
import { BACKEND_OF_PLATFORM, TRITON_TYPE_NAME } from '../../repository/triton-names';

function versionPolicyJson(p: VersionPolicy): unknown {
  switch (p.kind) {
    case 'latest':
      return { latest: { num_versions: p.numVersions } };
    case 'all':
      return { all: {} };
    case 'specific':
      return { specific: { versions: p.versions } };
  }
}

const input = (t: TensorConfig) => ({
  name: t.name,
  data_type: TRITON_TYPE_NAME[t.datatype],
  format: 'FORMAT_NONE',
  dims: t.dims,
  is_shape_tensor: false,
  allow_ragged_batch: false,
  optional: false,
  is_non_linear_format_io: false,
});

const output = (t: TensorConfig) => ({
  name: t.name,
  data_type: TRITON_TYPE_NAME[t.datatype],
  dims: t.dims,
  label_filename: '',
  is_shape_tensor: false,
  is_non_linear_format_io: false,
});

export function modelConfigJson(config: ModelConfig): Record<string, unknown> {
  const known = Object.prototype.hasOwnProperty.call(BACKEND_OF_PLATFORM, config.platform);
  const db = config.dynamicBatching;
  return {
    name: config.name,
    platform: known ? config.platform : '',
    backend: known ? BACKEND_OF_PLATFORM[config.platform] : config.platform,
    runtime: '',
    version_policy: versionPolicyJson(config.versionPolicy),
    max_batch_size: config.maxBatchSize,
    input: config.inputs.map(input),
    output: config.outputs.map(output),
    batch_input: [],
    batch_output: [],
    ...(db
      ? {
          dynamic_batching: {
            preferred_batch_size: db.preferredBatchSize,
            max_queue_delay_microseconds: db.maxQueueDelayMicroseconds,
            preserve_ordering: false,
            priority_levels: db.priorityLevels,
            default_priority_level: db.defaultPriorityLevel,
            default_queue_policy: {
              timeout_action: db.defaultQueuePolicy.timeoutAction === 'delay' ? 'DELAY' : 'REJECT',
              default_timeout_microseconds: db.defaultQueuePolicy.defaultTimeoutMicroseconds,
              allow_timeout_override: db.defaultQueuePolicy.allowTimeoutOverride,
              max_queue_size: db.defaultQueuePolicy.maxQueueSize,
            },
            priority_queue_policy: {},
          },
        }
      : {}),
    default_model_filename: config.defaultModelFilename,
    cc_model_filenames: {},
    metric_tags: {},
    parameters: Object.fromEntries([...config.parameters].map(([key, value]) => [key, { string_value: value }])),
    model_warmup: [],
  };
}
