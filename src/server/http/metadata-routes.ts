// Health, server and model metadata, model readiness and model configuration.

import type { Model } from '../../runtime/model';
import { modelConfigJson } from './model-config-json';
import { NAME, type Reply, type RequestScope, type Route, type ServerContext, VERSION, json } from './route';

/** The extensions this server implements, as GET /v2 lists them (Triton's names). */
function extensions(ctx: ServerContext): string[] {
  return [
    'binary_tensor_data',
    'model_configuration',
    'model_repository',
    'parameters',
    'statistics',
    ...(ctx.sharedMemory ? ['system_shared_memory'] : []),
  ];
}

/** The model of the path, with its version checked when the path names one. */
function modelOf(s: RequestScope): { model: Model; version: string | undefined } {
  const model = s.model(s.param(1) as string);
  const version = s.param(2);
  if (version !== undefined) model.preprocessHash(version); // not_found for a version that is not loaded
  return { model, version };
}

export function metadataRoutes(ctx: ServerContext): Route[] {
  const modelMetadata = async (s: RequestScope): Promise<Reply> => {
    const { model, version } = modelOf(s);
    const batched = model.config.maxBatchSize > 0;
    const tensor = (t: { name: string; datatype: string; dims: number[] }) => ({
      name: t.name,
      datatype: t.datatype,
      shape: batched ? [-1, ...t.dims] : t.dims,
    });
    return json(200, {
      name: model.name,
      versions: version !== undefined ? [version] : model.versions.map(String),
      platform: model.config.platform,
      inputs: model.config.inputs.map(tensor),
      outputs: model.config.outputs.map(tensor),
    });
  };

  return [
    { method: 'GET', pattern: /^\/v2\/health\/live$/, handler: async () => json(200, { live: true }) },
    {
      method: 'GET',
      pattern: /^\/v2\/health\/ready$/,
      handler: async () => {
        const ready = ctx.runtime.ready;
        return json(ready ? 200 : 503, { ready });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/?$/,
      handler: async () => json(200, { name: 'infergate', version: ctx.serverVersion, extensions: extensions(ctx) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/ready$`),
      handler: async (s) => {
        const { model } = modelOf(s);
        return json(model.ready ? 200 : 503, { name: model.name, ready: model.ready });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/config$`),
      handler: async (s) => json(200, modelConfigJson(modelOf(s).model.config)),
    },
    { method: 'GET', pattern: new RegExp(`^/v2/models/${NAME}${VERSION}/?$`), handler: modelMetadata },
  ];
}
