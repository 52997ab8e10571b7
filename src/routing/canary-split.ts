// Canary routing, sticky by key: a key is hashed to one of 10,000 buckets, and the canary takes the
// buckets below its share. The same key always lands in the same bucket, so a customer sees one
// version; and raising the share only adds buckets, so keys already on the canary stay there (the
// property consistent hashing gives a ring, with none of its bookkeeping for two destinations).

export const CANARY_BUCKETS = 10_000;

/**
 * FNV-1a over the key's UTF-16 code units, then murmur3's 32-bit finaliser: FNV alone leaves
 * similar keys ("customer-1", "customer-2") in nearby buckets, the finaliser spreads them.
 */
export function canaryBucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % CANARY_BUCKETS;
}

/** Whether a request goes to the canary: by its key's bucket, or at random when it has no key. */
export function goesToCanary(percent: number, key: string | undefined, random: () => number = Math.random): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const bucket = key === undefined ? Math.floor(random() * CANARY_BUCKETS) : canaryBucket(key);
  return bucket < Math.round(percent * (CANARY_BUCKETS / 100));
}

/** The routing key of a record: the value of `field` as a string, if it is a string or a number. */
export function recordKey(record: unknown, field: string | undefined): string | undefined {
  if (field === undefined || record === null || typeof record !== 'object') return undefined;
  const v = (record as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}
