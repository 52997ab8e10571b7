// Runs scripts/triton/client_compat.py (Triton's own Python clients, tritonclient 2.73.0 in
// .venv/triton) against one server and returns its JSON report. The script prints the report
// whatever the checks found and exits 1 when one failed; only a report that cannot be read is an
// error here.

import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../helpers';
import { provisionTriton } from './triton';

export const CLIENT_COMPAT_SCRIPT = path.join(ROOT, 'scripts', 'triton', 'client_compat.py');
/** The whole script, every check included, must finish within this. */
const SCRIPT_TIMEOUT_MS = 180_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface CompatCheck {
  ok: boolean;
  /** What is compared between two servers (null when the check failed). */
  value: unknown;
  /** What legitimately differs between servers: names, versions, messages, timings. */
  info?: unknown;
  /** Why the check failed. */
  error?: string;
}

export interface CompatReport {
  target: { grpc: string; http: string };
  model: string;
  /** Per infer path, the [first, end) rows of golden.json's tensors it scored. */
  rows: Record<string, [number, number]>;
  checks: Record<string, CompatCheck>;
  /** Per infer path, P(fraud) of each row, as the server returned it. */
  scores: Record<string, number[]>;
  /** The POSIX shared-memory keys the script created (and must have unlinked). */
  shm_keys: string[];
  summary: { passed: number; failed: string[] };
}

export interface CompatTarget {
  /** host:port */
  grpc: string;
  /** host:port or http://host:port */
  http: string;
  /** Default "fraud". */
  model?: string;
  /** Rows per infer request (default the script's, 32). */
  rows?: number;
}

export async function runClientCompat(target: CompatTarget): Promise<CompatReport> {
  const { python } = provisionTriton();
  const args = [CLIENT_COMPAT_SCRIPT, '--grpc', target.grpc, '--http', target.http, '--model', target.model ?? 'fraud'];
  if (target.rows !== undefined) args.push('--rows', String(target.rows));
  const { code, stdout, stderr } = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>((resolve) => {
    execFile(python, args, { cwd: ROOT, timeout: SCRIPT_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES }, (err, stdout, stderr) => {
      const failure = err as (Error & { code?: number | string; signal?: string }) | null;
      resolve({ code: failure ? (failure.code ?? failure.signal ?? 'error') : 0, stdout, stderr });
    });
  });
  let report: CompatReport;
  try {
    report = JSON.parse(stdout) as CompatReport;
  } catch {
    throw new Error(`client_compat.py (exit ${String(code)}) printed no JSON report; its stderr ends:\n${stderr.slice(-4000)}\nstdout starts:\n${stdout.slice(0, 2000)}`);
  }
  if (typeof report.checks !== 'object' || report.checks === null || typeof report.scores !== 'object') {
    throw new Error(`client_compat.py printed a report without checks or scores: ${stdout.slice(0, 2000)}`);
  }
  return report;
}

/** The failed checks of a report, one line each, for assertion messages. */
export function failures(report: CompatReport): string {
  return Object.entries(report.checks)
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => `  ${name}: ${c.error ?? 'failed'}`)
    .join('\n');
}
