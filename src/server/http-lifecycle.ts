// Listening and graceful closing for infergate's HTTP listeners (the KServe face and /metrics):
// count the requests in flight, and on close stop accepting, let those requests be answered, then
// drop every connection.

import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class HttpLifecycle {
  /** Requests received and not yet answered (or abandoned by their client). */
  inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly server: http.Server) {}

  /** Counts a request in; the function it returns counts it out (once, however often called). */
  begin(): () => void {
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.inFlight === 0 && this.idle) this.idle();
    };
  }

  /** Counts a request until its response closes: sent, or the client went away first. */
  track(res: http.ServerResponse): void {
    res.once('close', this.begin());
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections, waits for the requests in flight to be answered, closes sockets. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.server.closeAllConnections();
    await closed;
  }
}
