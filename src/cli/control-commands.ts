// The commands that steer a running `infergate serve` over its HTTP API: reload and unload a model,
// read or set its traffic policy, roll it back, and report its shadow comparison (a table, and an
// SVG chart of both score distributions).
//
//   infergate load fraud                  picks up new version folders (warmed, then hot-swapped)
//   infergate traffic fraud --set '{"primary":1,"canary":{"version":2,"percent":10,"key":"customer_id"}}'
//   infergate rollback fraud              back to the version served before
//   infergate shadow-report fraud --svg fraud-shadow.svg

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderShadowSvg, renderShadowTable } from './shadow-report';

export const CONTROL_USAGE = `  infergate load MODEL | unload MODEL [--server URL]
      Reloads a model from the repository (new version folders are loaded and warmed up, then take
      traffic at once; the old ones drain), or unloads it.

  infergate traffic MODEL [--set POLICY_JSON] [--server URL]
      Shows the traffic policy, or sets it: {"primary": V, "canary": {"version": V, "percent": P,
      "key": "customer_id"}, "shadow": {"version": V, "backend": "triton", "sampleRate": R}}.

  infergate rollback MODEL [--server URL]
      Restores the version served before the last change of primary, and says how long it took.

  infergate shadow-report MODEL [--svg FILE] [--json] [--server URL]
      The shadow's comparison with the primary: a table, and an SVG of both score distributions
      (default FILE: MODEL-shadow.svg).

      --server defaults to http://127.0.0.1:8000; a bearer token is read from INFERGATE_TOKEN.
`;

interface Answer {
  status: number;
  body: unknown;
}

async function request(server: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = process.env.INFERGATE_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, server), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (err) {
    throw new Error(`cannot reach ${server}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (res.status !== 200) {
    const message = (parsed as { error?: string } | undefined)?.error ?? text;
    throw new Error(`${method} ${path}: HTTP ${res.status}: ${message}`);
  }
  return { status: res.status, body: parsed };
}

function modelPath(name: string): string {
  return encodeURIComponent(name);
}

/** Runs one control command; returns false when `command` is not one of them. */
export async function controlCommand(command: string, argv: string[], fail: (message: string) => never): Promise<boolean> {
  if (!['load', 'unload', 'traffic', 'rollback', 'shadow-report'].includes(command)) return false;
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string', default: 'http://127.0.0.1:8000' },
      set: { type: 'string' },
      svg: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) fail(`${command} takes exactly one MODEL name`);
  const server = values.server as string;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  switch (command) {
    case 'load':
    case 'unload': {
      const started = performance.now();
      await request(server, 'POST', `/v2/repository/models/${modelPath(name)}/${command}`);
      if (command === 'unload') {
        out(`${name}: unloaded`);
        break;
      }
      const { body } = await request(server, 'GET', `/v1/models/${modelPath(name)}/traffic`);
      const t = body as { versions: number[]; policy: { primary: number } };
      out(`${name}: loaded versions ${t.versions.join(', ')}; primary ${t.policy.primary} (${(performance.now() - started).toFixed(0)} ms)`);
      break;
    }
    case 'traffic': {
      if (values.set !== undefined) {
        let policy: unknown;
        try {
          policy = JSON.parse(values.set);
        } catch (err) {
          fail(`--set must be a JSON traffic policy: ${(err as Error).message}`);
        }
        const { body } = await request(server, 'POST', `/v1/models/${modelPath(name)}/traffic`, policy);
        out(JSON.stringify(body, null, 2));
      } else {
        const { body } = await request(server, 'GET', `/v1/models/${modelPath(name)}/traffic`);
        out(JSON.stringify(body, null, 2));
      }
      break;
    }
    case 'rollback': {
      const { body } = await request(server, 'POST', `/v1/models/${modelPath(name)}/rollback`);
      const r = body as { from: { primary: number }; to: { primary: number }; reloaded: boolean; milliseconds: number };
      out(`${name}: rolled back from version ${r.from.primary} to version ${r.to.primary} in ${r.milliseconds.toFixed(1)} ms (${r.reloaded ? 'loaded and warmed up again' : 'still loaded: an atomic switch'})`);
      break;
    }
    case 'shadow-report': {
      const { body } = await request(server, 'GET', `/v1/models/${modelPath(name)}/shadow`);
      if (values.json) {
        out(JSON.stringify(body, null, 2));
        break;
      }
      const report = body as { comparison: Parameters<typeof renderShadowTable>[0] };
      out(renderShadowTable(report.comparison, name));
      const svgFile = values.svg ?? `${name}-shadow.svg`;
      writeFileSync(svgFile, renderShadowSvg(report.comparison, name));
      out(`chart: ${svgFile}`);
      break;
    }
  }
  return true;
}
