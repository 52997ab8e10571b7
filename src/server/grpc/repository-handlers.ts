// The model repository extension and statistics: RepositoryIndex, RepositoryModelLoad,
// RepositoryModelUnload, ModelStatistics. Listings show only the models the caller may use.

import type * as m from '../../backends/triton/messages';
import { invalidArgument, notFound } from '../../errors';
import type { GrpcContext, UnaryHandlers } from './handler-types';
import { modelStatisticsMessage } from './statistics-message';

/** infergate loads a model from its repository as it is: Triton's load overrides are refused by name. */
function refuseParameters(parameters: Record<string, m.ModelRepositoryParameter>, method: string, model: string): void {
  const keys = Object.keys(parameters);
  if (keys.length > 0) {
    throw invalidArgument(`${method}: parameter "${keys[0]}" is not supported by infergate (it loads the repository's files as they are)`, {
      field: keys[0] as string,
      model,
    });
  }
}

export function repositoryHandlers(ctx: GrpcContext): UnaryHandlers {
  const { runtime, access } = ctx;
  return {
    RepositoryIndex: async (req, call) => {
      const entries = await runtime.repositoryIndex();
      return {
        models: entries
          .filter((e) => access.visible(call.principal, e.name) && (!req.ready || e.state === 'READY'))
          .map((e) => ({ name: e.name, version: e.version, state: e.state, reason: e.reason })),
      };
    },
    RepositoryModelLoad: async (req, call) => {
      if (req.model_name === '') throw invalidArgument('RepositoryModelLoad: "model_name" is required', { field: 'model_name' });
      access.authorize(call.principal, req.model_name);
      refuseParameters(req.parameters, 'RepositoryModelLoad', req.model_name);
      await runtime.loadModel(req.model_name);
      return {};
    },
    RepositoryModelUnload: async (req, call) => {
      if (req.model_name === '') throw invalidArgument('RepositoryModelUnload: "model_name" is required', { field: 'model_name' });
      access.authorize(call.principal, req.model_name);
      // unload_dependents concerns ensembles, which infergate does not have: accepted and moot.
      const { unload_dependents: _moot, ...rest } = req.parameters;
      refuseParameters(rest, 'RepositoryModelUnload', req.model_name);
      await runtime.unloadModel(req.model_name);
      return {};
    },
    ModelStatistics: (req, call) => {
      if (req.name === '') {
        if (req.version !== '') throw invalidArgument('ModelStatistics: "version" needs "name"', { field: 'version' });
        const models = runtime.models().filter((model) => access.visible(call.principal, model.name));
        return { model_stats: models.flatMap((model) => model.statistics().map(modelStatisticsMessage)) };
      }
      const model = access.model(call.principal, req.name);
      const stats = model.statistics().filter((s) => req.version === '' || s.version === req.version);
      if (stats.length === 0) {
        throw notFound(`model "${model.name}" has no version "${req.version}" loaded (loaded: ${model.versions.join(', ')})`, {
          model: model.name,
          field: 'version',
        });
      }
      return { model_stats: stats.map(modelStatisticsMessage) };
    },
  };
}
