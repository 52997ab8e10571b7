// A server the benchmark runs as a separate process and knows by the ready line it prints on
// stdout. stop() sends SIGTERM (a graceful stop) and waits for the exit, with SIGKILL past a bound;
// a process 'exit' handler kills whatever is still running if the owner never got that far.

import { type ChildProcess, spawn } from 'node:child_process';
import { BoundedLog } from '../test/support/bounded-log';

const READY_TIMEOUT_MS = 60_000;
/** A graceful stop answers what is in flight; past this the process is killed. */
const STOP_TIMEOUT_MS = 15_000;

export interface ReadyLineProcess {
  readonly pid: number;
  /** The ready line's match. */
  readonly ready: RegExpExecArray;
  /** The process's recent output (stdout and stderr). */
  log(lines?: number): string;
  /** SIGTERM, then waits for the exit (SIGKILL after a bound); resolves with how it ended. */
  stop(): Promise<string>;
}

const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

/** Runs `node <args>` in `cwd` and resolves once its stdout matches `readyLine`. */
export async function startReadyLineProcess(what: string, args: string[], cwd: string, readyLine: RegExp): Promise<ReadyLineProcess> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  running.add(child);
  const output = new BoundedLog();
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? `exit code ${code}`);
    });
    child.once('error', (err) => {
      running.delete(child);
      resolve(`spawn failed: ${err.message}`);
    });
  });
  child.stderr?.on('data', (d: Buffer) => output.append(d));
  // stdout is searched only until the ready line is found.
  let stdout: string | undefined = '';
  const ready = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} was not ready within ${READY_TIMEOUT_MS} ms; its output ends:\n${output.tail(30)}`)), READY_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => {
      output.append(d);
      if (stdout === undefined) return;
      stdout += d.toString();
      const m = readyLine.exec(stdout);
      if (m) {
        stdout = undefined;
        clearTimeout(timer);
        resolve(m);
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${how}) before its ready line; its output ends:\n${output.tail(30)}`));
    });
  });
  const stop = async (): Promise<string> => {
    if (running.has(child)) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const how = await exited;
    clearTimeout(timer);
    return how;
  };
  try {
    return { pid: child.pid as number, ready: await ready, log: (lines) => output.tail(lines), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
