// Where pino writes the prediction log: stdout or a file, asynchronously, with a hard bound on the bytes
// waiting to be written and rotation by size.
//
// pino hands each serialized line to write(). The line goes into a sonic-boom stream (pino.destination,
// sync: false), which writes from its buffer on libuv's thread pool, so the caller never waits on I/O.
// This class counts the bytes it hands over and the bytes sonic-boom reports written ('write' events):
// the difference is what is buffered. A line that would take the buffer past maxBufferBytes is dropped
// and counted, never queued: a disk or a pipe that cannot keep up costs lines, not memory.
//
// Lines accepted over BATCH_MS are handed to sonic-boom together, joined (sooner once BATCH_BYTES
// wait): one write system call per batch instead of one per line, which was most of the log's cost
// on the request thread at a few thousand predictions a second. flush(), flushSync(),
// close() and a rotation hand the batch over first, so no guarantee below changes.
//
// Rotation is done here rather than with sonic-boom's reopen(), because reopen() sends whatever is still
// buffered to the new file: the byte count of each file would then be a guess. Instead, when the next
// line would take the current file past maxBytes, the files are shifted (file.1 → file.2, ..., the oldest
// beyond maxFiles deleted), the current file is renamed to file.1, and a fresh file is opened with its own
// sonic-boom stream. The old stream keeps its open descriptor, so it finishes writing its buffer into
// what is now file.1 and then closes: every line lands whole, in the file that was current when it was
// written. The renames and the open are a few synchronous metadata calls on the event loop, bounded by
// maxFiles; opening synchronously is what guarantees the fresh file exists before a second rotation
// could rename it.

import { fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import pino from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/** How long accepted lines wait to be written together, and how many bytes end the wait early. */
const BATCH_MS = 10;
const BATCH_BYTES = 64 * 1024;

export interface RotateSettings {
  /** Bytes after which the file is rotated (a single longer line still gets a file of its own). */
  maxBytes: number;
  /** Rotated files kept beside the current one: file.1 (newest) to file.<maxFiles>. */
  maxFiles: number;
}

export interface LogDestinationSettings {
  /** 'stdout', or the path of a file to append to. */
  destination: string;
  maxBufferBytes: number;
  rotate: RotateSettings | undefined;
  /** Told about each I/O error (the log itself keeps going). */
  onError: (err: NodeJS.ErrnoException) => void;
}

export interface LogDestinationCounts {
  /** Lines accepted (handed to a stream to be written). */
  written: number;
  /** Lines refused because the buffer was full, the stream was broken or the log was closing. */
  dropped: number;
  rotations: number;
  /** Bytes accepted and not yet reported written, over all streams still open. */
  bufferedBytes: number;
  /** I/O errors seen (a failed write, open, rename or close). */
  errors: number;
}

/** One sonic-boom stream and the bytes handed to it that it has not yet written. */
interface Sink {
  readonly boom: SonicBoom;
  /** The descriptor the stream writes to (flushSync writes the last lines to it directly). */
  readonly fd: number;
  pending: number;
  /** Closed, broken (EPIPE) or given up on: nothing more will be written through it. */
  dead: boolean;
  ending: boolean;
  lastError: Error | undefined;
  readonly closed: Promise<void>;
  settle: () => void;
}

export class LogDestination {
  private current: Sink;
  /** Streams replaced by a rotation that are still writing their buffers into their (renamed) files. */
  private readonly retiring = new Set<Sink>();
  private currentFileBytes: number;
  private bufferedBytes = 0;
  private written = 0;
  private dropped = 0;
  private rotations = 0;
  private errors = 0;
  private closing = false;
  /** Lines accepted this turn, not yet handed to the current stream (counted in its `pending`). */
  private batch: string[] = [];
  private batchBytes = 0;
  private batchScheduled = false;
  private readonly handOver = (): void => {
    this.batchScheduled = false;
    this.handOverBatch();
  };
  /** flush() calls waiting for the buffer to empty (or for an error). */
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  private constructor(
    private readonly settings: LogDestinationSettings,
    fd: number,
    fileBytes: number,
  ) {
    this.current = this.sink(fd);
    this.currentFileBytes = fileBytes;
  }

  /** Opens the destination now, so that a bad path fails here, naming it. */
  static open(settings: LogDestinationSettings): LogDestination {
    if (settings.destination === 'stdout') return new LogDestination(settings, 1, 0);
    let fd: number;
    try {
      fd = openSync(settings.destination, 'a');
    } catch (err) {
      throw new Error(`prediction log: destination "${settings.destination}" cannot be opened for appending: ${(err as Error).message}`);
    }
    const stat = fstatSync(fd);
    if (settings.rotate !== undefined && !stat.isFile()) {
      throw new TypeError(`prediction log: rotate needs a regular file, and destination "${settings.destination}" is not one`);
    }
    return new LogDestination(settings, fd, stat.isFile() ? stat.size : 0);
  }

  /** pino's entry point: one serialized line, newline included. Never blocks, never throws. */
  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.closing || this.current.dead || this.bufferedBytes + bytes > this.settings.maxBufferBytes) {
      this.dropped++;
      return;
    }
    const rotate = this.settings.rotate;
    if (rotate !== undefined && this.currentFileBytes > 0 && this.currentFileBytes + bytes > rotate.maxBytes) {
      this.handOverBatch();
      this.rotate(rotate);
    }
    this.batch.push(line);
    this.batchBytes += bytes;
    if (this.batchBytes >= BATCH_BYTES) this.handOverBatch();
    else if (!this.batchScheduled) {
      this.batchScheduled = true;
      // Unreferenced: a batch never keeps the process alive (close() and flushSync() hand it over).
      setTimeout(this.handOver, BATCH_MS).unref();
    }
    this.current.pending += bytes;
    this.bufferedBytes += bytes;
    this.currentFileBytes += bytes;
    this.written++;
  }

  counts(): LogDestinationCounts {
    return {
      written: this.written,
      dropped: this.dropped,
      rotations: this.rotations,
      bufferedBytes: this.bufferedBytes,
      errors: this.errors,
    };
  }

  /** Hands this turn's lines to the current stream in one write. */
  private handOverBatch(): void {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    const sink = this.current;
    if (sink.dead) {
      this.unaccept(sink, lines);
      return;
    }
    try {
      sink.boom.write(lines.length === 1 ? (lines[0] as string) : lines.join(''));
    } catch {
      // Ended behind our back (pino ends its streams at 'beforeExit'): nothing more goes through it.
      sink.dead = true;
      this.unaccept(sink, lines);
    }
  }

  /** Lines accepted but never handed over (their stream died first): counted as dropped instead. */
  private unaccept(sink: Sink, lines: string[]): void {
    let bytes = 0;
    for (const l of lines) bytes += Buffer.byteLength(l);
    this.release(sink, bytes);
    this.written -= lines.length;
    this.dropped += lines.length;
  }

  /** Resolves once every accepted line is written; rejects on the first I/O error met meanwhile. */
  flush(): Promise<void> {
    this.handOverBatch();
    if (this.bufferedBytes === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Writes everything buffered synchronously, blocking the thread: for process 'exit' handlers, where
   * no asynchronous write will ever complete. Best effort: an error is counted, not thrown.
   */
  flushSync(): void {
    // This turn's lines are the newest: they go after what the streams hold, written directly (handing
    // them to a stream that is not writing would start an asynchronous write, which never completes here).
    const lines = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    for (const sink of [...this.retiring, this.current]) {
      // Nothing to write (a stream may already be closing itself): leave it alone.
      if (sink.dead || sink.pending === 0) continue;
      try {
        sink.boom.flushSync();
      } catch (err) {
        this.noteError(err as NodeJS.ErrnoException);
      }
      this.forget(sink);
    }
    if (lines.length === 0) return;
    const sink = this.current;
    if (sink.dead) {
      this.unaccept(sink, lines);
      return;
    }
    try {
      // A pipe may take a write in parts.
      const bytes = Buffer.from(lines.join(''));
      for (let at = 0; at < bytes.length; ) at += writeSync(sink.fd, bytes, at);
    } catch (err) {
      this.noteError(err as NodeJS.ErrnoException);
    }
  }

  /** Refuses further lines, writes what is buffered, closes the file. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.handOverBatch();
      this.retire(this.current);
    }
    return Promise.all([...this.retiring].map((s) => s.closed)).then(() => undefined);
  }

  private sink(fd: number): Sink {
    const boom = pino.destination({ dest: fd, sync: false });
    let settle!: () => void;
    const closed = new Promise<void>((resolve) => (settle = resolve));
    const sink: Sink = { boom, fd, pending: 0, dead: false, ending: false, lastError: undefined, closed, settle };
    boom.on('write', (n: number) => this.release(sink, n));
    boom.on('error', (err: NodeJS.ErrnoException) => this.onSinkError(sink, err));
    boom.on('close', () => {
      sink.dead = true;
      this.forget(sink);
      this.retiring.delete(sink);
      sink.settle();
    });
    return sink;
  }

  private release(sink: Sink, n: number): void {
    const n2 = Math.min(n, sink.pending);
    sink.pending -= n2;
    this.bufferedBytes -= n2;
    if (this.bufferedBytes === 0) this.wake(undefined);
  }

  /** The sink's remaining bytes will never be reported written: stop counting them as buffered. */
  private forget(sink: Sink): void {
    this.release(sink, sink.pending);
  }

  private onSinkError(sink: Sink, err: NodeJS.ErrnoException): void {
    // pino's own listener re-emits every error but EPIPE, so each reaches us twice.
    if (err === sink.lastError) return;
    sink.lastError = err;
    this.noteError(err);
    if (err.code === 'EPIPE') {
      // The reader is gone and pino has turned the stream into a no-op: nothing buffered will be written.
      sink.dead = true;
      this.forget(sink);
      this.retiring.delete(sink);
      sink.settle();
    } else if (sink.ending) {
      // sonic-boom retries a failed write only when the next line arrives; a closing stream gets none.
      sink.dead = true;
      this.forget(sink);
      sink.boom.destroy();
      this.retiring.delete(sink);
      sink.settle();
    }
    this.wake(err);
  }

  private noteError(err: NodeJS.ErrnoException): void {
    this.errors++;
    this.settings.onError(err);
  }

  private wake(err: Error | undefined): void {
    if (err === undefined && this.bufferedBytes !== 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }

  private retire(sink: Sink): void {
    sink.ending = true;
    this.retiring.add(sink);
    if (sink.dead) {
      sink.settle();
      this.retiring.delete(sink);
      return;
    }
    sink.boom.end();
  }

  private rotate(rotate: RotateSettings): void {
    const file = this.settings.destination;
    let fd: number;
    try {
      removeIfPresent(`${file}.${rotate.maxFiles}`);
      for (let i = rotate.maxFiles - 1; i >= 1; i--) renameIfPresent(`${file}.${i}`, `${file}.${i + 1}`);
      renameSync(file, `${file}.1`);
      fd = openSync(file, 'a');
    } catch (err) {
      // Keep writing where we are; try again after another maxBytes rather than on every line.
      this.noteError(err as NodeJS.ErrnoException);
      this.currentFileBytes = 0;
      return;
    }
    this.retire(this.current);
    this.current = this.sink(fd);
    this.currentFileBytes = 0;
    this.rotations++;
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
