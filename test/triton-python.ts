// The Python that carries Triton's own client package (tritonclient) and the other test peers
// (numpy, scipy), for tests that compare infergate with them. It lives in .venv/triton, which
// scripts/triton/provision.sh creates; a test that needs it runs the script first, or fails saying
// how. It never skips.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

export const TRITON_PYTHON = path.join(ROOT, '.venv', 'triton', 'bin', 'python');
const PROVISION = path.join(ROOT, 'scripts', 'triton', 'provision.sh');
/** Installing Triton and its clients downloads a few hundred MB: generous, but not unbounded. */
const PROVISION_TIMEOUT_MS = 30 * 60_000;
/** One script run: a descriptor dump or one round trip. */
const RUN_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

const HOW_TO_PROVISION =
  'Provision it with `bash scripts/triton/provision.sh`, or by hand: ' +
  '`python3 -m venv .venv/triton && .venv/triton/bin/pip install -r scripts/triton/requirements.txt`.';

// A failed provisioning is not retried by every later call of the same test file, and a
// successful one is not rerun.
let provisioningFailure: Error | undefined;
let provisioned = false;

/**
 * The path of the provisioned Python. The first call in a process runs provision.sh even when the
 * venv exists: its stamp notices a requirements.txt that changed since (a peer added, say scipy)
 * and rebuilds the venv; when nothing changed it returns at once.
 */
export function tritonPython(): string {
  if (provisioned) return TRITON_PYTHON;
  if (provisioningFailure) throw provisioningFailure;
  if (fs.existsSync(PROVISION)) {
    // Output is captured, not inherited: the test runner reads this process's stdout.
    const run = spawnSync('bash', [PROVISION], { cwd: ROOT, encoding: 'utf8', timeout: PROVISION_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES });
    if (run.status !== 0) {
      const why = run.error ? run.error.message : `exit status ${String(run.status ?? run.signal)}`;
      provisioningFailure = new Error(`bash scripts/triton/provision.sh failed (${why}):\n${(run.stderr || run.stdout || '').slice(-4000)}`);
      throw provisioningFailure;
    }
  }
  if (!fs.existsSync(TRITON_PYTHON)) {
    throw new Error(`This test compares infergate with Triton's Python peers, and ${TRITON_PYTHON} is missing. ${HOW_TO_PROVISION}`);
  }
  provisioned = true;
  return TRITON_PYTHON;
}

/** Runs a script of scripts/triton with the provisioned Python; returns its stdout. */
export function runTritonScript(script: string, args: readonly string[], input?: Buffer): string {
  const file = path.join(ROOT, 'scripts', 'triton', script);
  const python = tritonPython();
  try {
    return execFileSync(python, [file, ...args], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
      maxBuffer: MAX_OUTPUT_BYTES,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${[`scripts/triton/${script}`, ...args].join(' ')} failed: ${(err as Error).message}\n${stderr.slice(-4000)}`);
  }
}
