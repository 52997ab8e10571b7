// Client system shared memory, server side: the native mapping of a client's POSIX shared-memory
// object (read and written in place, detached on close) and the registry over it (bounded, errors
// naming the region and the key). The objects are created as any client creates them: in /dev/shm.

import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { InferError } from '../../src/errors';
import { sharedMemoryMappingClass } from '../../src/native/addon';
import { SystemSharedMemoryRegistry } from '../../src/server/shared-memory/system-shared-memory-registry';

const created: string[] = [];

/** A client's object `/igtest-shm-<pid>-<tag>` holding `bytes`. */
function clientObject(tag: string, bytes: Buffer): string {
  const key = `/igtest-shm-${process.pid}-${tag}`;
  writeFileSync(`/dev/shm${key}`, bytes);
  created.push(`/dev/shm${key}`);
  return key;
}

function counting(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
}

function rejects(fn: () => unknown, code: string, ...mentions: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InferError, String(err));
    assert.equal(err.code, code, err.message);
    for (const m of mentions) assert.ok(err.message.includes(m), `"${err.message}" should mention ${m}`);
    return true;
  });
}

after(() => {
  for (const f of created) rmSync(f, { force: true });
});

describe('SharedMemoryMapping (native)', () => {
  const Mapping = sharedMemoryMappingClass();

  it('maps the requested range of an existing object, in place both ways', () => {
    const key = clientObject('map', counting(10_000));
    const m = new Mapping(key, 5000, 300);
    assert.equal(m.key, key);
    assert.equal(m.offset, 5000);
    assert.equal(m.byteSize, 300);
    const bytes = new Uint8Array(m.buffer);
    assert.equal(bytes.length, 300);
    assert.deepEqual(Buffer.from(bytes), counting(10_000).subarray(5000, 5300));
    bytes.fill(7, 0, 10);
    const file = readFileSync(`/dev/shm${key}`);
    assert.deepEqual(file.subarray(5000, 5010), Buffer.alloc(10, 7));
    assert.equal(file[4999], 4999 % 251);
    m.close();
  });

  it('detaches its buffer on close, so no view reaches the unmapped memory', () => {
    const key = clientObject('close', counting(64));
    const m = new Mapping(key, 0, 64);
    const view = Buffer.from(m.buffer, 8, 8);
    m.close();
    assert.equal(m.buffer.byteLength, 0);
    assert.equal(view.length, 0);
    m.close(); // idempotent
    assert.deepEqual(readFileSync(`/dev/shm${key}`), counting(64), 'the object is the client\'s: still there, unchanged');
  });

  it('refuses what cannot be mapped with an error naming the key', () => {
    const key = clientObject('small', counting(100));
    const fails = (fn: () => unknown, ...mentions: string[]) =>
      assert.throws(fn, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_SHARED_MEMORY', err.message);
        for (const m of mentions) assert.ok(err.message.includes(m), `"${err.message}" should mention ${m}`);
        return true;
      });
    fails(() => new Mapping(key, 50, 51), key, 'holds 100 bytes');
    fails(() => new Mapping(`/igtest-shm-${process.pid}-absent`, 0, 1), 'absent', 'shm_open');
    fails(() => new Mapping('no-slash', 0, 1), 'no-slash');
    fails(() => new Mapping(key, 0, 0), 'byte size');
    assert.throws(() => new Mapping(key, -1, 1), RangeError);
    assert.throws(() => new Mapping(key, 0.5, 1), RangeError);
    assert.throws(() => new (Mapping as unknown as new (k: unknown, o: unknown, s: unknown) => unknown)(5, 0, 1), TypeError);
  });
});

describe('SystemSharedMemoryRegistry', () => {
  it('registers, views, reports and unregisters regions', () => {
    const key = clientObject('reg', counting(4096));
    const r = new SystemSharedMemoryRegistry();
    r.register('a', key, 1000, 2000);
    r.register('b', key, 0, 16);
    assert.deepEqual(r.status('a'), [{ name: 'a', key, offset: 1000, byteSize: 2000 }]);
    assert.deepEqual(r.status().map((s) => s.name).sort(), ['a', 'b']);
    // Offsets within a region are relative to the region's start.
    assert.deepEqual(r.view('a', 10, 5), counting(4096).subarray(1010, 1015));
    r.view('a', 0, 4).fill(9);
    assert.deepEqual(readFileSync(`/dev/shm${key}`).subarray(1000, 1004), Buffer.alloc(4, 9));
    r.unregister('a');
    assert.deepEqual(r.status().map((s) => s.name), ['b']);
    r.unregister('');
    assert.deepEqual(r.status(), []);
    r.close();
  });

  it('names the region, the field and the key in every error', () => {
    const key = clientObject('errs', counting(256));
    const r = new SystemSharedMemoryRegistry({ maxRegions: 2 });
    r.register('one', key, 0, 128);
    rejects(() => r.register('one', key, 0, 8), 'invalid_argument', '"one"', 'already registered');
    rejects(() => r.register('', key, 0, 8), 'invalid_argument', '"name"');
    rejects(() => r.register('two', '', 0, 8), 'invalid_argument', '"two"', '"key"');
    rejects(() => r.register('two', key, -1, 8), 'invalid_argument', '"two"', '"offset"');
    rejects(() => r.register('two', key, 0, 0), 'invalid_argument', '"two"', '"byte_size"');
    rejects(() => r.register('two', key, 200, 100), 'invalid_argument', '"two"', key, 'holds 256 bytes');
    rejects(() => r.register('two', `/igtest-shm-${process.pid}-none`, 0, 8), 'invalid_argument', '"two"', 'none');
    r.register('two', key, 128, 128);
    rejects(() => r.register('three', key, 0, 8), 'resource_exhausted', '"three"', '2 regions');
    rejects(() => r.view('one', 100, 29), 'invalid_argument', '"one"', '128 bytes');
    rejects(() => r.view('nope', 0, 1), 'not_found', '"nope"', 'not registered');
    rejects(() => r.unregister('nope'), 'not_found', '"nope"');
    rejects(() => r.status('nope'), 'not_found', '"nope"');
    assert.throws(() => new SystemSharedMemoryRegistry({ maxRegions: 0 }), RangeError);
    r.close();
    assert.deepEqual(r.status(), []);
  });

  it('leaves no view usable after a region is unregistered', () => {
    const key = clientObject('stale', counting(64));
    const r = new SystemSharedMemoryRegistry();
    r.register('x', key, 0, 64);
    const view = r.view('x', 0, 64);
    r.unregister('x');
    assert.equal(view.length, 0);
    r.close();
  });
});
