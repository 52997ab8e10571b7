// The messages of protos/grpc_service.proto (and the part of protos/model_config.proto a client
// reads), typed as `@grpc/proto-loader` hands them over with the options proto.ts loads them with:
//
//   keepCase   field names are the .proto's snake_case ones
//   longs      int64 / uint64 are JS numbers: exact up to 2^53, which holds any count or byte size
//              and a sum of nanoseconds up to 104 days
//   enums      enum values are their names ('TYPE_FP32')
//   defaults   every scalar is present (0, '', false), lists are [], maps {}, and an absent
//              sub-message is null
//   oneofs     a oneof's own name holds the name of the member that is set; members that are not
//              set are absent, and so is the name when none is
//
// bytes fields are Buffers. These are the shapes of received messages; to send one, any field may
// be left out (MessageInit in proto.ts).

// ------------------------------------------------------------------------------------------------
// Health and metadata

export type ServerLiveRequest = Record<string, never>;
export interface ServerLiveResponse {
  live: boolean;
}

export type ServerReadyRequest = Record<string, never>;
export interface ServerReadyResponse {
  ready: boolean;
}

export interface ModelReadyRequest {
  name: string;
  /** '': the version the server's version policy picks. */
  version: string;
}
export interface ModelReadyResponse {
  ready: boolean;
}

export type ServerMetadataRequest = Record<string, never>;
export interface ServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

export interface ModelMetadataRequest {
  name: string;
  version: string;
}

export interface TensorMetadata {
  name: string;
  /** The protocol's spelling: 'FP32', 'INT64', 'BYTES', ... */
  datatype: string;
  /** -1: any size (the batch dimension included). */
  shape: number[];
}

export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

// ------------------------------------------------------------------------------------------------
// Inference

/**
 * A value of a `parameters` map: at most one member, named by `parameter_choice`. A decoded value
 * always carries `parameter_choice` beside its member; the type lets it be left out so that the
 * same type describes a value to send (`{ int64_param: 5 }`), where the serializer ignores it.
 * The same holds for the other oneof types below.
 */
export type InferParameter =
  | { parameter_choice?: 'bool_param'; bool_param: boolean }
  | { parameter_choice?: 'int64_param'; int64_param: number }
  | { parameter_choice?: 'string_param'; string_param: string }
  | { parameter_choice?: 'double_param'; double_param: number }
  | { parameter_choice?: 'uint64_param'; uint64_param: number }
  | { parameter_choice?: undefined };

