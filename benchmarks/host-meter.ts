// What serving costs the host process over a window of wall time: main-thread event-loop
// utilization and delay, the main thread's own CPU time, and the CPU of the whole process (worker
// threads included, since they share it).
//
// Event-loop utilization counts as busy every moment the loop is outside its poll, including time
// the thread was ready to run but had no core: on a shared 2-core machine, where a mode's own
// worker threads and other tenants compete with the main thread, that inflates the figure for
// modes with threads. The main thread's on-CPU time (Linux: /proc/thread-self/schedstat, in ns)
// counts only what the thread itself executed, which is what a mode costs the host's thread.
//
// Event-loop delay comes from perf_hooks.monitorEventLoopDelay at its finest resolution, 1 ms: a
// libuv timer fires every millisecond and records, in nanoseconds, how long it actually took. Each
// sample therefore includes the 1 ms period itself; the delay reported here is a sample minus 1 ms.

import { readFileSync } from 'node:fs';
import { type EventLoopUtilization, type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

export const EVENT_LOOP_DELAY_RESOLUTION_MS = 1;

export interface HostSample {
  wallMs: number;
  /** Share of the window the main thread's event loop was busy (0..1). */
  eventLoopUtilization: number;
  /** Milliseconds of the window the main thread's event loop was busy. */
  eventLoopActiveMs: number;
  /** null when the delay timer never fired in the window (a loop busy throughout, or a window under 1 ms). */
  eventLoopDelayP99Ms: number | null;
  eventLoopDelayMaxMs: number | null;
  /** Process CPU time / wall time: 1 = one core busy for the whole window. */
  cpuCores: number;
  /** Milliseconds the main thread spent on a CPU in the window; null where the OS does not say (not Linux). */
  mainThreadCpuMs: number | null;
}

/** The calling thread's on-CPU time in ns (first field of schedstat), or null where unavailable. */
function threadCpuNs(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

export class HostMeter {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_DELAY_RESOLUTION_MS });
  private startedAt = 0;
  private elu: EventLoopUtilization | undefined;
  private cpu: NodeJS.CpuUsage | undefined;
  private threadCpu: number | null = null;

  get running(): boolean {
    return this.elu !== undefined;
  }

  start(): void {
    this.delay.reset();
    this.delay.enable();
    this.startedAt = performance.now();
    this.elu = performance.eventLoopUtilization();
    this.cpu = process.cpuUsage();
    this.threadCpu = threadCpuNs();
  }

  stop(): HostSample {
    if (!this.elu || !this.cpu) throw new Error('HostMeter.stop() called before start()');
    const elu = performance.eventLoopUtilization(this.elu);
    const cpu = process.cpuUsage(this.cpu);
    const threadCpu = threadCpuNs();
    const wallMs = performance.now() - this.startedAt;
    this.delay.disable();
    this.elu = undefined;
    this.cpu = undefined;
    const delayMs = (ns: number) => round3(Math.max(0, ns / 1e6 - EVENT_LOOP_DELAY_RESOLUTION_MS));
    const samples = this.delay.count > 0;
    return {
      wallMs: round3(wallMs),
      eventLoopUtilization: round3(elu.utilization),
      eventLoopActiveMs: round3(elu.active),
      eventLoopDelayP99Ms: samples ? delayMs(this.delay.percentile(99)) : null,
      eventLoopDelayMaxMs: samples ? delayMs(this.delay.max) : null,
      cpuCores: wallMs > 0 ? round3((cpu.user + cpu.system) / 1000 / wallMs) : 0,
      mainThreadCpuMs: threadCpu !== null && this.threadCpu !== null ? round3((threadCpu - this.threadCpu) / 1e6) : null,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
