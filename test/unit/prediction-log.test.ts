// The prediction log against the real file system: lines are read back from the files pino wrote,
// rotation is checked file by file, and the bound is exercised with a FIFO whose reader does not read
// (the kernel's pipe fills and the log's writer stays blocked until the test drains it). No assertion
// depends on how fast anything runs.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { canonicalJson, inputHash } from '../../src/observability/input-hash';
import { MemoryLogger } from '../../src/observability/logger';
import { PredictionLog, type PredictionEntry } from '../../src/observability/prediction-log';
import { MODELS } from '../helpers';

const example = JSON.parse(readFileSync(path.join(MODELS, 'fraud', 'example.json'), 'utf8')) as Record<string, unknown>;

function entry(i: number, extra: Partial<PredictionEntry> = {}): PredictionEntry {
  return {
    requestId: `req-${i}`,
    model: 'fraud',
    version: '1',
    runtime: { infergate: '0.1.0', onnxruntime: '1.30.0' },
    inputHash: inputHash({ ...example, txn_count_1h: i }),
    score: i / 1000,
    latencyMs: 0.25,
    backend: 'local',
    batchSize: 8,
    ...extra,
  };
}

/** The lines of a file, each parsed; fails on a partial line or anything but one object per line. */
function readLines(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8');
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `${file} ends with a whole line`);
  return text.slice(0, -1).split('\n').map((line) => {
    const value = JSON.parse(line) as unknown;
    assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `a line is one JSON object: ${line}`);
    return value as Record<string, unknown>;
  });
}

/** Lines of file.<n> ... file.1 then file: oldest first. */
function readRotated(file: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const n of rotatedNumbers(file).reverse()) lines.push(...readLines(`${file}.${n}`));
  return lines.concat(readLines(file));
}

function rotatedNumbers(file: string): number[] {
  const base = path.basename(file);
  return readdirSync(path.dirname(file))
    .filter((f) => f.startsWith(`${base}.`))
    .map((f) => Number(f.slice(base.length + 1)))
    .sort((a, b) => a - b);
}

