// LeaderBalance: leadership goes to the placement's preferred replica once this owner has led a
// partition for the settle time and the preferred owner is reachable; never from a follower, never
// to an unreachable owner, and not again before another settle time has passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderBalance } from '../../../src/cluster/leader-balance.js';
import type { GroupDriver } from '../../../src/raft/node/group.js';

function fakeGroup(groupId: number, leader: boolean): GroupDriver & { transfers: number[] } {
  const g = {
    groupId, transfers: [] as number[],
    isLeader: () => leader,
    transferLeadership: (to: number) => { g.transfers.push(to); },
  };
  return g as unknown as GroupDriver & { transfers: number[] };
}

test('hands a partition to its preferred replica after the settle time, only when reachable', () => {
  let now = 1_000;
  const led = fakeGroup(1, true);
  const mine = fakeGroup(2, true);
  const follower = fakeGroup(3, false);
  const unreachable = fakeGroup(4, true);
  const b = new LeaderBalance({
    self: 1, settleMs: 5_000, now: () => now,
    connected: (id) => id !== 3,
    partitions: () => [
      { group: led, preferred: 2 }, { group: mine, preferred: 1 }, { group: follower, preferred: 2 }, { group: unreachable, preferred: 3 },
    ],
  });
  assert.deepEqual(b.run(), [], 'just became leader: no transfer yet');
  now += 4_999;
  assert.deepEqual(b.run(), []);
  now += 1;
  assert.deepEqual(b.run(), [1]);
  assert.deepEqual(led.transfers, [2]);
  assert.deepEqual(mine.transfers, [], 'already the preferred leader');
  assert.deepEqual(follower.transfers, [], 'a follower transfers nothing');
  assert.deepEqual(unreachable.transfers, [], 'the preferred owner is not reachable');
  now += 1_000;
  assert.deepEqual(b.run(), [], 'not again before another settle time');
  now += 4_000;
  assert.deepEqual(b.run(), [1], 'still leading after the settle time: try again');
  assert.equal(b.transfers, 2);
});
