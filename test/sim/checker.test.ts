// The checker must fail on each violation it exists to catch (a checker that never fails proves nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupChecker, SafetyViolation } from './checker.js';
import { runSeed } from './run.js';

const e = (index: number, term: number, data: string) => ({ index, term, type: 0 as const, data: new TextEncoder().encode(data) });

test('checker: two leaders in one term', () => {
  const c = new GroupChecker(1);
  c.leader(3, 1);
  c.leader(3, 1);
  assert.throws(() => c.leader(3, 2), SafetyViolation);
});

test('checker: log matching (two entries at one index and term, or different predecessors)', () => {
  const c = new GroupChecker(1);
  c.entry(e(5, 2, 'a'), 1, 1);
  assert.throws(() => c.entry(e(5, 2, 'b'), 1, 2), /log matching/);
  assert.throws(() => c.entry(e(5, 2, 'a'), 2, 3), /log matching/);
});

test('checker: leader completeness and committed entries that change', () => {
  const c = new GroupChecker(1);
  c.commit(4, 2, 2, 1);
  assert.throws(() => c.commit(4, 3, 3, 2), /committed entry 4/);
  c.newLeader(2, 3, 1, () => undefined); // committed in term 2: a leader of term 2 need not hold it
  assert.throws(() => c.newLeader(3, 3, 1, (i) => (i === 4 ? 1 : 2)), /lacks committed entry 4/);
});

test('checker: state-machine safety and stale reads', () => {
  const c = new GroupChecker(1);
  c.apply(7, 'h1', 1);
  assert.throws(() => c.apply(7, 'h2', 2), /state machine safety/);
  assert.throws(() => c.read(5, 6, 1), /stale read/);
});

test('a simulated run is deterministic per seed (the real driver included)', async () => {
  const logs: string[][] = [[], []];
  const a = await runSeed(42, { chaosSteps: 800, livenessSteps: 600, log: (l) => logs[0]!.push(l) });
  const b = await runSeed(42, { chaosSteps: 800, livenessSteps: 600, log: (l) => logs[1]!.push(l) });
  assert.ok(a.ok, a.error);
  assert.deepEqual(a.stats, b.stats);
  assert.deepEqual(logs[0], logs[1]);
  assert.ok((a.stats?.committed ?? 0) > 0, 'clients got entries committed');
});