describe('prediction log', () => {
  let dir: string;
  let n = 0;
  const fresh = (): string => path.join(dir, `predictions-${n++}.log`);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'infergate-predlog-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every field, with its type, one JSON object per line', async () => {
    const file = fresh();
    const log = PredictionLog.open({ destination: file });
    const full = entry(1, {
      preprocessHash: 'a1b2c3',
      runtime: { infergate: '0.1.0', tritonServer: '2.50.0' },
      decision: 'step_up',
      backend: 'triton',
      traffic: 'canary',
    });
    log.write(full);
    log.write(entry(2));
    await log.close();

    const [first, second] = readLines(file) as [Record<string, unknown>, Record<string, unknown>];
    assert.deepEqual(Object.keys(first), [
      'event', 'time', 'request_id', 'model', 'version', 'preprocess_hash', 'runtime', 'input_hash', 'score',
      'decision', 'latency_ms', 'backend', 'batch_size', 'traffic',
    ]);
    assert.equal(first.event, 'prediction');
    assert.equal(typeof first.time, 'string');
    assert.equal(new Date(first.time as string).toISOString(), first.time, 'time is ISO 8601 UTC');
    assert.deepEqual(
      { ...first, time: undefined, event: undefined },
      {
        event: undefined,
        time: undefined,
        request_id: 'req-1',
        model: 'fraud',
        version: '1',
        preprocess_hash: 'a1b2c3',
        runtime: { infergate: '0.1.0', onnxruntime: null, triton_server: '2.50.0' },
        input_hash: full.inputHash,
        score: 0.001,
        decision: 'step_up',
        latency_ms: 0.25,
        backend: 'triton',
        batch_size: 8,
        traffic: 'canary',
      },
    );
    assert.match(first.input_hash as string, /^[0-9a-f]{16}$/);
    // Fields without a value are null, never missing: every line has the same keys.
    assert.deepEqual(Object.keys(second), Object.keys(first));
    assert.equal(second.preprocess_hash, null);
    assert.equal(second.decision, null);
    assert.equal(second.traffic, null);
    assert.deepEqual(second.runtime, { infergate: '0.1.0', onnxruntime: '1.30.0', triton_server: null });
    assert.deepEqual(log.stats(), { written: 2, dropped: 0, rotations: 0, bufferedBytes: 0, errors: 0 });
  });

  it('attaches inputs never at sampleInputs 0 and always at 1', async () => {
    for (const rate of [0, 1]) {
      const file = fresh();
      const log = PredictionLog.open({ destination: file, sampleInputs: rate });
      for (let i = 0; i < 200; i++) {
        const e = entry(i);
        if (log.shouldSample()) {
          e.input = { ...example, txn_count_1h: i };
          e.features = new Float32Array([i, 0.5, -1]);
        }
        log.write(e);
      }
      await log.close();
      const lines = readLines(file);
      assert.equal(lines.length, 200);
      for (const [i, line] of lines.entries()) {
        if (rate === 0) {
          assert.equal('input' in line || 'features' in line, false, `line ${i} at rate 0 has no input`);
        } else {
          assert.deepEqual(line.input, { ...example, txn_count_1h: i });
          assert.deepEqual(line.features, [i, 0.5, -1]);
          assert.equal(inputHash(line.input), line.input_hash, 'the logged input hashes to the logged input_hash');
        }
      }
    }
  });

  it('samples near the configured rate in between', async () => {
    const log = PredictionLog.open({ destination: fresh(), sampleInputs: 0.25 });
    const draws = 40_000;
    let sampled = 0;
    for (let i = 0; i < draws; i++) if (log.shouldSample()) sampled++;
    // Binomial(40000, 0.25): sd ≈ 87; 6 sd either side fails about once in 10^9 runs.
    assert.ok(Math.abs(sampled - draws * 0.25) < 6 * Math.sqrt(draws * 0.25 * 0.75), `sampled ${sampled} of ${draws}`);
    await log.close();
  });

  it('rotates by size: whole lines, the bytes bound per file, and exactly the lines written', async () => {
    const file = fresh();
    const log = PredictionLog.open({ destination: file, rotate: { maxBytes: 4096, maxFiles: 100 } });
    const count = 300;
    for (let i = 0; i < count; i++) {
      log.write(entry(i));
      if (i % 50 === 0) await nextTurn(); // let some writes land between rotations, some not
    }
    await log.close();

    const stats = log.stats();
    assert.equal(stats.dropped, 0);
    assert.equal(stats.written, count);
    const rotated = rotatedNumbers(file);
    assert.ok(stats.rotations >= 2, `rotated ${stats.rotations} times`);
    assert.deepEqual(rotated, Array.from({ length: stats.rotations }, (_, k) => k + 1));
    for (const f of [file, ...rotated.map((k) => `${file}.${k}`)]) assert.ok(statSync(f).size <= 4096, `${f} within maxBytes`);
    assert.deepEqual(readRotated(file).map((l) => l.request_id), Array.from({ length: count }, (_, i) => `req-${i}`));
  });

  it('keeps no more than maxFiles rotated files, the newest lines whole and in order', async () => {
    const file = fresh();
    const log = PredictionLog.open({ destination: file, rotate: { maxBytes: 2048, maxFiles: 2 } });
    const count = 200;
    for (let i = 0; i < count; i++) log.write(entry(i));
    await log.close();

    assert.ok(log.stats().rotations > 2);
    assert.deepEqual(rotatedNumbers(file), [1, 2]);
    const ids = readRotated(file).map((l) => Number((l.request_id as string).slice(4)));
    assert.ok(ids.length > 0);
    // What is kept is the tail of what was written: consecutive, ending with the last line.
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, k) => count - ids.length + k));
  });

  it('appends to an existing file and counts its size toward rotation', async () => {
    const file = fresh();
    const first = PredictionLog.open({ destination: file });
    for (let i = 0; i < 10; i++) first.write(entry(i));
    await first.close();
    const size = statSync(file).size;

    const second = PredictionLog.open({ destination: file, rotate: { maxBytes: size + 1, maxFiles: 1 } });
    second.write(entry(10));
    await second.close();
    assert.equal(second.stats().rotations, 1, 'the first new line would pass maxBytes');
    assert.equal(readLines(`${file}.1`).length, 10);
    assert.deepEqual(readLines(file).map((l) => l.request_id), ['req-10']);
  });

  it('flush() resolves once every accepted line is in the file', async () => {
    const file = fresh();
    const log = PredictionLog.open({ destination: file });
    for (let i = 0; i < 1000; i++) log.write(entry(i));
    await log.flush();
    assert.equal(log.stats().bufferedBytes, 0);
    assert.equal(readLines(file).length, 1000);
    await log.close();
  });

  it('close() is idempotent and later lines are dropped and counted', async () => {
    const file = fresh();
    const log = PredictionLog.open({ destination: file });
    log.write(entry(0));
    const closing = log.close();
    log.write(entry(1));
    await Promise.all([closing, log.close()]);
    await log.close();
    log.write(entry(2));
    assert.deepEqual(log.stats(), { written: 1, dropped: 2, rotations: 0, bufferedBytes: 0, errors: 0 });
    assert.deepEqual(readLines(file).map((l) => l.request_id), ['req-0']);
  });

  it('flushSync() writes what is buffered before returning', async () => {
    const file = fresh();
    const log = PredictionLog.open({ destination: file });
    for (let i = 0; i < 500; i++) log.write(entry(i));
    log.flushSync();
    // The first line started an asynchronous write on the thread pool, which finishes on its own;
    // every line after it waited in the buffer and is in the file now.
    const now = new Set(readLines(file).map((l) => l.request_id));
    for (let i = 1; i < 500; i++) assert.ok(now.has(`req-${i}`), `req-${i} written by flushSync`);
    await log.close();
    const ids = readLines(file).map((l) => l.request_id as string);
    assert.deepEqual([...ids].sort(), Array.from({ length: 500 }, (_, i) => `req-${i}`).sort(), 'each line once');
    assert.equal(log.stats().bufferedBytes, 0);
  });

  it('is bounded: a destination that does not keep up costs dropped lines, not memory', async () => {
    const fifo = path.join(dir, 'unread.fifo');
    execFileSync('mkfifo', [fifo]);
    // A reader that never reads: the writer's open succeeds, the kernel's pipe buffer fills, and the
    // log's write then waits in the thread pool until the test drains the pipe at the end.
    const idleReader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const maxBufferBytes = 16 * 1024;
    const log = PredictionLog.open({ destination: fifo, maxBufferBytes });
    const accepted: string[] = [];
    let attempted = 0;
    let drained: Promise<string> | undefined;
    try {
      // 4 MiB of lines against 64 KiB of pipe and 16 KiB of buffer.
      for (let batch = 0; batch < 100; batch++) {
        for (let k = 0; k < 100; k++) {
          const before = log.stats().written;
          log.write(entry(attempted++));
          if (log.stats().written > before) accepted.push(`req-${attempted - 1}`);
          assert.ok(log.stats().bufferedBytes <= maxBufferBytes, 'never more than maxBufferBytes buffered');
        }
        await nextTurn();
      }
      const stats = log.stats();
      assert.ok(stats.dropped > 0, 'lines were dropped');
      assert.equal(stats.written + stats.dropped, attempted);
      assert.equal(stats.written, accepted.length);
    } finally {
      // Drain: a second reader reads to the end, which comes when the log closes its end.
      const reader = createReadStream(fifo, { encoding: 'utf8' });
      drained = new Promise<string>((resolve, reject) => {
        let text = '';
        reader.on('data', (chunk) => (text += chunk as string));
        reader.on('end', () => resolve(text));
        reader.on('error', reject);
      });
      await new Promise((resolve) => reader.once('open', resolve));
      closeSync(idleReader);
      await log.close();
    }
    const text = await drained;
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(text.slice(0, -1).split('\n').map((l) => (JSON.parse(l) as { request_id: string }).request_id), accepted);
    assert.equal(log.stats().bufferedBytes, 0);
  });

  it('refuses bad options, naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [{}, /destination must be "stdout" or a file path/],
      [{ destination: '' }, /destination must be/],
      [{ destination: path.join(dir, 'missing', 'x.log') }, /destination ".*missing.*" cannot be opened for appending: ENOENT/],
      [{ destination: fresh(), maxBufferBytes: 0 }, /maxBufferBytes must be an integer from 1/],
      [{ destination: fresh(), maxBufferBytes: 1.5 }, /maxBufferBytes must be an integer/],
      [{ destination: fresh(), sampleInputs: 1.5 }, /sampleInputs must be a number from 0 to 1, got 1.5/],
      [{ destination: fresh(), sampleInputs: Number.NaN }, /sampleInputs must be a number from 0 to 1/],
      [{ destination: fresh(), sampleInputs: '0.5' }, /sampleInputs must be a number from 0 to 1, got "0.5"/],
      [{ destination: 'stdout', rotate: {} }, /rotate needs a file destination/],
      [{ destination: fresh(), rotate: { maxFiles: 0 } }, /rotate.maxFiles must be an integer from 1 to 100, got 0/],
      [{ destination: fresh(), rotate: { maxFiles: 101 } }, /rotate.maxFiles must be an integer from 1 to 100/],
      [{ destination: fresh(), rotate: { maxBytes: -1 } }, /rotate.maxBytes must be an integer from 1/],
      [{ destination: fresh(), rotate: { maxbytes: 10 } }, /rotate: unknown option "maxbytes"/],
      [{ destination: fresh(), rotate: 5 }, /rotate must be an object/],
      [{ destination: fresh(), sampleRate: 0.1 }, /unknown option "sampleRate" \(expected one of destination, maxBufferBytes, rotate, sampleInputs, logger\)/],
      [{ destination: fresh(), logger: {} }, /logger must be a Logger/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => PredictionLog.open(options as Parameters<typeof PredictionLog.open>[0]), message, JSON.stringify(options));
    }
    const fifo = path.join(dir, 'not-a-file.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      assert.throws(() => PredictionLog.open({ destination: fifo, rotate: {} }), /rotate needs a regular file/);
    } finally {
      closeSync(reader);
    }
  });

  it('reports an I/O error once and keeps counting', async () => {
    // /dev/full accepts the open and fails every write with ENOSPC: a full disk, for real.
    if (!existsSync('/dev/full')) assert.fail('this test needs /dev/full (Linux)');
    const events = new MemoryLogger();
    const log = PredictionLog.open({ destination: '/dev/full', logger: events });
    log.write(entry(0));
    await assert.rejects(log.flush(), /ENOSPC/);
    log.write(entry(1));
    await assert.rejects(log.flush(), /ENOSPC/);
    await log.close();
    assert.ok(log.stats().errors >= 2);
    assert.equal(log.stats().bufferedBytes, 0, 'what could not be written is no longer held');
    assert.deepEqual(events.events.map((e) => [e.level, e.event, e.fields.code]), [['error', 'prediction_log.io_error', 'ENOSPC']]);
  });
});

