// The owner's tail of recent metadata commands (src/cluster/meta-tail.ts): which watchers it can
// resume, when it must answer "snapshot", and the snapshot chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaTail, chunks, joinChunks } from '../../../src/cluster/meta-tail.js';

const cmd = (n: number, size = 4): Uint8Array => new Uint8Array(size).fill(n);

test('resumes from any index it holds; entries that are not commands only move the index', () => {
  const tail = new MetaTail({ maxEntries: 100, maxBytes: 1_000 }, 10);
  tail.push([{ index: 11, command: cmd(11) }, { index: 12 }, { index: 13, command: cmd(13) }]);
  assert.equal(tail.last, 13);
  assert.deepEqual(tail.since(10)!.map((e) => e.index), [11, 13]);
  assert.deepEqual(tail.since(11)!.map((e) => e.index), [13]);
  assert.deepEqual(tail.since(13), []);
  assert.deepEqual(tail.since(50), [], 'a watcher ahead of this replica waits for more');
  assert.equal(tail.since(9), undefined, 'before the tail: snapshot');
  assert.deepEqual(tail.since(13 - 2)![0]!.command, cmd(13));
});

test('drops the oldest past the entry limit, and past the byte limit', () => {
  const byCount = new MetaTail({ maxEntries: 3, maxBytes: 1_000 });
  byCount.push([1, 2, 3, 4, 5].map((i) => ({ index: i, command: cmd(i) })));
  assert.equal(byCount.size, 3);
  assert.equal(byCount.first, 2);
  assert.equal(byCount.since(1), undefined);
  assert.deepEqual(byCount.since(2)!.map((e) => e.index), [3, 4, 5]);

  const byBytes = new MetaTail({ maxEntries: 100, maxBytes: 10 });
  byBytes.push([1, 2, 3].map((i) => ({ index: i, command: cmd(i, 4) })));
  assert.equal(byBytes.size, 2, '12 bytes > 10: the oldest goes');
  assert.deepEqual(byBytes.since(1)!.map((e) => e.index), [2, 3]);
});

test('stays bounded over many pushes and keeps answering from the right place', () => {
  const tail = new MetaTail({ maxEntries: 50, maxBytes: 1_000_000 });
  for (let i = 1; i <= 10_000; i++) tail.push([{ index: i, command: cmd(i % 256) }]);
  assert.equal(tail.size, 50);
  assert.equal(tail.first, 9_950);
  assert.deepEqual(tail.since(9_998)!.map((e) => e.index), [9_999, 10_000]);
});

test('a replayed entry (re-applied after a restart) is not held twice; reset starts over', () => {
  const tail = new MetaTail({ maxEntries: 10, maxBytes: 1_000 }, 5);
  tail.push([{ index: 4, command: cmd(4) }, { index: 6, command: cmd(6) }]);
  tail.push([{ index: 6, command: cmd(6) }]);
  assert.deepEqual(tail.since(5)!.map((e) => e.index), [6]);
  tail.reset(40);
  assert.equal(tail.since(6), undefined);
  assert.deepEqual(tail.since(40), []);
});

test('chunks cover the data exactly, at most `size` each, and join back', () => {
  const data = Uint8Array.from({ length: 1_000 }, (_, i) => i % 251);
  for (const size of [1, 7, 256, 999, 1_000, 5_000]) {
    const parts = chunks(data, size);
    assert.equal(parts.length, Math.ceil(1_000 / size));
    assert.ok(parts.every((p) => p.length <= size && p.length > 0));
    assert.deepEqual(new Uint8Array(joinChunks(parts)), data);
  }
  assert.equal(chunks(new Uint8Array(0), 10).length, 1, 'an empty state is still one chunk');
  assert.throws(() => chunks(data, 0), RangeError);
});
