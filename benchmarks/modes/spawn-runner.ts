// Runs one mode of a scenario in a fresh child process of its own (runner.ts), so that no mode's
// threads, GC, sockets or event loop disturb another's numbers, and returns its report. A runner
// that dies without reporting becomes a report with `crash` set and no steps, so that one broken
// mode never costs the others' results.

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { MODES, type ModeName } from './mode';
import type { ModeReport, RunnerConfig } from './protocol';

export function runModeProcess<N extends ModeName>(config: RunnerConfig<N>): Promise<ModeReport<N>> {
  const runner = path.join(__dirname, 'runner.js');
  const node = [process.execPath, '--expose-gc', runner, JSON.stringify(config)];
  // Pinned (core-scaling.ts): taskset runs node on the listed CPUs, and node reads that affinity.
  const [command, ...args] = config.cpus === undefined ? node : ['taskset', '-c', config.cpus, ...node];
  const child = spawn(command as string, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let message: Partial<ModeReport<N>> | undefined;
    child.on('message', (m) => (message = m as Partial<ModeReport<N>>));
    child.on('error', (err) => (message = { crash: err.message }));
    child.on('close', (code, signal) => {
      if (message && message.crash === undefined && Array.isArray(message.steps)) return resolve(message as ModeReport<N>);
      const info = MODES.find((m) => m.name === config.mode);
      resolve({
        mode: config.mode,
        label: info?.label ?? config.mode,
        description: info?.description ?? '',
        threads: null,
        steps: [],
        maxRateAtSlo: null,
        lowestFailingRate: null,
        meanBatchSize: null,
        errors: 0,
        firstError: null,
        crash: message?.crash ?? `runner exited with ${signal ?? `code ${code}`} and no report`,
      });
    });
  });
}
