// The ring and the replica walk: replicas are distinct owners, min(r, N) of them, and depend on the
// owner set alone (never on the order members were listed in).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRing, replicasOf } from '../../../src/placement/ring.js';
import { partitionHash, tokenHash } from '../../../src/placement/hash.js';
import { ownerIds } from './helpers.js';

test('ring: every owner has vnodes tokens, in clockwise order, owners sorted', () => {
  fc.assert(fc.property(ownerIds(1, 8), fc.integer({ min: 1, max: 32 }), (owners, vnodes) => {
    const ring = buildRing(owners, vnodes);
    assert.deepEqual(ring.owners, [...owners].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    assert.equal(ring.positions.length, owners.length * vnodes);
    for (let i = 1; i < ring.positions.length; i++) assert.ok((ring.positions[i - 1] as number) <= (ring.positions[i] as number));
    const perOwner = new Map<string, number[]>();
    ring.ownerAt.forEach((o, i) => {
      const id = ring.owners[o] as string;
      perOwner.set(id, [...(perOwner.get(id) ?? []), ring.positions[i] as number]);
    });
    for (const id of owners) {
      const want = Array.from({ length: vnodes }, (_, v) => tokenHash(id, v)).sort((a, b) => a - b);
      assert.deepEqual(perOwner.get(id), want);
    }
  }));
});

test('replicasOf: distinct owners, min(r, N) of them, independent of owner order', () => {
  fc.assert(fc.property(ownerIds(1, 9), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4096 }), fc.nat(),
    (owners, vnodes, r, partition, seed) => {
      const ring = buildRing(owners, vnodes);
      const reps = replicasOf(ring, partition, r);
      assert.equal(reps.length, Math.min(r, owners.length));
      assert.equal(new Set(reps).size, reps.length);
      for (const o of reps) assert.ok(owners.includes(o));
      const shuffled = [...owners].sort((a, b) => ((tokenHash(a, seed) - tokenHash(b, seed)) || (a < b ? -1 : 1)));
      assert.deepEqual(replicasOf(buildRing(shuffled, vnodes), partition, r), reps);
      // A larger r extends the list: the first r replicas do not depend on r.
      assert.deepEqual(replicasOf(ring, partition, r + 1).slice(0, reps.length), reps);
    }));
});

test('replicasOf follows the walk clockwise from the partition hash, wrapping', () => {
  // A reference walk written independently: sort (position, owner, vnode), start at the first
  // token >= the partition's position, wrap, take distinct owners.
  fc.assert(fc.property(ownerIds(2, 6), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1000 }), (owners, vnodes, partition) => {
    const tokens = owners.flatMap((o) => Array.from({ length: vnodes }, (_, v) => ({ pos: tokenHash(o, v), o, v })))
      .sort((a, b) => a.pos - b.pos || (a.o < b.o ? -1 : a.o > b.o ? 1 : 0) || a.v - b.v);
    const h = partitionHash(partition);
    const start = tokens.findIndex((t) => t.pos >= h);
    const walk = [...tokens.slice(start === -1 ? 0 : start), ...tokens.slice(0, start === -1 ? 0 : start)];
    const want = [...new Set(walk.map((t) => t.o))].slice(0, 3);
    assert.deepEqual(replicasOf(buildRing(owners, vnodes), partition, 3), want);
  }));
});

test('ring refuses bad input: duplicate or empty ids, vnodes out of range, r < 1', () => {
  assert.throws(() => buildRing(['a', 'b', 'a'], 4), /duplicate owner id 'a'/);
  assert.throws(() => buildRing(['a', ''], 4), /empty owner id/);
  assert.throws(() => buildRing(['a'], 0), /vnodes/);
  assert.throws(() => buildRing(['a'], 1.5), /vnodes/);
  assert.throws(() => replicasOf(buildRing(['a'], 4), 1, 0), /replication factor/);
});

test('an empty ring has no replicas', () => {
  assert.deepEqual(replicasOf(buildRing([], 8), 1, 3), []);
});
