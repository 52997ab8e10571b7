// `npm run bench -- <scenario> [--quick]`: runs a benchmark scenario and writes
// benchmarks/results/<date>-<scenario>.json and .md.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { preprocessMarkdown, runPreprocessBench } from './preprocess';

const SCENARIOS = ['preprocess'] as const;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const scenario = args.find((a) => !a.startsWith('--'));
  const quick = args.includes('--quick');
  if (!scenario || !(SCENARIOS as readonly string[]).includes(scenario)) {
    process.stderr.write(`usage: npm run bench -- <${SCENARIOS.join(' | ')}> [--quick]\n`);
    process.exit(2);
  }
  const command = `npm run bench -- ${args.join(' ')}`;
  const result = await runPreprocessBench(quick);
  const md = preprocessMarkdown(result, command);
  const dir = path.resolve(__dirname, '..', '..', 'benchmarks', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, `${new Date().toISOString().slice(0, 10)}-${scenario}${quick ? '-quick' : ''}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify({ scenario, command, date: new Date().toISOString(), ...result }, null, 2)}\n`);
  writeFileSync(`${stem}.md`, md);
  process.stdout.write(`${md}\nwritten: ${path.relative(process.cwd(), stem)}.{json,md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
