// The steps of the rollout benchmark (rollout.ts): the runtimes they measure, and one function per
// kind of step. Every runtime loads a throwaway copy of the fraud repository
// (test/support/rollout-repository.ts) and is loaded once, before the first round, so that the
// modes of a round differ only in what is measured.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Runtime, type TrafficPolicy } from '../src/index';
import { silentLogger } from '../src/observability/logger';
import { type RolloutRepository, rolloutRepository } from '../test/support/rollout-repository';
import { cycle, recordPool } from './modes/fraud';
import { runOpenLoop } from './open-loop';
import {
  type LogStep,
  type Reload,
  type RollbackKind,
  type RollbackSeries,
  type RolloutSettings,
  type ShadowMode,
  type ShadowStep,
  type SwapMode,
  type SwapStep,
  loadStep,
  stepOptions,
} from './rollout-results';
import { runOpenLoopWithActions } from './rollout-timed-actions';

const MODEL = 'fraud';

/** A runtime with (or without) a prediction log, for part 4. */
export interface LogRuntime {
  mode: string;
  sampleInputs: number | null;
  rt: Runtime;
  file: string | undefined;
}

export class RolloutRuntimes {
  private constructor(
    /** Versions 1 and 2 loaded (policy `all`): 1 serves, 2 is the shadow. */
    readonly shadowRt: Runtime,
    /** `latest { num_versions: 1 }`: each reload serves the version folder just added. */
    readonly swapRt: Runtime,
    readonly swapRepo: RolloutRepository,
    readonly logs: LogRuntime[],
    private readonly repos: RolloutRepository[],
    private readonly logDir: string,
  ) {}

  /** The version folder the swap runtime serves (the next reload adds this + 1). */
  swapVersion = 1;

  static async open(s: RolloutSettings): Promise<RolloutRuntimes> {
    const repos: RolloutRepository[] = [];
    const runtimes: Runtime[] = [];
    const logDir = mkdtempSync(path.join(os.tmpdir(), 'infergate-rollout-log-'));
    try {
      const shadowRepo = await rolloutRepository([1, 2], { versionPolicy: 'all { }' });
      repos.push(shadowRepo);
      const swapRepo = await rolloutRepository([1]);
      repos.push(swapRepo);
      const logRepo = await rolloutRepository([1]);
      repos.push(logRepo);
      const load = async (repository: string, extra: Partial<Parameters<typeof Runtime.load>[0]> = {}) => {
        const rt = await Runtime.load({ repository, models: [MODEL], logger: silentLogger, ...extra });
        runtimes.push(rt);
        return rt;
      };
      const shadowRt = await load(shadowRepo.root);
      const swapRt = await load(swapRepo.root);
      const logs: LogRuntime[] = [{ mode: 'no log', sampleInputs: null, rt: await load(logRepo.root), file: undefined }];
      for (const rate of s.logSampleRates) {
        const file = path.join(logDir, `predictions-${rate}.log`);
        const rt = await load(logRepo.root, { predictionLog: { destination: file, sampleInputs: rate } });
        logs.push({ mode: `log, inputs sampled ${rate}`, sampleInputs: rate, rt, file });
      }
      return new RolloutRuntimes(shadowRt, swapRt, swapRepo, logs, repos, logDir);
    } catch (err) {
      await Promise.all(runtimes.map((rt) => rt.close()));
      await Promise.all(repos.map((r) => r.remove()));
      rmSync(logDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Scores `n` records on every runtime, 32 at a time, before anything is measured. */
  async warm(n: number): Promise<void> {
    const records = recordPool();
    for (const rt of [this.shadowRt, this.swapRt, ...this.logs.map((l) => l.rt)]) {
      const model = rt.model(MODEL);
      for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: 32 }, (_, j) => model.infer(records[(i + j) % records.length])));
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.shadowRt, this.swapRt, ...this.logs.map((l) => l.rt)].map((rt) => rt.close()));
    await Promise.all(this.repos.map((r) => r.remove()));
    rmSync(this.logDir, { recursive: true, force: true });
  }
}

/** Part 1: the primary (version 1) at `rate`, with no shadow, a shadow on version 2, or a saturated one. */
export async function shadowStep(r: RolloutRuntimes, s: RolloutSettings, round: number, rate: number, mode: ShadowMode): Promise<ShadowStep> {
  const policy: TrafficPolicy = { primary: 1 };
  if (mode === 'shadow') policy.shadow = { version: 2 };
  if (mode === 'saturated') policy.shadow = { version: 2, ...s.saturatedShadow };
  // A change of shadow starts a fresh one (counters at zero); the same policy twice keeps it, so
  // "none" in between makes each step's counters its own.
  await r.shadowRt.setTraffic(MODEL, { primary: 1 });
  await r.shadowRt.setTraffic(MODEL, policy);
  const model = r.shadowRt.model(MODEL);
  const next = cycle(recordPool());
  const result = await runOpenLoop(() => model.infer(next()), stepOptions(s, rate));
  // Copies still queued or in flight would run into the next step: wait for them (bounded).
  await until(() => {
    const t = model.shadowReport()?.traffic;
    return !t || (t.queued === 0 && t.inFlight === 0);
  }, s.drainTimeoutMs);
  return { ...loadStep(round, result), mode, shadow: model.shadowReport()?.traffic ?? null };
}

