// Leadership transfer (Raft thesis §3.10, TimeoutNow).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, ProposalDroppedError, StateType } from '../../../../src/raft/core/index.js';
import { Cluster, ent, msg, newRaft, utf8 } from './harness.js';

test('§3.10 the leader hands over to an up-to-date follower with TimeoutNow', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote: true });
  c.elect(1);
  const term = c.node(1).basicStatus().term;
  c.node(1).transferLeader(2);
  c.stabilize();
  assert.equal(c.leader(), 2);
  assert.equal(c.node(2).basicStatus().term, term + 1, 'the target skips pre-vote and the lease check');
  assert.ok(c.messagesOfType(MessageType.TimeoutNow).some((m) => m.to === 2));
});

test('§3.10 a lagging target is caught up before TimeoutNow', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.filter = (m) => !(m.type === MessageType.App && m.to === 3);
  c.propose(1, 'a');
  c.propose(1, 'b');
  c.filter = undefined;
  c.node(1).transferLeader(3);
  c.stabilize();
  assert.equal(c.leader(), 3);
  c.propose(3, 'c');
  assert.deepEqual(c.appliedData(3), ['a', 'b', 'c']);
});

test('§3.10 proposals are refused during a transfer, which aborts after an election timeout', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.isolate(3);
  c.node(1).transferLeader(3);
  c.stabilize();
  assert.throws(() => c.node(1).propose(utf8('x')), ProposalDroppedError);
  c.tick([1], 10);
  c.propose(1, 'y');
  assert.deepEqual(c.appliedData(1), ['y']);
});

test('§3.10 a follower forwards a transfer request to the leader', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.node(3).transferLeader(2);
  c.stabilize();
  assert.equal(c.leader(), 2);
});

// Simulator seed 321125409: node 1, a follower, proposes; the proposal is forwarded (keeping
// from = 1) to a node that has meanwhile lost leadership to node 1 and forwards it back. Node 1
// now leads and is transferring leadership. The proposal arrives from the NETWORK, so it must be
// dropped silently: only requests made through this node's own API may throw.
test('§3.10 a proposal forwarded back to its originator during a transfer is dropped, not thrown', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  r.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
  assert.equal(r.state, StateType.Leader);
  r.step(msg({ type: MessageType.TransferLeader, from: 3, to: 1 }), true);
  assert.equal(r.leadTransferee, 3);
  const last = r.log.lastIndex();
  const forwarded = msg({ type: MessageType.Prop, from: 1, to: 1, entries: [ent(0, 0, 'x')] });
  assert.doesNotThrow(() => r.step(forwarded));
  assert.equal(r.log.lastIndex(), last, 'nothing appended');
  assert.throws(() => r.step(forwarded, true), ProposalDroppedError, 'the same request made locally throws');
});

test('§3.10 requests forwarded back to their originator never throw out of step on a candidate', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  assert.equal(r.state, StateType.Candidate);
  assert.doesNotThrow(() => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [ent(0, 0, 'x')] })));
  assert.doesNotThrow(() => r.step(msg({ type: MessageType.ReadIndex, from: 1, to: 1, context: utf8('r') })));
  r.becomeFollower(r.term, 0);
  assert.doesNotThrow(() => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [ent(0, 0, 'x')] })));
});
