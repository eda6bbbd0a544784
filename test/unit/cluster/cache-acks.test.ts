// The metadata leader's wait for the frontends' caches (src/cluster/cache-acks.ts): a change is
// answered once every open lease reported it applied, once a lagging lease is no longer open, or at
// the bound; never before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheAcks } from '../../../src/cluster/cache-acks.js';

const state = async <T>(p: Promise<T>): Promise<'resolved' | 'pending'> =>
  Promise.race([p.then(() => 'resolved' as const), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

test('a wait ends when every open lease reported the index, not when some did', async () => {
  const acks = new CacheAcks({ openLeases: () => [1, 2], boundMs: 60_000 });
  acks.report(1, 5);
  const w = acks.wait(7);
  acks.report(1, 7);
  assert.equal(await state(w), 'pending', 'lease 2 has not reported');
  acks.report(2, 6);
  assert.equal(await state(w), 'pending', 'lease 2 reported an older index');
  acks.report(2, 9);
  assert.equal(await state(w), 'resolved');
  // Reports only raise the index: an older one later changes nothing.
  acks.report(2, 3);
  assert.equal(await state(acks.wait(8)), 'pending', 'lease 1 is at 7');
  acks.close();
});

test('an index every lease already has is answered at once; no leases, no wait', async () => {
  const acks = new CacheAcks({ openLeases: () => [1], boundMs: 60_000 });
  acks.report(1, 4);
  assert.equal(await state(acks.wait(4)), 'resolved');
  const none = new CacheAcks({ openLeases: () => [], boundMs: 60_000 });
  assert.equal(await state(none.wait(100)), 'resolved');
  const off = new CacheAcks({ openLeases: () => [1], boundMs: 0 });
  assert.equal(await state(off.wait(100)), 'resolved', 'bound 0 turns the wait off');
});

test('a lease that is no longer open stops holding the wait, and its reports are forgotten', async () => {
  let open = [1, 2];
  const acks = new CacheAcks({ openLeases: () => open, boundMs: 60_000 });
  acks.report(1, 10);
  const w = acks.wait(10);
  assert.equal(await state(w), 'pending');
  open = [1];
  acks.prune();
  assert.equal(await state(w), 'resolved');
  // A lease id back in the open set (it cannot be: ids are never reused) starts from nothing.
  open = [1, 2];
  acks.report(2, 10);
  open = [1];
  acks.prune();
  open = [1, 2];
  assert.equal(await state(acks.wait(10)), 'pending');
  acks.close();
});

test('at the bound the wait ends and names the leases that had not reported', async () => {
  const bounded: Array<[number, readonly number[]]> = [];
  const acks = new CacheAcks({ openLeases: () => [1, 2, 3], boundMs: 30, onBound: (i, l) => bounded.push([i, l]) });
  acks.report(2, 8);
  const t0 = Date.now();
  await acks.wait(8);
  assert.ok(Date.now() - t0 >= 25, 'not before the bound');
  assert.deepEqual(bounded, [[8, [1, 3]]]);
});
