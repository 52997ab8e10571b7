// The model repository extension: index, load and unload, as Triton's HTTP API has them. Load and
// unload answer 200 with an empty body, as Triton does.

import { invalidArgument } from '../../errors';
import { NAME, type RequestScope, type Route, type ServerContext, empty, json } from './route';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The optional control body: a JSON object, or nothing. */
async function controlBody(s: RequestScope, allowed: string[]): Promise<Record<string, unknown>> {
  const body = await s.optionalJson();
  if (body === undefined) return {};
  if (!isObject(body)) throw invalidArgument('body: must be a JSON object', { field: 'body' });
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw invalidArgument(`body.${key}: not supported here (accepted: ${allowed.join(', ') || 'nothing'})`, { field: key });
    }
  }
  return body;
}

export function repositoryRoutes(ctx: ServerContext): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v2\/repository\/index$/,
      handler: async (s) => {
        const { ready } = await controlBody(s, ['ready']);
        if (ready !== undefined && typeof ready !== 'boolean') throw invalidArgument('ready: must be true or false', { field: 'ready' });
        const entries = (await ctx.runtime.repositoryIndex())
          .filter((e) => s.mayUse(e.name))
          .filter((e) => !ready || e.state === 'READY');
        // Triton leaves empty fields out (a model never loaded has no version).
        return json(
          200,
          entries.map((e) => ({
            name: e.name,
            ...(e.version !== '' ? { version: e.version } : {}),
            state: e.state,
            ...(e.reason !== '' ? { reason: e.reason } : {}),
          })),
        );
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v2/repository/models/${NAME}/load$`),
      handler: async (s) => {
        const name = s.param(1) as string;
        s.authorize(name);
        // Triton's load also takes "parameters" (a config override, model files); infergate loads from the repository only.
        await controlBody(s, []);
        await ctx.runtime.loadModel(name);
        return empty();
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v2/repository/models/${NAME}/unload$`),
      handler: async (s) => {
        const name = s.param(1) as string;
        s.authorize(name);
        const { parameters } = await controlBody(s, ['parameters']);
        if (parameters !== undefined && !isObject(parameters)) throw invalidArgument('parameters: must be an object', { field: 'parameters' });
        await ctx.runtime.unloadModel(name);
        return empty();
      },
    },
  ];
}
