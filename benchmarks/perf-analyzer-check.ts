// Whether Triton's own load generator, perf_analyzer, is available to compare against: does the
// tritonclient wheel in .venv/triton ship it (its installed file list, from pip), is there one on
// PATH or given with --perf-analyzer, and does each one found start on this machine (`--version`).
// Nothing is downloaded here; what was found and what it printed go into the report as they are.

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

const NAME = 'perf_analyzer';
const RUN_TIMEOUT_MS = 20_000;

export interface PerfAnalyzerCandidate {
  path: string;
  /** Where it was found: 'tritonclient wheel', 'venv bin', 'PATH', '--perf-analyzer'. */
  source: string;
  exitCode: number | null;
  /** The first lines of what `--version` printed (stdout and stderr). */
  output: string;
  runs: boolean;
}

export interface PerfAnalyzerCheck {
  /** This machine's C library (Node's process report). */
  glibc: string | null;
  tritonclientVersion: string | null;
  /** Files of the installed tritonclient distribution named like perf_analyzer (pip show -f). */
  tritonclientPerfAnalyzerFiles: string[];
  /** Why the wheel could not be inspected, if it could not. */
  tritonclientProblem: string | null;
  candidates: PerfAnalyzerCandidate[];
}

function isExecutableFile(p: string): boolean {
  try {
    const s = statSync(p);
    return s.isFile() && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function tryRun(file: string, source: string): PerfAnalyzerCandidate {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().split('\n').slice(0, 8).join('\n');
  return { path: file, source, exitCode: r.status, output, runs: r.status === 0 };
}

export function checkPerfAnalyzer(root: string, given: string | undefined): PerfAnalyzerCheck {
  const venv = path.join(root, '.venv', 'triton');
  const python = path.join(venv, 'bin', 'python');
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const check: PerfAnalyzerCheck = {
    glibc: report?.header?.glibcVersionRuntime ?? null,
    tritonclientVersion: null,
    tritonclientPerfAnalyzerFiles: [],
    tritonclientProblem: null,
    candidates: [],
  };
  const seen = new Set<string>();
  const add = (file: string, source: string) => {
    const resolved = path.resolve(file);
    if (seen.has(resolved)) return;
    seen.add(resolved);
    check.candidates.push(tryRun(resolved, source));
  };

  // What the wheel installed: pip's record of the distribution's files (no network involved).
  const shown = existsSync(python) ? spawnSync(python, ['-m', 'pip', 'show', '-f', 'tritonclient'], { encoding: 'utf8', timeout: 60_000 }) : undefined;
  if (!shown) check.tritonclientProblem = `no ${path.relative(root, python)}: the Triton venv is not provisioned`;
  else if (shown.status !== 0) check.tritonclientProblem = `pip show -f tritonclient failed: ${(shown.stderr || shown.stdout).trim().slice(0, 300)}`;
  else {
    const text = shown.stdout;
    check.tritonclientVersion = /^Version: (.+)$/m.exec(text)?.[1]?.trim() ?? null;
    const location = /^Location: (.+)$/m.exec(text)?.[1]?.trim();
    const files = text.slice(text.indexOf('Files:') + 'Files:'.length).split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    check.tritonclientPerfAnalyzerFiles = files.filter((f) => path.basename(f).startsWith(NAME));
    for (const f of check.tritonclientPerfAnalyzerFiles) {
      const abs = location ? path.resolve(location, f) : f;
      if (isExecutableFile(abs)) add(abs, 'tritonclient wheel');
    }
  }
  const venvBin = path.join(venv, 'bin', NAME);
  if (isExecutableFile(venvBin)) add(venvBin, 'venv bin');
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, NAME))) add(path.join(dir, NAME), 'PATH');
  }
  if (given !== undefined) {
    if (isExecutableFile(given)) add(given, '--perf-analyzer');
    else check.candidates.push({ path: given, source: '--perf-analyzer', exitCode: null, output: 'not an executable file', runs: false });
  }
  return check;
}
