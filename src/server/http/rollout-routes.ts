// Rollout control over HTTP: the traffic policy (read and set), rollback, the shadow comparison and
// the drift state of a model. `infergate rollback`, `infergate traffic` and `infergate shadow-report`
// call these; reloads go through the repository extension (/v2/repository/models/{name}/load).

import { invalidArgument, notFound } from '../../errors';
import type { TrafficPolicy } from '../../routing/traffic-policy';
import { NAME, type Route, type ServerContext, json } from './route';

export function rolloutRoutes(ctx: ServerContext): Route[] {
  return [
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/models/${NAME}/traffic$`),
      handler: async (s) => {
        const model = s.model(s.param(1) as string);
        return json(200, { model: model.name, versions: model.versions, policy: model.trafficPolicy, previous: model.previousPolicy ?? null });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/models/${NAME}/traffic$`),
      handler: async (s) => {
        const model = s.model(s.param(1) as string);
        const body = await s.json();
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw invalidArgument('body: must be a traffic policy object { primary?, canary?, shadow? }', { field: 'body' });
        }
        for (const key of Object.keys(body)) {
          if (!['primary', 'canary', 'shadow'].includes(key)) throw invalidArgument(`body.${key}: not a traffic policy field (primary, canary, shadow)`, { field: key });
        }
        return json(200, await ctx.runtime.setTraffic(model.name, body as TrafficPolicy));
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/models/${NAME}/rollback$`),
      handler: async (s) => {
        const model = s.model(s.param(1) as string);
        return json(200, await ctx.runtime.rollback(model.name));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/models/${NAME}/shadow$`),
      handler: async (s) => {
        const model = s.model(s.param(1) as string);
        const report = model.shadowReport();
        if (!report) {
          throw notFound(`model "${model.name}" has no shadow running; set one with POST /v1/models/${model.name}/traffic {"shadow": {...}}`, {
            model: model.name,
          });
        }
        return json(200, { model: model.name, primary: model.trafficPolicy.primary, ...report });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/models/${NAME}/drift$`),
      handler: async (s) => {
        const model = s.model(s.param(1) as string);
        const state = model.driftState();
        if (!state) {
          throw notFound(`model "${model.name}" has no drift reference (config.pbtxt parameter infergate.drift.reference)`, { model: model.name });
        }
        return json(200, { model: model.name, ...state });
      },
    },
  ];
}
