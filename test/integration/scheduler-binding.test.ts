// The native scheduler's JS face, below the embedded API: what a producer gets back with each
// answer, and how sealed batches reach an executor's ready signal. The executor side is driven by
// hand on this thread (take, complete), so nothing depends on timing.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { type NativeBatchScheduler, type NativeSchedulerOptions, RowStatus, SubmitRejection, batchSchedulerClass, nativeAddon } from '../../src/native/addon';

function scheduler(maxBatchSize: number, maxQueueSize = 100, extra: Partial<NativeSchedulerOptions> = {}): NativeBatchScheduler {
  return new (batchSchedulerClass())({
    name: `binding-test/${randomUUID()}`,
    maxBatchSize,
    maxQueueDelayMicroseconds: 60_000_000, // never on time: only size and flush() seal here
    preferredBatchSize: [],
    priorityLevels: 1,
    defaultPriorityLevel: 1,
    timeoutAction: 'reject',
    defaultTimeoutMicroseconds: 0,
    allowTimeoutOverride: false,
    maxQueueSize,
    slabCount: 4,
    inputWidth: 1,
    outputWidth: 1,
    plan: undefined,
    ...extra,
  });
}

describe('native scheduler binding', () => {
  it('hands each answer back with the tag its request was submitted with', async () => {
    const s = scheduler(8);
    const answers = new Map<number, { tag: number; output: number }>();
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    const port = s.openPort((count, tickets, _statuses, outputs, _messages, tags) => {
      for (let i = 0; i < count; i++) answers.set(tickets[i] as number, { tag: tags[i] as number, output: outputs[i] as number });
      if (answers.size === 5) delivered();
    });
    const tagOf = new Map<number, number>();
    for (let i = 0; i < 5; i++) {
      const tag = [0, 7, 4294967295, 12, 3][i] as number;
      const ticket = s.submit(new Float32Array([i]), 0, port, 0, 0, tag);
      assert.ok(ticket >= 0);
      tagOf.set(ticket, tag);
    }
    assert.throws(() => s.submit(new Float32Array([0]), 0, port, 0, 0, 4294967296), /tag must be an integer from 0 to 4294967295/);
    assert.throws(() => s.submit(new Float32Array([0]), 0, port, 0, 0, 1.5), /tag must be an integer/);
    s.flush();
    const batch = s.take();
    assert.ok(batch >= 0);
    const input = s.inputView(batch);
    s.outputView(batch).set(input.map((x) => x * 10));
    s.complete(batch);
    await done;
    for (const [ticket, tag] of tagOf) assert.equal(answers.get(ticket)?.tag, tag);
    s.close();
  });

  it("refills one port's arrays for every delivery, and makes new ones after a callback transfers their buffer away", async () => {
    const s = scheduler(4);
    interface Seen {
      count: number;
      buffer: ArrayBufferLike;
      outputs: number[];
      statuses: number[];
      messages: (string | undefined)[] | undefined;
      batchRows: number;
    }
    const seen: Seen[] = [];
    let arrived!: () => void;
    const port = s.openPort((count, tickets, statuses, outputs, messages, _tags, batchRows) => {
      seen.push({
        count,
        buffer: tickets.buffer,
        outputs: [...outputs.subarray(0, count)],
        statuses: [...statuses.subarray(0, count)],
        messages: messages && [...messages],
        batchRows,
      });
      // The second callback keeps its buffer for itself: the port's arrays lose it (detached).
      if (seen.length === 2) structuredClone(tickets.buffer, { transfer: [tickets.buffer as ArrayBuffer] });
      arrived();
    });
    const run = async (values: number[], failure?: string): Promise<void> => {
      const delivered = new Promise<void>((resolve) => (arrived = resolve));
      for (const v of values) assert.ok(s.submit(new Float32Array([v]), 0, port, 0, 0) >= 0);
      s.flush();
      const batch = s.take();
      if (failure === undefined) {
        s.outputView(batch).set(s.inputView(batch).map((x) => x * 10));
        s.complete(batch);
      } else s.fail(batch, RowStatus.Unavailable, failure);
      await delivered;
    };
    await run([1, 2, 3]);
    await run([4]);
    await run([5, 6], 'the executor went away');
    await run([7]);
    assert.deepEqual(seen.map((d) => d.count), [3, 1, 2, 1]);
    assert.deepEqual(seen.map((d) => d.batchRows), [3, 1, 2, 1]);
    assert.deepEqual(seen[0]?.outputs, [10, 20, 30]);
    assert.deepEqual(seen[1]?.outputs, [40]);
    assert.ok(seen[0]?.buffer === seen[1]?.buffer, 'the second delivery reuses the first one\'s buffer');
    assert.equal(seen[1]?.buffer.byteLength, 0, 'transferred away by the second callback');
    assert.ok(seen[2]?.buffer !== seen[1]?.buffer, 'a detached buffer is replaced');
    assert.deepEqual(seen[2]?.statuses, [RowStatus.Unavailable, RowStatus.Unavailable]);
    assert.ok(seen[2]?.outputs.every(Number.isNaN), 'no score for a failed row');
    assert.deepEqual(seen[2]?.messages, ['the executor went away', 'the executor went away']);
    assert.deepEqual(seen[3]?.outputs, [70]);
    assert.equal(seen[3]?.messages, undefined);
    assert.equal(s.stats().deliveriesDropped, 0);
    s.close();
  });

  it('a scheduler that serves larger batches than it was made for grows its port arrays to them', async () => {
    // 300 rows in one batch: more than a port's first arrays hold (at most 64 rows).
    const s = scheduler(300, 300);
    let got: number[] = [];
    let arrived!: () => void;
    const delivered = new Promise<void>((resolve) => (arrived = resolve));
    const port = s.openPort((count, _tickets, _statuses, outputs) => {
      got = [...outputs.subarray(0, count)];
      arrived();
    });
    for (let i = 0; i < 300; i++) s.submit(new Float32Array([i]), 0, port, 0, 0);
    const batch = s.take(); // sealed on size
    assert.equal(s.rows(batch), 300);
    s.outputView(batch).set(s.inputView(batch).map((x) => x + 0.5));
    s.complete(batch);
    await delivered;
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i + 0.5));
    s.close();
  });

  it('submit is each scheduler object\'s own function: detached from it, it still reaches its scheduler', () => {
    const s = scheduler(2);
    const port = s.openPort(() => undefined);
    const submit = s.submit;
    assert.ok(Object.prototype.hasOwnProperty.call(s, 'submit'));
    assert.ok(submit(new Float32Array([1]), 0, port, 0, 0) >= 0);
    assert.ok(submit(new Float32Array([2]), 0, port, 0, 0) >= 0);
    assert.equal(s.stats().accepted, 2);
    assert.throws(() => submit(new Float32Array([1]), 0, port + 1000, 0, 0), /port \d+ is not open on this thread/);
    s.close();
    assert.equal(submit(new Float32Array([3]), 0, port, 0, 0), SubmitRejection.Closed);
  });

  it('with sparseSealGapMicroseconds, a batch opened that long after the last is sealed by its first request', async () => {
    const s = scheduler(4, 100, { sparseSealGapMicroseconds: 1 });
    const port = s.openPort(() => undefined);
    s.submit(new Float32Array([1]), 0, port, 0, 0);
    assert.equal(s.take(), -1, 'the first batch ever waits for company');
    s.flush();
    s.complete(s.take());
    await new Promise((resolve) => setTimeout(resolve, 2)); // far more than 1 µs since that batch opened
    s.submit(new Float32Array([2]), 0, port, 0, 0);
    const alone = s.take();
    assert.ok(alone >= 0, 'sealed by its first request, no flush');
    assert.equal(s.rows(alone), 1);
    s.complete(alone);
    s.close();
    assert.throws(() => scheduler(4, 100, { sparseSealGapMicroseconds: -1 }), /option sparseSealGapMicroseconds must be an integer from 0/);
  });

  it('a port callback that throws is reported as an uncaught exception, with its own error, and the next delivery still arrives', () => {
    // In a child process: the exception reaches process 'uncaughtException', as any callback's does.
    const addon = path.join(__dirname, '..', '..', 'src', 'native', 'addon');
    const script = `
      const { batchSchedulerClass } = require(${JSON.stringify(addon)});
      const s = new (batchSchedulerClass())({ name: 'throwing-port', maxBatchSize: 4, maxQueueDelayMicroseconds: 60000000,
        preferredBatchSize: [], priorityLevels: 1, defaultPriorityLevel: 1, timeoutAction: 'reject', defaultTimeoutMicroseconds: 0,
        allowTimeoutOverride: false, maxQueueSize: 100, slabCount: 4, inputWidth: 1, outputWidth: 1, plan: undefined });
      process.on('uncaughtException', (err) => console.log('uncaught: ' + err.message));
      let calls = 0;
      const port = s.openPort((count, tickets, statuses, outputs) => {
        calls++;
        if (calls === 1) throw new Error('the callback failed on purpose');
        console.log('delivered: ' + outputs[0]);
        s.close();
      });
      for (const x of [1, 2]) {
        s.submit(new Float32Array([x]), 0, port, 0, 0);
        s.flush();
        const batch = s.take();
        s.outputView(batch).set([x * 10]);
        s.complete(batch);
      }`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(child.stdout.trim().split('\n'), ['uncaught: the callback failed on purpose', 'delivered: 20']);
  });

  it('a thread that goes away with a request outstanding closes its port: the answer is dropped and counted, and other ports still answer', async () => {
    const s = scheduler(4);
    const addon = path.join(__dirname, '..', '..', 'src', 'native', 'addon');
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { batchSchedulerClass } = require(workerData.addon);
       const s = batchSchedulerClass().attach(workerData.name);
       const port = s.openPort(() => parentPort.postMessage('answered'));
       s.submit(new Float32Array([7]), 0, port, 0, 0);
       parentPort.postMessage('submitted');
       setInterval(() => {}, 1000); // stays alive until terminated`,
      { eval: true, workerData: { addon, name: s.name } },
    );
    await new Promise<void>((resolve) => worker.on('message', (m) => m === 'submitted' && resolve()));
    await worker.terminate();
    // The worker's request is still in the open batch; run it now that its thread is gone.
    s.flush();
    const orphan = s.take();
    assert.equal(s.rows(orphan), 1);
    s.complete(orphan);
    assert.equal(s.stats().completionsDropped, 1);
    assert.equal(s.stats().deliveriesDropped, 0, 'nothing reached a port of this thread and was lost there');
    // This thread's own port is unaffected.
    let answered!: (output: number) => void;
    const answer = new Promise<number>((resolve) => (answered = resolve));
    const port = s.openPort((_count, _tickets, _statuses, outputs) => answered(outputs[0] as number));
    s.submit(new Float32Array([3]), 0, port, 0, 0);
    s.flush();
    const batch = s.take();
    s.outputView(batch).set([30]);
    s.complete(batch);
    assert.equal(await answer, 30);
    s.close();
  });

  it('threads terminated while their answers are being delivered never take the process down', async () => {
    // Each round: a worker submits a batch's worth of requests; this thread runs them and terminates
    // the worker at once, so that the worker's wake-up for its answers races its own teardown.
    const s = scheduler(64);
    const addon = path.join(__dirname, '..', '..', 'src', 'native', 'addon');
    let answeredOrDropped = 0;
    for (let round = 0; round < 30; round++) {
      const worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const { batchSchedulerClass } = require(workerData.addon);
         const s = batchSchedulerClass().attach(workerData.name);
         const port = s.openPort(() => {});
         for (let i = 0; i < 64; i++) s.submit(new Float32Array([i]), 0, port, 0, 0);
         parentPort.postMessage('submitted');
         setInterval(() => {}, 1000);`,
        { eval: true, workerData: { addon, name: s.name } },
      );
      await new Promise<void>((resolve) => worker.on('message', (m) => m === 'submitted' && resolve()));
      const batch = s.take(); // sealed on size: 64 rows
      assert.equal(s.rows(batch), 64);
      s.complete(batch);
      await worker.terminate();
      answeredOrDropped += 64;
    }
    const stats = s.stats();
    assert.equal(stats.rowsExecuted, answeredOrDropped);
    s.close();
  });

  it('stopAdmission refuses later submits as closed and still runs and answers what it admitted', () => {
    const s = scheduler(4);
    let answered = 0;
    const port = s.openPort((count) => (answered += count));
    assert.ok(s.submit(new Float32Array([1]), 0, port, 0, 0) >= 0);
    s.stopAdmission();
    assert.equal(s.submit(new Float32Array([2]), 0, port, 0, 0), SubmitRejection.Closed);
    s.flush();
    const batch = s.take();
    assert.equal(s.rows(batch), 1);
    s.complete(batch);
    assert.equal(s.stats().accepted, 1);
    assert.equal(s.stats().rejectedClosed, 1);
    s.close();
  });

  it('views of a batch cover exactly its rows, over the batch memory, batch after batch', () => {
    const s = scheduler(4);
    const port = s.openPort(() => undefined);
    for (let round = 1; round <= 6; round++) {
      for (let i = 0; i < round % 4 + 1; i++) s.submit(new Float32Array([round * 10 + i]), 0, port, 0, 0);
      s.flush();
      const batch = s.take();
      const input = s.inputView(batch);
      assert.equal(input.length, round % 4 + 1);
      assert.deepEqual([...input], Array.from({ length: round % 4 + 1 }, (_, i) => round * 10 + i));
      assert.equal(nativeAddon().addressOf(input), s.slabAddress(batch));
      s.complete(batch);
    }
    s.close();
  });

  it('a sealed batch raises the ready signal of the executor that serves its scheduler', () => {
    const addon = nativeAddon();
    const signal = addon.createReadySignal();
    const other = addon.createReadySignal();
    const s = scheduler(2);
    s.setReadySignal(signal);
    const port = s.openPort(() => undefined);
    const before = addon.readyEpoch(signal);
    const otherBefore = addon.readyEpoch(other);
    s.submit(new Float32Array([1]), 0, port, 0, 0);
    assert.equal(addon.readyEpoch(signal), before); // open, not sealed
    s.submit(new Float32Array([2]), 0, port, 0, 0); // fills the batch: sealed
    assert.notEqual(addon.readyEpoch(signal), before);
    assert.equal(addon.readyEpoch(other), otherBefore);
    // A wait that starts after the seal returns at once; one that nothing ends reports a timeout.
    assert.equal(addon.waitReady(signal, before, 60_000), true);
    assert.equal(addon.waitReady(signal, addon.readyEpoch(signal), 1), false);
    assert.throws(() => addon.waitReady(123456789, 0, 1), /signal must be an id returned by createReadySignal/);
    assert.throws(() => s.setReadySignal(-1), /signal/);
    s.complete(s.take());
    s.close();
  });
});
