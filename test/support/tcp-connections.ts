// The kernel's view of a loopback TCP connection (Linux /proc/net/tcp): lets a test wait until a
// server has reacted to its client leaving (its end of the connection is no longer ESTABLISHED nor
// CLOSE_WAIT, i.e. the server has closed it) without guessing how long that takes.

import { readFileSync } from 'node:fs';

/** The states of /proc/net/tcp's `st` column (include/net/tcp_states.h). */
const STATES: Record<number, string> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
};

/**
 * The state of the socket whose local port is `localPort` and remote port `remotePort` (IPv4 or
 * IPv6), or undefined when the kernel lists none (gone, or no /proc on this platform).
 */
export function tcpState(localPort: number, remotePort: number): string | undefined {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT.
      const [, local, remote, st] = line.trim().split(/\s+/);
      if (!local || !remote || !st) continue;
      if (parseInt(local.split(':')[1] ?? '', 16) === localPort && parseInt(remote.split(':')[1] ?? '', 16) === remotePort) {
        return STATES[parseInt(st, 16)] ?? `state ${st}`;
      }
    }
  }
  return undefined;
}
