// GET /api/metadata's answer (src/node/meta-info.ts): where the replica's log stands, the open
// leases of its applied state with the frontend's node id and session, and the time left on each
// only from a replica that keeps the deadlines (the leader's LeaseKeeper, src/cluster/leases.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseKeeper } from '../../../src/cluster/leases.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import { frontendName, nodeOfFrontendName } from '../../../src/meta/sessions.js';
import { metadataInfo } from '../../../src/node/meta-info.js';
import type { GroupLogStats } from '../../../src/raft/node/group.js';

const LOG: GroupLogStats = {
  term: 3, leader: 2, firstIndex: 40, lastIndex: 57, commitIndex: 56, appliedIndex: 55, durableApplied: 55, appliedLogBytes: 0, compactions: 1,
};

test('frontend names carry the node id; other names carry none', () => {
  assert.equal(frontendName(101), 'frontend-101');
  assert.equal(nodeOfFrontendName('frontend-101'), 101);
  assert.equal(nodeOfFrontendName('frontend-0'), undefined);
  assert.equal(nodeOfFrontendName('tool'), undefined);
});

test('metadataInfo: indexes, open leases with sessions; time left only where the deadlines are kept', () => {
  const m = new MetaMachine();
  let now = 5_000;
  let term: number | undefined;
  const keeper = new LeaseKeeper({ machine: () => m, now: () => now, propose: async () => {}, leadingTerm: () => term });
  const a = m.apply({ type: 'session.open', frontend: frontendName(101), ttlMs: 0 }).lease!;
  const ended = m.apply({ type: 'session.open', frontend: frontendName(102), ttlMs: 0 }).lease!;
  const other = m.apply({ type: 'session.open', frontend: 'tool', ttlMs: 2_000 }).lease!;
  m.apply({ type: 'session.end', lease: ended });
  const replica = {
    group: { logStats: () => LOG }, machine: () => m,
    keepsDeadlines: () => keeper.isLeading, leaseExpiresInMs: (l: number) => keeper.expiresInMs(l),
  };

  const follower = metadataInfo(replica);
  assert.deepEqual(follower, {
    leader: 2, term: 3, first_index: 40, last_index: 57, commit_index: 56, applied_index: 55, next_lease: 4, lease_deadlines: false,
    leases: [
      { lease: a, name: 'frontend-101', frontend: 101, session: `fe-101-${a}`, ttl_ms: 10_000 },
      { lease: other, name: 'tool', ttl_ms: 2_000 },
    ],
  });

  term = 1;
  assert.equal(keeper.isLeading, true); // seen now: every open lease starts afresh, its full TTL from now
  now += 1_500;
  keeper.keepAlive(other); // renewed: 2 s from now
  now += 500;
  const leader = metadataInfo(replica);
  assert.equal(leader.lease_deadlines, true);
  assert.deepEqual(leader.leases.map((l) => [l.lease, l.expires_in_ms]), [[a, 8_000], [other, 1_500]]);
  now += 60_000;
  assert.deepEqual(metadataInfo(replica).leases.map((l) => l.expires_in_ms), [0, 0], 'overdue, not yet ended: 0, never negative');

  const embedded = metadataInfo({ group: { logStats: () => LOG }, machine: () => new MetaMachine() });
  assert.deepEqual([embedded.leases, embedded.lease_deadlines, embedded.next_lease], [[], false, 1]);
});
