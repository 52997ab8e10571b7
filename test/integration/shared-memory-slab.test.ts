// Batch slabs in POSIX shared memory: the bytes another process (a co-located Triton) sees through
// /dev/shm at the offsets the scheduler reports are the batch's, outputs written there are what the
// requests receive, the same batch still runs on ONNX Runtime in place, and regions are cleaned up:
// by close(), and by sweepSharedMemory() for those of dead processes.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  type NativeBatchScheduler,
  type NativeSchedulerOptions,
  type PortCallback,
  addressOf,
  batchSchedulerClass,
  nativeAddon,
} from '../../src/native/addon';
import { Preprocessor } from '../../src/preprocess/preprocessor';
import { FIXTURES, MODELS } from '../helpers';

const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'fraud', 'golden.json'), 'utf8')) as { rows: Record<string, unknown>[] };

let schedulers = 0;

/** A scheduler that seals only on size or flush() (the queue delay is ten minutes away). */
function scheduler(options: Partial<NativeSchedulerOptions>): NativeBatchScheduler {
  return new (batchSchedulerClass())({
    name: `shared-memory-slab-test/${schedulers++}`,
    maxBatchSize: 8,
    maxQueueDelayMicroseconds: 600_000_000,
    preferredBatchSize: [],
    priorityLevels: 1,
    defaultPriorityLevel: 1,
    timeoutAction: 'reject',
    defaultTimeoutMicroseconds: 0,
    allowTimeoutOverride: false,
    maxQueueSize: 0,
    slabCount: 2,
    inputWidth: 3,
    outputWidth: 2,
    plan: undefined,
    sharedMemory: true,
    ...options,
  });
}

interface Delivery {
  tickets: number[];
  statuses: number[];
  outputs: Float32Array;
}

/** Opens a port and returns it with a promise of its first delivery (copied: the views are reused). */
function openPort(s: NativeBatchScheduler): { port: number; delivered: Promise<Delivery> } {
  let resolve: (d: Delivery) => void = () => undefined;
  const delivered = new Promise<Delivery>((r) => (resolve = r));
  const callback: PortCallback = (count, tickets, statuses, outputs) =>
    resolve({ tickets: [...tickets.subarray(0, count)], statuses: [...statuses.subarray(0, count)], outputs: outputs.slice(0, count * s.outputWidth) });
  return { port: s.openPort(callback), delivered };
}

/** Where the region's bytes are visible to any process of this user. */
function shmFile(key: string): string {
  assert.match(key, /^\/infergate-\d+-\d+/);
  return path.join('/dev/shm', key.slice(1));
}

function bytesOf(view: Float32Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** The pid of a process that has exited and been reaped: it names no process now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.equal(child.status, 0);
  return child.pid as number;
}

