// The public API of infergate, re-exported. Nothing else lives here.

export { Runtime, type RuntimeOptions } from './runtime/runtime';
export { AttachedModel, type SharedModelHandle } from './runtime/attached-model';
export type { BatchingOptions } from './batching/batching-options';
export { Model, type ScoreResult, type InferOptions, type TensorInferOptions, type TensorInferResult, type TrafficChange } from './runtime/model';
export type { RollbackResult } from './runtime/runtime';
export type { TrafficPolicy, CanaryPolicy, ShadowPolicy } from './routing/traffic-policy';
export { canaryBucket } from './routing/canary-split';
export { ShadowComparator, type ShadowSummary, type ShadowComparatorOptions } from './routing/shadow-comparison';
export { DriftMonitor, type DriftState, type DriftLevel, type DriftMonitorOptions } from './observability/drift-monitor';
export { readScoreReference, type ScoreReference } from './observability/score-reference';
export { populationStabilityIndex, ksStatistic, histogram, equalWidthEdges, type Histogram } from './observability/score-distribution';
export { PredictionLog, type PredictionLogOptions, type PredictionEntry } from './observability/prediction-log';
export { renderShadowTable, renderShadowSvg } from './cli/shadow-report';
export { InferError, type ErrorCode, httpStatusOf, grpcStatusOf } from './errors';
export { HttpServer, type HttpServerOptions, type HttpTlsOptions } from './server/http-server';
export { MetricsServer, type MetricsServerOptions } from './server/metrics-server';
export { InferenceMetrics, type InferenceMetricsOptions, type MetricsSource, type MetricsModel } from './observability/metrics';
export { GrpcServer, type GrpcServerOptions, type GrpcTlsOptions } from './server/grpc/grpc-server';
export { SystemSharedMemoryRegistry, type SystemSharedMemoryOptions } from './server/shared-memory/system-shared-memory-registry';
export { serve, type ServeOptions, type Serving } from './server/serve';
export type { Tensor, TensorData } from './tensor';
export type { ModelConfig, TensorConfig, Datatype } from './repository/model-config';
export { ModelConfigError } from './repository/model-config';
export { PreprocessSpecError } from './preprocess/preprocessor';
export { OnnxLoadError } from './backends/onnx/onnx-backend';
export { DecisionBands } from './postprocess/decision-bands';
export { INFERGATE_VERSION } from './version';
