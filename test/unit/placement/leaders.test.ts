// Leader spreading: each preferred leader is one of its partition's replicas, and the spread
// (max − min leaders per owner) is the least any assignment can achieve — checked against brute
// force on small instances, so in particular ≤ 1 whenever ≤ 1 is possible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spreadLeaders } from '../../../src/placement/leaders.js';

const OWNERS = ['a', 'b', 'c', 'd'];

/** Replica sets over the first n owners: each a non-empty ordered subset of size ≤ 3. */
const instance = fc.integer({ min: 1, max: 4 }).chain((n) => fc.record({
  owners: fc.constant(OWNERS.slice(0, n)),
  sets: fc.array(fc.uniqueArray(fc.constantFrom(...OWNERS.slice(0, n)), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 7 }),
  keep: fc.array(fc.option(fc.constantFrom(...OWNERS.slice(0, n)), { nil: undefined }), { maxLength: 7 }),
}));

function loads(owners: readonly string[], leaders: readonly string[]): number[] {
  return owners.map((o) => leaders.filter((l) => l === o).length);
}

/** Least max, greatest min and least (max − min) over every assignment. */
function bruteForce(owners: readonly string[], sets: readonly (readonly string[])[]): { max: number; min: number; spread: number } {
  let best = { max: Infinity, min: -Infinity, spread: Infinity };
  const pick: string[] = [];
  const go = (p: number): void => {
    if (p === sets.length) {
      const l = loads(owners, pick);
      const max = Math.max(...l);
      const min = Math.min(...l);
      best = { max: Math.min(best.max, max), min: Math.max(best.min, min), spread: Math.min(best.spread, max - min) };
      return;
    }
    for (const o of sets[p] as readonly string[]) {
      pick.push(o);
      go(p + 1);
      pick.pop();
    }
  };
  go(0);
  return best;
}

test('leaders are replicas, and max, min and max − min are optimal (brute force)', () => {
  fc.assert(fc.property(instance, ({ owners, sets, keep }) => {
    const leaders = spreadLeaders(owners, sets, keep);
    assert.equal(leaders.length, sets.length);
    leaders.forEach((l, p) => assert.ok((sets[p] as string[]).includes(l)));
    const l = loads(owners, leaders);
    const best = bruteForce(owners, sets);
    assert.equal(Math.max(...l), best.max);
    assert.equal(Math.min(...l), best.min);
    assert.equal(Math.max(...l) - Math.min(...l), best.spread);
  }), { numRuns: 400 });
});

test('a previous leader is kept when the spread allows it', () => {
  // Already balanced: nothing moves, whatever the greedy would have picked.
  const sets = [['a', 'b'], ['a', 'b'], ['b', 'c'], ['c', 'a']];
  assert.deepEqual(spreadLeaders(['a', 'b', 'c'], sets, ['b', 'a', 'c', 'a']), ['b', 'a', 'c', 'a']);
  // Unbalanced previous leaders: the fewest possible move (one: a leads 3 of 3 partitions).
  const out = spreadLeaders(['a', 'b', 'c'], [['a', 'b'], ['a', 'c'], ['a', 'b']], ['a', 'a', 'a']);
  assert.deepEqual(loads(['a', 'b', 'c'], out).sort(), [0, 1, 2].map(() => 1));
  assert.equal(out.filter((o, i) => o !== ['a', 'a', 'a'][i]).length, 2);
});

test('no choice, no balance: r = 1 leaves the spread of the replica sets', () => {
  assert.deepEqual(spreadLeaders(['a', 'b'], [['a'], ['a'], ['a'], ['b']]), ['a', 'a', 'a', 'b']);
});

test('a path of shifts: c can take a leadership from a only through b', () => {
  // Kept leaders load a with 3 of 4; c is a replica of partition 4 only, which b leads. Evening out
  // needs a chain: a hands a partition to b, and b hands partition 4 to c.
  const sets = [['a', 'b'], ['a', 'b'], ['a'], ['b', 'c']];
  const out = spreadLeaders(['a', 'b', 'c'], sets, ['a', 'a', 'a', 'b']);
  assert.deepEqual(out, ['b', 'b', 'a', 'c']);
});

test('refuses a replica that is not an owner, and an empty replica set', () => {
  assert.throws(() => spreadLeaders(['a'], [['z']]), /'z' is not an owner/);
  assert.throws(() => spreadLeaders(['a'], [[]]), /no replicas/);
});