describe('input hash', () => {
  it('is sha256 of the canonical JSON, 16 hex digits, whatever the key order', () => {
    const record = { b: 1.5, a: 'x', c: { z: [1, true, null], y: -0 } };
    const canonical = '{"a":"x","b":1.5,"c":{"y":0,"z":[1,true,null]}}';
    assert.equal(canonicalJson(record), canonical);
    assert.equal(inputHash(record), createHash('sha256').update(canonical).digest('hex').slice(0, 16));
    assert.equal(inputHash({ c: { y: 0, z: [1, true, null] }, a: 'x', b: 1.5 }), inputHash(record));
    assert.equal(PredictionLog.inputHash(record), inputHash(record));
  });

  it('tells apart values that plain JSON would confuse', () => {
    const distinct = [{ v: Number.NaN }, { v: null }, { v: 'NaN' }, { v: Number.POSITIVE_INFINITY }, { v: 1n }, { v: 1 }, { v: '1' }, {}];
    const hashes = new Set(distinct.map((r) => inputHash(r)));
    assert.equal(hashes.size, distinct.length);
    assert.equal(inputHash({ a: 1, gone: undefined }), inputHash({ a: 1 }), 'undefined members are left out, as in JSON');
    assert.equal(canonicalJson(new Float32Array([1, 0.5])), '[1,0.5]');
  });

  it('hashes the fraud example as Python does from its sorted-key JSON', () => {
    // Reference computed independently, with Python's own json and hashlib:
    // sha256(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).hexdigest()[:16]
    assert.equal(inputHash(example), '6257735f4a522d0b');
  });

  it('hashes the fraud example stably across key orders', () => {
    const reversed = Object.fromEntries(Object.entries(example).reverse());
    assert.equal(inputHash(reversed), inputHash(example));
    assert.notEqual(inputHash({ ...example, amount: 10.26 }), inputHash(example));
  });

  it('refuses a cycle with a clear error', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    assert.throws(() => inputHash(a), /nests deeper than 64 levels/);
  });
});