/**
 * Part 2: the swap runtime at the swap rate; in "swapping" steps, K reloads spread over the window,
 * each adding version folder N + 1 and calling rt.loadModel (latest 1: N + 1 serves, N drains).
 */
export async function swapStep(r: RolloutRuntimes, s: RolloutSettings, round: number, mode: SwapMode): Promise<SwapStep> {
  const model = r.swapRt.model(MODEL);
  const next = cycle(recordPool());
  const answersByVersion: Record<string, number> = {};
  const send = () =>
    model.infer(next()).then((a) => {
      answersByVersion[a.modelVersion] = (answersByVersion[a.modelVersion] ?? 0) + 1;
    });
  const options = stepOptions(s, s.swapRate, s.swapDurationMs);
  if (mode === 'steady') {
    const result = await runOpenLoop(send, options);
    return { ...loadStep(round, result), mode, reloads: [], reloadsAfterWindow: 0, answersByVersion };
  }
  const reload = async (): Promise<{ version: number; ms: number }> => {
    const version = r.swapVersion + 1;
    await r.swapRepo.addVersion(version);
    const started = performance.now();
    await r.swapRt.loadModel(MODEL);
    const ms = performance.now() - started;
    if (model.versions.join() !== String(version)) throw new Error(`reload to version ${version} left versions ${model.versions.join(', ')} loaded`);
    await r.swapRepo.removeVersion(r.swapVersion);
    r.swapVersion = version;
    return { version, ms: Math.round(ms * 10) / 10 };
  };
  const run = await runOpenLoopWithActions(send, options, s.reloadsPerWindow, reload);
  const reloads: Reload[] = run.actions.map((a) => ({ version: a.value.version, ms: a.value.ms, startedAtMs: a.startedAtMs }));
  return { ...loadStep(round, run.load), mode, reloads, reloadsAfterWindow: run.startedAfterWindow, answersByVersion };
}

/**
 * Part 3: rollbacks under load, on a runtime of their own. "switch": versions 1 and 2 loaded
 * (policy `all`), primary switched to 1, then each rollback switches back (2, 1, 2, ...). "reload":
 * `latest 1` serving 2 after a reload from 1, so each rollback must load the other version again.
 */
export async function rollbackSeries(s: RolloutSettings, kind: RollbackKind): Promise<RollbackSeries> {
  const repo = kind === 'switch' ? await rolloutRepository([1, 2], { versionPolicy: 'all { }' }) : await rolloutRepository([1]);
  let rt: Runtime | undefined;
  try {
    rt = await Runtime.load({ repository: repo.root, models: [MODEL], logger: silentLogger });
    const runtime = rt;
    if (kind === 'switch') {
      await runtime.setTraffic(MODEL, { primary: 1 });
    } else {
      await repo.addVersion(2);
      await runtime.loadModel(MODEL);
    }
    const model = runtime.model(MODEL);
    const next = cycle(recordPool());
    const answersByVersion: Record<string, number> = {};
    const send = () =>
      model.infer(next()).then((a) => {
        answersByVersion[a.modelVersion] = (answersByVersion[a.modelVersion] ?? 0) + 1;
      });
    const spacing = s.rollbackSpacingMs[kind];
    const options = stepOptions(s, s.rollbackRate, spacing * (s.rollbackRepetitions + 1));
    const run = await runOpenLoopWithActions(send, options, s.rollbackRepetitions, () => runtime.rollback(MODEL));
    const rollbacks = run.actions.map((a) => ({
      from: a.value.from.primary,
      to: a.value.to.primary,
      reloaded: a.value.reloaded,
      ms: Math.round(a.value.milliseconds * 100) / 100,
      callMs: a.ms,
      startedAtMs: a.startedAtMs,
    }));
    const expectReload = kind === 'reload';
    const odd = rollbacks.find((b) => b.reloaded !== expectReload);
    if (odd) throw new Error(`rollback (${kind}): a rollback from ${odd.from} to ${odd.to} had reloaded=${odd.reloaded}, expected ${expectReload}`);
    return { kind, load: loadStep(1, run.load), rollbacks, rollbacksAfterWindow: run.startedAfterWindow, answersByVersion };
  } finally {
    await rt?.close();
    await repo.remove();
  }
}

/** Part 4: one runtime of part 4 at the log rate; lines and bytes are counted over the step. */
export async function logStep(log: LogRuntime, s: RolloutSettings, round: number): Promise<LogStep> {
  const model = log.rt.model(MODEL);
  const next = cycle(recordPool());
  const plog = log.rt.predictionLog;
  const before = plog?.stats();
  const size = () => (log.file ? statSync(log.file, { throwIfNoEntry: false })?.size ?? 0 : 0);
  await plog?.flush();
  const bytesBefore = size();
  const result = await runOpenLoop(() => model.infer(next()), stepOptions(s, s.logRate));
  // Written out before the next step, so that no step pays for another's I/O.
  await plog?.flush();
  const after = plog?.stats();
  return {
    ...loadStep(round, result),
    mode: log.mode,
    sampleInputs: log.sampleInputs,
    linesWritten: (after?.written ?? 0) - (before?.written ?? 0),
    linesDropped: (after?.dropped ?? 0) - (before?.dropped ?? 0),
    ioErrors: (after?.errors ?? 0) - (before?.errors ?? 0),
    bytes: size() - bytesBefore,
  };
}

/** Polls `done` every 5 ms until it holds or `timeoutMs` passed. */
async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
