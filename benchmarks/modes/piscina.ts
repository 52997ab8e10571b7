// Mode (b): the usual way to get model work off the event loop — a Piscina pool, one task per
// request. Piscina's defaults otherwise (one task at a time per worker, unbounded queue: the
// open-loop generator bounds what is in flight).

import * as path from 'node:path';
import { Piscina } from 'piscina';
import { cycle, recordPool } from './fraud';
import type { ModeHandle, ModeOptions } from './mode';

export async function openPiscina(options: ModeOptions): Promise<ModeHandle> {
  const pool = new Piscina<unknown, number>({
    filename: path.join(__dirname, 'piscina-worker.js'),
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: 10 * 60_000,
  });
  const next = cycle(recordPool());
  return {
    send: () => pool.run(next()),
    close: () => pool.destroy(),
  };
}
