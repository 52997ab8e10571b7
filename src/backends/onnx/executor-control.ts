// The block of shared memory between the executor (main thread) and its workers: flags the
// workers poll, counters they add to, and the batch each task has in hand. Shared memory, not
// messages, because a busy worker runs batch after batch without talking to the main thread.

const FLAGS = 0; // Int32 × 4: paused, other tasks waiting, exit drill, sources generation
const COUNTERS = 16; // BigInt64 × 3
const RUNNING = 40; // Float64 × 2 per task slot

export class ExecutorControl {
  readonly buffer: SharedArrayBuffer;
  private readonly flags: Int32Array;
  private readonly counters: BigInt64Array;
  private readonly running: Float64Array;

  constructor(bufferOrSlots: SharedArrayBuffer | number) {
    this.buffer =
      typeof bufferOrSlots === 'number' ? new SharedArrayBuffer(RUNNING + 16 * bufferOrSlots) : bufferOrSlots;
    this.flags = new Int32Array(this.buffer, FLAGS, 4);
    this.counters = new BigInt64Array(this.buffer, COUNTERS, 3);
    this.running = new Float64Array(this.buffer, RUNNING);
    if (typeof bufferOrSlots === 'number') this.running.fill(-1);
  }

  // [0] paused: workers stop taking batches.
  get paused(): boolean {
    return Atomics.load(this.flags, 0) !== 0;
  }
  set paused(on: boolean) {
    Atomics.store(this.flags, 0, on ? 1 : 0);
  }

  // [1] tasks of another kind waiting for a worker: lingering drain tasks give theirs back.
  get othersWaiting(): boolean {
    return Atomics.load(this.flags, 1) !== 0;
  }
  otherTask(delta: 1 | -1): void {
    Atomics.add(this.flags, 1, delta);
  }

  // [2] chaos drill: the worker that takes the next batch exits.
  armExit(): void {
    Atomics.store(this.flags, 2, 1);
  }
  /** True once, for the one worker that claims the armed exit. */
  claimExit(): boolean {
    return Atomics.compareExchange(this.flags, 2, 1, 0) === 1;
  }

  // [3] bumped whenever the executor's sources change: drain tasks started with an older list stop.
  get sourcesGeneration(): number {
    return Atomics.load(this.flags, 3);
  }
  bumpSourcesGeneration(): void {
    Atomics.add(this.flags, 3, 1);
  }

  countBatch(rows: number, inPlace: boolean): void {
    Atomics.add(this.counters, 0, 1n);
    Atomics.add(this.counters, 1, BigInt(rows));
    if (inPlace) Atomics.add(this.counters, 2, 1n);
  }
  get batches(): number {
    return Number(Atomics.load(this.counters, 0));
  }
  get rows(): number {
    return Number(Atomics.load(this.counters, 1));
  }
  get inPlaceBatches(): number {
    return Number(Atomics.load(this.counters, 2));
  }

  /** Records the batch a task slot has in hand (batch -1: none) and which source it came from. */
  setRunning(slot: number, batch: number, source = -1): void {
    this.running[2 * slot + 1] = source;
    this.running[2 * slot] = batch;
  }
  runningBatch(slot: number): { batch: number; source: number } {
    return { batch: this.running[2 * slot] as number, source: this.running[2 * slot + 1] as number };
  }
}