/** Elements as typed lists; only the list matching the tensor's datatype is used. */
export interface InferTensorContents {
  bool_contents: boolean[];
  /** INT8, INT16, INT32. */
  int_contents: number[];
  int64_contents: number[];
  /** UINT8, UINT16, UINT32. */
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  /** BYTES: one Buffer per element. */
  bytes_contents: Buffer[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Record<string, InferParameter>;
  /** null when the data is in raw_input_contents or shared memory. */
  contents: InferTensorContents | null;
}

export interface InferRequestedOutputTensor {
  name: string;
  parameters: Record<string, InferParameter>;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: InferInputTensor[];
  /** []: every output. */
  outputs: InferRequestedOutputTensor[];
  /** Entry i is inputs[i]'s data, little-endian. */
  raw_input_contents: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Record<string, InferParameter>;
  contents: InferTensorContents | null;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  outputs: InferOutputTensor[];
  /** Entry i is outputs[i]'s data, little-endian. */
  raw_output_contents: Buffer[];
}

/** One message of the ModelStreamInfer stream: an answer, or one request's error. */
export interface ModelStreamInferResponse {
  error_message: string;
  infer_response: ModelInferResponse | null;
}

// ------------------------------------------------------------------------------------------------
// Model configuration (model_config.proto): the part a client reads

/** config.pbtxt's element types. */
export type DataType =
  | 'TYPE_INVALID'
  | 'TYPE_BOOL'
  | 'TYPE_UINT8'
  | 'TYPE_UINT16'
  | 'TYPE_UINT32'
  | 'TYPE_UINT64'
  | 'TYPE_INT8'
  | 'TYPE_INT16'
  | 'TYPE_INT32'
  | 'TYPE_INT64'
  | 'TYPE_FP16'
  | 'TYPE_FP32'
  | 'TYPE_FP64'
  | 'TYPE_STRING'
  | 'TYPE_BF16';

export interface ModelTensorReshape {
  shape: number[];
}

export interface ModelInput {
  name: string;
  data_type: DataType;
  format: 'FORMAT_NONE' | 'FORMAT_NHWC' | 'FORMAT_NCHW';
  /** Without the batch dimension; -1: any size. */
  dims: number[];
  reshape: ModelTensorReshape | null;
  is_shape_tensor: boolean;
  allow_ragged_batch: boolean;
  optional: boolean;
  is_non_linear_format_io: boolean;
}

export interface ModelOutput {
  name: string;
  data_type: DataType;
  dims: number[];
  reshape: ModelTensorReshape | null;
  label_filename: string;
  is_shape_tensor: boolean;
  is_non_linear_format_io: boolean;
}

export interface ModelParameter {
  string_value: string;
}

/**
 * A typed subset of Triton's ModelConfig: the decoded object carries every field of
 * model_config.proto; these are the ones infergate reads.
 */
export interface ModelConfig {
  name: string;
  platform: string;
  backend: string;
  runtime: string;
  /** 0: the model takes no batch dimension. */
  max_batch_size: number;
  input: ModelInput[];
  output: ModelOutput[];
  parameters: Record<string, ModelParameter>;
  /** Set when a request may be answered any number of times (stream only). */
  model_transaction_policy: { decoupled: boolean } | null;
  scheduling_choice?: 'dynamic_batching' | 'sequence_batching' | 'ensemble_scheduling';
}

export interface ModelConfigRequest {
  name: string;
  version: string;
}
export interface ModelConfigResponse {
  config: ModelConfig | null;
}

// ------------------------------------------------------------------------------------------------
// Statistics

export interface ModelStatisticsRequest {
  /** '': every model. */
  name: string;
  /** '': every version. */
  version: string;
}

/** A count and the total nanoseconds it took. */
export interface StatisticDuration {
  count: number;
  ns: number;
}

export interface InferStatistics {
  success: StatisticDuration | null;
  fail: StatisticDuration | null;
  queue: StatisticDuration | null;
  compute_input: StatisticDuration | null;
  compute_infer: StatisticDuration | null;
  compute_output: StatisticDuration | null;
  cache_hit: StatisticDuration | null;
  cache_miss: StatisticDuration | null;
}

export interface InferResponseStatistics {
  compute_infer: StatisticDuration | null;
  compute_output: StatisticDuration | null;
  success: StatisticDuration | null;
  fail: StatisticDuration | null;
  empty_response: StatisticDuration | null;
  cancel: StatisticDuration | null;
}

export interface InferBatchStatistics {
  batch_size: number;
  compute_input: StatisticDuration | null;
  compute_infer: StatisticDuration | null;
  compute_output: StatisticDuration | null;
}

export interface MemoryUsage {
  /** 'CPU', 'CPU_PINNED', 'GPU'. */
  type: string;
  id: number;
  byte_size: number;
}

export interface ModelStatistics {
  name: string;
  version: string;
  /** Milliseconds since the Unix epoch; 0: never. */
  last_inference: number;
  /** Requests answered (a batch of n counts n). */
  inference_count: number;
  /** Model executions (a batch counts once). */
  execution_count: number;
  inference_stats: InferStatistics | null;
  batch_stats: InferBatchStatistics[];
  memory_usage: MemoryUsage[];
  /** Keyed by the response's index within its request. */
  response_stats: Record<string, InferResponseStatistics>;
}

export interface ModelStatisticsResponse {
  model_stats: ModelStatistics[];
}

// ------------------------------------------------------------------------------------------------
// Model repository

export type ModelRepositoryParameter =
  | { parameter_choice?: 'bool_param'; bool_param: boolean }
  | { parameter_choice?: 'int64_param'; int64_param: number }
  | { parameter_choice?: 'string_param'; string_param: string }
  | { parameter_choice?: 'bytes_param'; bytes_param: Buffer }
  | { parameter_choice?: undefined };

export interface RepositoryIndexRequest {
  /** '': every repository. */
  repository_name: string;
  /** Only models that are ready. */
  ready: boolean;
}

export interface ModelIndex {
  name: string;
  version: string;
  /** 'READY', 'UNAVAILABLE', 'LOADING', 'UNLOADING', ... */
  state: string;
  reason: string;
}

export interface RepositoryIndexResponse {
  models: ModelIndex[];
}

export interface RepositoryModelLoadRequest {
  repository_name: string;
  model_name: string;
  parameters: Record<string, ModelRepositoryParameter>;
}
export type RepositoryModelLoadResponse = Record<string, never>;

export interface RepositoryModelUnloadRequest {
  repository_name: string;
  model_name: string;
  parameters: Record<string, ModelRepositoryParameter>;
}
export type RepositoryModelUnloadResponse = Record<string, never>;

// ------------------------------------------------------------------------------------------------
// Shared memory

export interface SystemSharedMemoryStatusRequest {
  /** '': every region. */
  name: string;
}

export interface SystemSharedMemoryRegionStatus {
  name: string;
  /** The shared-memory object's name, as shm_open takes it. */
  key: string;
  offset: number;
  byte_size: number;
}

export interface SystemSharedMemoryStatusResponse {
  regions: Record<string, SystemSharedMemoryRegionStatus>;
}

export interface SystemSharedMemoryRegisterRequest {
  name: string;
  key: string;
  offset: number;
  byte_size: number;
}
export type SystemSharedMemoryRegisterResponse = Record<string, never>;

export interface SystemSharedMemoryUnregisterRequest {
  /** '': every region. */
  name: string;
}
export type SystemSharedMemoryUnregisterResponse = Record<string, never>;

export interface CudaSharedMemoryStatusRequest {
  name: string;
}

export interface CudaSharedMemoryRegionStatus {
  name: string;
  device_id: number;
  byte_size: number;
}

export interface CudaSharedMemoryStatusResponse {
  regions: Record<string, CudaSharedMemoryRegionStatus>;
}

export interface CudaSharedMemoryRegisterRequest {
  name: string;
  /** The cudaIpcMemHandle_t's bytes. */
  raw_handle: Buffer;
  device_id: number;
  byte_size: number;
}
export type CudaSharedMemoryRegisterResponse = Record<string, never>;

export interface CudaSharedMemoryUnregisterRequest {
  name: string;
}
export type CudaSharedMemoryUnregisterResponse = Record<string, never>;

// ------------------------------------------------------------------------------------------------
// Trace and log settings

export interface TraceSettingRequest {
  settings: Record<string, { value: string[] }>;
  /** '': the server-wide settings. */
  model_name: string;
}
export interface TraceSettingResponse {
  settings: Record<string, { value: string[] }>;
}

export type LogSettingValue =
  | { parameter_choice?: 'bool_param'; bool_param: boolean }
  | { parameter_choice?: 'uint32_param'; uint32_param: number }
  | { parameter_choice?: 'string_param'; string_param: string }
  | { parameter_choice?: undefined };

export interface LogSettingsRequest {
  settings: Record<string, LogSettingValue>;
}
export interface LogSettingsResponse {
  settings: Record<string, LogSettingValue>;
}
