// A process that writes prediction log lines as fast as it can, for the shutdown tests.
//
//   node prediction-log-child.js <destination> <mode> [rotateMaxBytes]
//
// It writes up to LINES lines in batches (one setImmediate between batches, so I/O callbacks run as
// they would in a server) and says "started" on stderr after the first batches. Then, by mode:
//   sigterm  on SIGTERM it awaits log.close() and exits 0 (what `infergate serve` does);
//   exit     after the last batch it calls process.exit(0) at once; only the 'exit' handler's
//            flushSync() stands between the buffer and the file.
// Its last stderr line is its report: {"written":…,"dropped":…,"bufferedAtStop":…}.

import { PredictionLog, type PredictionEntry } from '../../src/observability/prediction-log';
import { inputHash } from '../../src/observability/input-hash';

const LINES = 50_000;
const BATCH = 250;
const STARTED_AFTER_BATCHES = 4;

const [destination, mode, rotateMaxBytes] = process.argv.slice(2);
// `node --test dist/test/` loads every compiled file, this one too, without arguments: nothing to do.
if (destination === undefined) process.exit(0);
if (mode !== 'sigterm' && mode !== 'exit') {
  process.stderr.write('usage: prediction-log-child <destination> sigterm|exit [rotateMaxBytes]\n');
  process.exit(2);
}

const log = PredictionLog.open({
  destination,
  ...(rotateMaxBytes === undefined ? {} : { rotate: { maxBytes: Number(rotateMaxBytes), maxFiles: 100 } }),
});

function entry(i: number): PredictionEntry {
  const record = { amount: i / 100, merchant_category: 'grocery', card_present: i % 2 === 0 };
  return {
    requestId: `req-${i}`,
    model: 'fraud',
    version: '1',
    runtime: { infergate: '0.1.0', onnxruntime: '1.30.0' },
    inputHash: inputHash(record),
    score: (i % 1000) / 1000,
    decision: 'allow',
    latencyMs: 0.5,
    backend: 'local',
    batchSize: BATCH,
  };
}

let next = 0;
let batches = 0;
let stopped = false;

function report(bufferedAtStop: number): void {
  const { written, dropped } = log.stats();
  process.stderr.write(`${JSON.stringify({ written, dropped, bufferedAtStop })}\n`);
}

function writeBatch(): void {
  if (stopped) return;
  for (let k = 0; k < BATCH && next < LINES; k++) log.write(entry(next++));
  if (++batches === STARTED_AFTER_BATCHES) process.stderr.write('started\n');
  if (next < LINES) {
    setImmediate(writeBatch);
  } else if (mode === 'exit') {
    report(log.stats().bufferedBytes);
    process.exit(0);
  }
}

if (mode === 'sigterm') {
  // Keeps the process alive if every line is written before the signal comes.
  const idle = setInterval(() => {}, 1 << 30);
  process.once('SIGTERM', () => {
    stopped = true;
    const buffered = log.stats().bufferedBytes;
    void log.close().then(() => {
      clearInterval(idle);
      report(buffered);
      process.exit(0);
    });
  });
} else {
  process.once('exit', () => log.flushSync());
}
writeBatch();
