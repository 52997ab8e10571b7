// `npm run bench -- <scenario> [--quick] [scenario flags]`: runs a benchmark scenario and writes
// benchmarks/results/<date>-<scenario>[-quick][-N].json and .md (-2, -3, ... when that day's file
// exists already: earlier runs are kept).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEmbeddedArgs, runEmbeddedBench } from './embedded';
import { hostCostMarkdown, parseHostCostArgs, runHostCostBench } from './host-cost';
import { embeddedMarkdown } from './embedded-report';
import { preprocessMarkdown, runPreprocessBench } from './preprocess';
import { parseTritonArgs, runTritonBench } from './triton';
import { tritonMarkdown } from './triton-report';
import { serveScenario } from './serve';
import { parseRolloutArgs, runRolloutBench } from './rollout';
import { rolloutMarkdown } from './rollout-report';

interface Outcome {
  result: object;
  markdown: string;
}

const SCENARIOS: Record<string, (args: string[], command: string) => Promise<Outcome>> = {
  preprocess: async (args, command) => {
    const result = await runPreprocessBench(args.includes('--quick'));
    return { result, markdown: preprocessMarkdown(result, command) };
  },
  embedded: async (args, command) => {
    const result = await runEmbeddedBench(parseEmbeddedArgs(args), runHostCostBench);
    return { result, markdown: embeddedMarkdown(result, command) };
  },
  'host-cost': async (args, command) => {
    const result = await runHostCostBench(parseHostCostArgs(args));
    return { result, markdown: hostCostMarkdown(result, command) };
  },
  triton: async (args, command) => {
    const result = await runTritonBench(parseTritonArgs(args.filter((a) => a.startsWith('--'))));
    return { result, markdown: tritonMarkdown(result, command) };
  },
  serve: serveScenario,
  rollout: async (args, command) => {
    const result = await runRolloutBench(parseRolloutArgs(args.filter((a) => a.startsWith('--'))));
    return { result, markdown: rolloutMarkdown(result, command) };
  },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const scenario = args.find((a) => !a.startsWith('--'));
  const quick = args.includes('--quick');
  const run = scenario === undefined ? undefined : SCENARIOS[scenario];
  if (!scenario || !run) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(SCENARIOS).join(' | ')}> [--quick]\n`);
    process.exit(2);
  }
  const command = `npm run bench -- ${args.join(' ')}`;
  const { result, markdown } = await run(args, command);
  const dir = path.resolve(__dirname, '..', '..', 'benchmarks', 'results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${new Date().toISOString().slice(0, 10)}-${scenario}${quick ? '-quick' : ''}`);
  let stem = base;
  for (let n = 2; existsSync(`${stem}.json`) || existsSync(`${stem}.md`); n++) stem = `${base}-${n}`;
  writeFileSync(`${stem}.json`, `${JSON.stringify({ scenario, command, date: new Date().toISOString(), ...result }, null, 2)}\n`);
  writeFileSync(`${stem}.md`, markdown);
  process.stdout.write(`${markdown}\nwritten: ${path.relative(process.cwd(), stem)}.{json,md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
