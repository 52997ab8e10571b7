// Runs test/support/score_statistics.py (numpy, scipy, xml.etree) with the test peers' Python
// (.venv/triton, provisioned when missing) on one request and returns its answer: the reference the
// score-statistics tests compare infergate's own computations with.

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../helpers';
import { tritonPython } from '../triton-python';

export interface ReferenceRequest {
  histogram?: { values: number[]; edges: number[] }[];
  psi?: { expected: number[]; actual: number[]; epsilon: number }[];
  ks?: { a: number[]; b: number[] }[];
  kolmogorov?: number[];
  percentiles?: { values: number[]; q: number[] }[];
  xml?: string[];
}

export interface SvgOutline {
  tag: string;
  /** data-series of every <path> that has one, in document order. */
  series: string[];
  texts: string[];
  title: string | null;
}

export interface ReferenceAnswer {
  histogram?: number[][];
  psi?: number[];
  ks?: number[];
  kolmogorov?: number[];
  percentiles?: number[][];
  xml?: SvgOutline[];
}

const SCRIPT = path.join(ROOT, 'test', 'support', 'score_statistics.py');

export function referenceStatistics(request: ReferenceRequest): ReferenceAnswer {
  const python = tritonPython();
  try {
    const out = execFileSync(python, [SCRIPT], {
      cwd: ROOT,
      input: JSON.stringify(request),
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return JSON.parse(out) as ReferenceAnswer;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`test/support/score_statistics.py failed: ${(err as Error).message}\n${stderr.slice(-4000)}`);
  }
}

/** Equal to 1e-9 relative (and 1e-12 absolute, for figures that are exactly 0 on one side). */
export function closeTo(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= Math.max(1e-9 * Math.abs(expected), 1e-12);
}

/** A small deterministic generator (mulberry32): fixed data from a seed, the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
