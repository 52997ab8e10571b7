// An open-loop step with actions (reloads, rollbacks) performed during its measured window: the
// load shows what the actions cost the requests in flight, and each action's own duration is kept.
//
// Action i is due at warmup + (i + 1) × window / (count + 1), evenly spread inside the window; they
// run one after another (an action never starts before the previous one finished), so an action that
// takes longer than its spacing delays the next. Those that started after the window closed are
// counted, since the load no longer covered them.

import { performance } from 'node:perf_hooks';
import { type OpenLoopOptions, type OpenLoopResult, runOpenLoop } from './open-loop';

export interface TimedAction<T> {
  /** When it started, from the start of the measured window, ms. */
  startedAtMs: number;
  /** How long the call took, ms (to 0.1). */
  ms: number;
  value: T;
}

export interface LoadWithActions<T> {
  load: OpenLoopResult;
  actions: TimedAction<T>[];
  /** Actions that started after the measured window had ended. */
  startedAfterWindow: number;
}

export async function runOpenLoopWithActions<T>(
  send: () => Promise<unknown>,
  options: OpenLoopOptions,
  count: number,
  action: (i: number) => Promise<T>,
): Promise<LoadWithActions<T>> {
  const t0 = performance.now();
  const windowStart = t0 + options.warmupMs;
  const actions: TimedAction<T>[] = [];
  const perform = async (): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const due = windowStart + ((i + 1) * options.durationMs) / (count + 1);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const started = performance.now();
      const value = await action(i);
      actions.push({ startedAtMs: round1(started - windowStart), ms: round1(performance.now() - started), value });
    }
  };
  // Both run to completion even when one fails, so that no load is left running behind an error.
  const [load, performed] = await Promise.allSettled([runOpenLoop(send, options), perform()]);
  if (performed.status === 'rejected') throw performed.reason;
  if (load.status === 'rejected') throw load.reason;
  return { load: load.value, actions, startedAfterWindow: actions.filter((a) => a.startedAtMs > options.durationMs).length };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
