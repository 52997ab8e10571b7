// A model's config.pbtxt as Triton's GET /v2/models/{name}/config shows it: the ModelConfig message
// in JSON form with proto field names, every scalar present (defaults included) and 64-bit integers
// as JSON numbers, the way tritonserver prints it. Only what infergate reads from config.pbtxt is
// shown; sections it does not model (instance_group, optimization, ...) are left out rather than
// invented.

import type { Datatype, ModelConfig, TensorConfig, VersionPolicy } from '../../repository/model-config';

const TYPE_NAME: Record<Datatype, string> = {
  BOOL: 'TYPE_BOOL', UINT8: 'TYPE_UINT8', UINT16: 'TYPE_UINT16', UINT32: 'TYPE_UINT32', UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8', INT16: 'TYPE_INT16', INT32: 'TYPE_INT32', INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16', BF16: 'TYPE_BF16', FP32: 'TYPE_FP32', FP64: 'TYPE_FP64', BYTES: 'TYPE_STRING',
};

/** Platforms Triton knows, and the backend it fills in for each; anything else was a `backend:`. */
const BACKEND_OF_PLATFORM: Record<string, string> = {
  onnxruntime_onnx: 'onnxruntime',
  tensorrt_plan: 'tensorrt',
  pytorch_libtorch: 'pytorch',
  tensorflow_graphdef: 'tensorflow',
  tensorflow_savedmodel: 'tensorflow',
  ensemble: '',
};

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
  data_type: TYPE_NAME[t.datatype],
  format: 'FORMAT_NONE',
  dims: t.dims,
  is_shape_tensor: false,
  allow_ragged_batch: false,
  optional: false,
  is_non_linear_format_io: false,
});

const output = (t: TensorConfig) => ({
  name: t.name,
  data_type: TYPE_NAME[t.datatype],
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