describe('shared-memory batch slabs', () => {
  it('puts each batch where a second mapping of /dev/shm/<key> reads its rows and writes its outputs', async () => {
    const s = scheduler({});
    try {
      const region = s.sharedMemoryRegion();
      assert.ok(region, 'a region with sharedMemory: true');
      assert.match(region.key, /^\/infergate-\d+-\d+-shared-memory-slab-test_\d+$/);
      const file = shmFile(region.key);
      assert.equal(fs.statSync(file).size, region.byteSize);

      const { port, delivered } = openPort(s);
      const rows = new Float32Array([1.5, -2, 3, 4, 5.25, -6, 7, 8, 9.125]);
      const tickets = [0, 1, 2].map((r) => s.submit(rows, r, port, 0, 0));
      assert.ok(tickets.every((t) => t >= 0), `accepted: ${tickets}`);
      s.flush();
      const batch = s.take();
      assert.ok(batch >= 0, 'the flushed batch is ready');
      assert.equal(s.rows(batch), 3);

      const input = s.inputView(batch);
      const inputOffset = s.inputOffset(batch);
      const outputOffset = s.outputOffset(batch);
      assert.equal(inputOffset % 64, 0);
      assert.equal(outputOffset % 64, 0);
      assert.ok(outputOffset + 3 * 2 * 4 <= region.byteSize);

      const fd = fs.openSync(file, 'r+');
      try {
        const seen = Buffer.alloc(input.byteLength);
        assert.equal(fs.readSync(fd, seen, 0, seen.length, inputOffset), seen.length);
        assert.ok(seen.equals(bytesOf(input)), 'the file holds the input view’s bytes at inputOffset');
        assert.ok(seen.equals(bytesOf(rows)), 'which are the submitted rows');

        const outputs = new Float32Array([0.25, 0.75, 1, 0, -3.5, 1e-7]);
        assert.equal(fs.writeSync(fd, bytesOf(outputs), 0, outputs.byteLength, outputOffset), outputs.byteLength);
        assert.ok(bytesOf(s.outputView(batch)).equals(bytesOf(outputs)), 'the output view sees the file’s write');
        s.complete(batch);
        const got = await delivered;
        assert.deepEqual(got.tickets, tickets);
        assert.deepEqual(got.statuses, [0, 0, 0]);
        assert.deepEqual([...got.outputs], [...outputs]);
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      s.close();
    }
    assert.equal(fs.existsSync(shmFile((s.sharedMemoryRegion() as { key: string }).key)), false, 'close() unlinks the region');
  });

  it('still runs a batch on ONNX Runtime in place: the fraud model reads and writes the mapped slab', async () => {
    const spec = path.join(MODELS, 'fraud', 'preprocess.json');
    const pre = new Preprocessor(fs.readFileSync(spec, 'utf8'), spec, 'fraud');
    const session = await ort.InferenceSession.create(path.join(MODELS, 'fraud', '1', 'model.onnx'), { intraOpNumThreads: 1 });
    const s = scheduler({ inputWidth: pre.width, plan: pre.plan });
    try {
      const records = golden.rows.slice(0, 5);
      const expected: number[] = [];
      for (const r of records) {
        const out = await session.run({ features: new ort.Tensor('float32', pre.one(r), [1, pre.width]) }, ['probabilities']);
        expected.push((out.probabilities?.data as Float32Array)[1] as number);
      }

      const { port, delivered } = openPort(s);
      const raw = new Float64Array(records.length * pre.encoder.fieldCount);
      records.forEach((r, i) => pre.encoder.encode(r, raw, i));
      const tickets = records.map((_, i) => s.submit(raw, i, port, 0, 0));
      assert.ok(tickets.every((t) => t >= 0));
      s.flush();
      const batch = s.take();
      assert.ok(batch >= 0);
      const input = s.inputView(batch);
      const output = s.outputView(batch);
      assert.equal(addressOf(input), s.slabAddress(batch), 'the input view is the slab itself, not a copy');
      await session.run(
        { features: new ort.Tensor('float32', input, [records.length, pre.width]) },
        { probabilities: new ort.Tensor('float32', output, [records.length, 2]) },
      );

      // What ONNX Runtime wrote is in the region, where Triton would have written it.
      const region = s.sharedMemoryRegion();
      assert.ok(region);
      const written = Buffer.alloc(output.byteLength);
      const fd = fs.openSync(shmFile(region.key), 'r');
      try {
        fs.readSync(fd, written, 0, written.length, s.outputOffset(batch));
      } finally {
        fs.closeSync(fd);
      }
      assert.ok(written.equals(bytesOf(output)));

      s.complete(batch);
      const got = await delivered;
      assert.deepEqual(got.tickets, tickets);
      assert.deepEqual(
        records.map((_, i) => got.outputs[2 * i + 1]),
        expected,
        'each request gets its own row’s score, as run alone',
      );
    } finally {
      s.close();
      await session.release();
    }
  });

  it('sweepSharedMemory() removes the region of a dead process and leaves a live one', () => {
    const s = scheduler({});
    try {
      const ours = s.sharedMemoryRegion();
      assert.ok(ours);
      const pid = deadPid();
      const staleKey = `/infergate-${pid}-0-left-behind`;
      fs.writeFileSync(shmFile(staleKey), Buffer.alloc(4096), { mode: 0o600 });
      let removed: string[] = [];
      try {
        removed = nativeAddon().sweepSharedMemory();
      } finally {
        fs.rmSync(shmFile(staleKey), { force: true });
      }
      assert.ok(removed.includes(staleKey), `${staleKey} in ${JSON.stringify(removed)}`);
      assert.ok(!removed.includes(ours.key));
      assert.ok(fs.existsSync(shmFile(ours.key)), 'our own region is alive and kept');
      assert.ok(removed.every((k) => k.startsWith('/infergate-')));
    } finally {
      s.close();
    }
  });

  it('refuses offsets without shared memory or for a batch that is not taken, and a non-boolean option', () => {
    const plain = scheduler({ sharedMemory: false });
    try {
      assert.equal(plain.sharedMemoryRegion(), undefined);
      assert.throws(() => plain.inputOffset(0), /inputOffset: the scheduler has no shared memory \(create it with sharedMemory: true\)/);
      assert.throws(() => plain.outputOffset(0), { code: 'ERR_NO_SHARED_MEMORY' });
    } finally {
      plain.close();
    }
    const shared = scheduler({});
    try {
      assert.throws(() => shared.inputOffset(0), { name: 'RangeError', message: /inputOffset: batch 0 is not taken/ });
      assert.throws(() => shared.outputOffset(-1), { name: 'RangeError', message: /outputOffset: batchId must be an integer/ });
    } finally {
      shared.close();
    }
    assert.throws(
      () => scheduler({ sharedMemory: 'yes' as unknown as boolean }),
      { name: 'TypeError', message: /option sharedMemory must be a boolean/ },
    );
  });
});
