// Names Triton's model configuration uses for what config.pbtxt says: the DataType enum's names
// (TYPE_FP32, TYPE_STRING...) of KServe v2 datatypes, and the backend Triton fills in for a platform.
// Shared by every face that shows a model's configuration (gRPC ModelConfig, HTTP /config).

import type { Datatype } from './model-config';

export type TritonTypeName = `TYPE_${Exclude<Datatype, 'BYTES'>}` | 'TYPE_STRING';

export const TRITON_TYPE_NAME: Readonly<Record<Datatype, TritonTypeName>> = {
  BOOL: 'TYPE_BOOL', UINT8: 'TYPE_UINT8', UINT16: 'TYPE_UINT16', UINT32: 'TYPE_UINT32', UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8', INT16: 'TYPE_INT16', INT32: 'TYPE_INT32', INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16', BF16: 'TYPE_BF16', FP32: 'TYPE_FP32', FP64: 'TYPE_FP64', BYTES: 'TYPE_STRING',
};

/** Platforms Triton knows, and the backend it reports for each ("" for an ensemble). */
export const BACKEND_OF_PLATFORM: Readonly<Record<string, string>> = {
  onnxruntime_onnx: 'onnxruntime',
  tensorrt_plan: 'tensorrt',
  pytorch_libtorch: 'pytorch',
  tensorflow_graphdef: 'tensorflow',
  tensorflow_savedmodel: 'tensorflow',
  ensemble: '',
};
