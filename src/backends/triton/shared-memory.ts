// Triton's system shared-memory extension, for a scheduler whose slabs live in a POSIX shared
// memory region (native/core/shm_region): the region is registered with every replica before it
// takes a batch (again after a replica restarts, since registrations die with the server), and
// unregistered on shutdown. Regions left registered by an infergate process that crashed are
// unregistered when the next one starts; their /dev/shm files are unlinked by the native sweep.

import type { Logger } from '../../observability/logger';
import type { Replica } from './replica';

export interface RegionSpec {
  /** The name the region is registered under; also the /dev/shm file name. */
  name: string;
  /** shm_open key: "/" + name. */
  key: string;
  byteSize: number;
}

const CALL_MS = 5000;

export async function registerRegion(r: Replica, region: RegionSpec): Promise<void> {
  const deadline = performance.now() + CALL_MS;
  // A restarted server has no registrations; a live one may still hold ours (re-admission after a
  // network blip): unregistering first makes registration idempotent.
  await r.call('SystemSharedMemoryUnregister', { name: region.name }, deadline);
  await r.call('SystemSharedMemoryRegister', { name: region.name, key: region.key, offset: 0, byte_size: region.byteSize }, deadline);
}

export async function unregisterRegion(r: Replica, name: string): Promise<void> {
  await r.call('SystemSharedMemoryUnregister', { name }, performance.now() + CALL_MS);
}

/** The pid an infergate region name carries: "infergate-<pid>-...". */
export function ownerPid(name: string): number | undefined {
  const m = /^infergate-([0-9]+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Unregisters, on one replica, every infergate region whose owning process is gone. */
export async function unregisterOrphans(r: Replica, log: Logger): Promise<string[]> {
  const status = await r.call<{ regions: Record<string, { name: string }> }>('SystemSharedMemoryStatus', { name: '' }, performance.now() + CALL_MS);
  const orphans = Object.keys(status.regions ?? {}).filter((name) => {
    const pid = ownerPid(name);
    return pid !== undefined && pid !== process.pid && !alive(pid);
  });
  for (const name of orphans) {
    await unregisterRegion(r, name);
    log.log('info', 'triton.shm_orphan_unregistered', { endpoint: r.endpoint, region: name });
  }
  return orphans;
}
