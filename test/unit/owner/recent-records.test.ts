// The leaders' cache of recently enqueued records is bounded per node, not per partition: records
// of many partitions together stay under the one bound, oldest out first; settled records leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentRecords } from '../../../src/owner/recent-records.js';

const record = (bytes: number, fill: number): Uint8Array => new Uint8Array(bytes).fill(fill);

test('one byte bound across every partition, oldest out first', () => {
  const cache = new RecentRecords(10 * 1024);
  // 16 partitions, 4 records of 1 KiB each: 64 KiB offered, 10 KiB kept.
  for (let i = 0; i < 4; i++) for (let p = 1; p <= 16; p++) cache.remember(p, 7, i, record(1024, p));
  assert.equal(cache.bytes, 10 * 1024);
  // The last ten remembered are kept: message 3 of partitions 7..16.
  for (let p = 1; p <= 16; p++) assert.equal(cache.get(p, 7, 3) !== undefined, p >= 7, `partition ${p}`);
  assert.equal(cache.get(16, 7, 2), undefined);
  assert.deepEqual(cache.get(9, 7, 3), record(1024, 9));
});

test('partitions keep their own keys; settled records leave and free their bytes', () => {
  const cache = new RecentRecords(1024 * 1024);
  cache.remember(1, 7, 1, record(100, 1));
  cache.remember(2, 7, 1, record(200, 2));
  cache.remember(2, 7, 1, record(300, 3)); // already held: the first stays
  assert.equal(cache.bytes, 300);
  assert.deepEqual(cache.get(2, 7, 1), record(200, 2));
  cache.forget(2, 7, [1, 2]);
  assert.equal(cache.get(2, 7, 1), undefined);
  assert.deepEqual(cache.get(1, 7, 1), record(100, 1));
  assert.equal(cache.bytes, 100);
});

test('eviction order survives many settled keys (the order list is compacted)', () => {
  const cache = new RecentRecords(64 * 10);
  for (let i = 0; i < 20_000; i++) {
    cache.remember(1 + (i % 3), 1, i, record(64, 0));
    if (i % 2 === 0) cache.forget(1 + (i % 3), 1, [i]);
  }
  assert.ok(cache.bytes <= 64 * 10);
  assert.ok(cache.get(1 + (19_999 % 3), 1, 19_999) !== undefined, 'the newest is kept');
});
