// No prediction log line is lost at shutdown: a real child process writes lines as fast as it can, is
// stopped (SIGTERM while it writes, or process.exit), and the file, the rotated files or its stdout
// must then hold exactly the lines it reports it wrote, each whole. The test waits on the child's own
// words ("started", its exit), never on a clock.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../helpers';
import { BoundedLog } from '../support/bounded-log';

const CHILD = path.join(ROOT, 'dist', 'test', 'support', 'prediction-log-child.js');

interface ChildReport {
  written: number;
  dropped: number;
  bufferedAtStop: number;
}

interface ChildRun {
  report: ChildReport;
  code: number | null;
  stdout: string;
}

/** Runs the child; with `terminate`, sends SIGTERM once it says it has started writing. */
function runChild(args: string[], terminate: boolean): Promise<ChildRun> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = new BoundedLog();
  const stdout: Buffer[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr.append(chunk);
    pending += chunk.toString('utf8');
    if (terminate && pending.includes('started\n')) {
      pending = '';
      terminate = false;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stderr.tail().trimEnd().split('\n').pop() ?? '';
      try {
        resolve({ report: JSON.parse(last) as ChildReport, code, stdout: Buffer.concat(stdout).toString('utf8') });
      } catch {
        reject(new Error(`the child left no report (exit ${code}):\n${stderr.tail(20)}`));
      }
    });
  });
}

/** Parses JSON lines, failing on a partial line; returns the request ids in file order. */
function requestIds(text: string, where: string): string[] {
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `${where} ends with a whole line`);
  return text.slice(0, -1).split('\n').map((line, i) => {
    let parsed: { request_id?: unknown };
    try {
      parsed = JSON.parse(line) as { request_id?: unknown };
    } catch {
      throw new assert.AssertionError({ message: `${where} line ${i + 1} is not whole JSON: ${line.slice(0, 200)}` });
    }
    assert.equal(typeof parsed.request_id, 'string');
    return parsed.request_id as string;
  });
}

/** As many lines as the child reports it wrote, none of them twice. */
function assertAllDistinct(ids: string[], written: number): void {
  assert.equal(ids.length, written, 'exactly as many lines as the child wrote');
  assert.equal(new Set(ids).size, ids.length, 'no line twice');
}

describe('prediction log at shutdown', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'infergate-predlog-shutdown-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM while writing: the file holds every line written, whole, in order', async () => {
    const file = path.join(dir, 'sigterm.log');
    const { report, code } = await runChild([file, 'sigterm'], true);
    assert.equal(code, 0);
    assert.ok(report.written > 0);
    const ids = requestIds(readFileSync(file, 'utf8'), file);
    assertAllDistinct(ids, report.written);
    const numbers = ids.map((id) => Number(id.slice(4)));
    assert.ok(numbers.every((v, i) => i === 0 || v > (numbers[i - 1] as number)), 'in the order written');
  });

  it('SIGTERM while writing and rotating: the files together hold every line written', async () => {
    const file = path.join(dir, 'rotating.log');
    const { report, code } = await runChild([file, 'sigterm', String(64 * 1024)], true);
    assert.equal(code, 0);
    const rotated = readdirSync(dir)
      .filter((f) => f.startsWith('rotating.log.'))
      .map((f) => Number(f.slice('rotating.log.'.length)))
      .sort((a, b) => b - a);
    assert.ok(rotated.length > 0, 'the child rotated');
    const ids = [...rotated.map((k) => `${file}.${k}`), file].flatMap((f) => requestIds(readFileSync(f, 'utf8'), f));
    assertAllDistinct(ids, report.written);
    const numbers = ids.map((id) => Number(id.slice(4)));
    assert.ok(numbers.every((v, i) => i === 0 || v > (numbers[i - 1] as number)), 'oldest file first, in the order written');
  });

  it('SIGTERM with the log on stdout: every line reaches the reader', async () => {
    const { report, code, stdout } = await runChild(['stdout', 'sigterm'], true);
    assert.equal(code, 0);
    assertAllDistinct(requestIds(stdout, 'stdout'), report.written);
  });

  it('process.exit() with lines buffered: flushSync() in the exit handler writes them all', async () => {
    const file = path.join(dir, 'exit.log');
    const { report, code } = await runChild([file, 'exit'], false);
    assert.equal(code, 0);
    // A write already on the thread pool at exit completes there, possibly after the lines flushSync()
    // wrote: every line is whole and present once; the order is not promised.
    assertAllDistinct(requestIds(readFileSync(file, 'utf8'), file), report.written);
  });
});
