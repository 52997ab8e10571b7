// A process's output, kept to its last `limit` bytes: enough to explain a failure, never unbounded.

export class BoundedLog {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly limit = 256 * 1024) {}

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.bytes -= (this.chunks.shift() as Buffer).length;
    }
  }

  /** The last `lines` lines kept (all of them by default). */
  tail(lines = Infinity): string {
    const text = Buffer.concat(this.chunks).subarray(-this.limit).toString('utf8');
    if (!Number.isFinite(lines)) return text;
    return text.split('\n').slice(-lines - 1).join('\n');
  }
}
