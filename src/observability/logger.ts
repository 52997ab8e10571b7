// Structured operational logging: one JSON object per line, on stderr by default. Components take a
// Logger so that embedding applications route events into their own logging, and tests capture them.

export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on stderr: {"time":...,"level":"warn","event":"triton.degraded",...}. */
export const stderrLogger: Logger = {
  log(level, event, fields) {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  },
};

export const silentLogger: Logger = { log() {} };

/** Keeps the last `limit` events in memory (tests, diagnostics); bounded. */
export class MemoryLogger implements Logger {
  readonly events: { level: LogLevel; event: string; fields: Record<string, unknown> }[] = [];
  constructor(private readonly limit = 1000) {}
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    if (this.events.length >= this.limit) this.events.shift();
    this.events.push({ level, event, fields });
  }
}
