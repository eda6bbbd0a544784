// Membership changes: learners, promotion, single-server changes one at a time, effective on
// append (Raft thesis §4.1, §4.2), removing the leader (§4.2.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateType } from '../../../../src/raft/core/raft.js';
import {
  ConfChangeInvalidError,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  ProposalDroppedError,
  encodeConfChange,
} from '../../../../src/raft/core/index.js';
import { Cluster, msg, newRaft, take } from './harness.js';

test('§4.2.1 a learner receives the log but neither votes nor counts towards commit', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.addEmpty(4);
  c.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
  c.stabilize();
  c.propose(1, 'a');
  assert.deepEqual(c.node(1).confState().learners, [4]);
  assert.deepEqual(c.appliedData(4), ['a'], 'the learner catches up from an empty log');
  c.cutLink(1, 2);
  c.cutLink(1, 3);
  c.propose(1, 'b');
  assert.ok(!c.appliedData(1).includes('b'), 'leader + learner is not a majority');
  c.tick([4], 100);
  assert.equal(c.node(4).basicStatus().state, StateType.Follower, 'a learner never campaigns');
});

test('§4.1 a caught-up learner is promoted to voter', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.addEmpty(4);
  c.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
  c.stabilize();
  c.node(1).proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 4 });
  c.stabilize();
  for (const id of [1, 2, 3, 4]) assert.deepEqual(c.node(id).confState().voters, [1, 2, 3, 4]);
  // Now 4 counts: with 2 and 3 cut off, 1 + 4 is not a majority of four; with 3 cut off it is.
  c.cutLink(1, 3);
  c.propose(1, 'x');
  assert.deepEqual(c.appliedData(4), ['x']);
});

test('§4.1 only one membership change may be pending at a time', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.isolate(1);
  c.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 });
  c.stabilize();
  assert.throws(
    () => c.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 5 }),
    (e: unknown) => e instanceof ProposalDroppedError && e.code === 'RAFT_PROPOSAL_DROPPED' && /pending/.test(e.message),
  );
});

test('§4.1 a new leader proposes no membership change before committing an entry of its term', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  r.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
  assert.equal(r.state, StateType.Leader);
  const cc = { type: EntryType.ConfChange, term: 0, index: 0, data: encodeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4 }) };
  assert.throws(
    () => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [cc] }), true),
    (e: unknown) => e instanceof ProposalDroppedError && /committed an entry in its term/.test(e.message),
  );
});

test('§4.1 an invalid change is refused with ConfChangeInvalidError', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  assert.throws(
    () => c.node(1).proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 9 }),
    (e: unknown) => e instanceof ConfChangeInvalidError && e.code === 'RAFT_CONF_CHANGE_INVALID',
  );
  assert.throws(() => c.node(1).proposeConfChange({ type: ConfChangeType.AddNode, nodeId: 2 }), ConfChangeInvalidError);
});

test('§4.1 a change takes effect on append and is undone if its entry is truncated', () => {
  const r = newRaft(2, [1, 2, 3]);
  const cc = { type: EntryType.ConfChange, term: 2, index: 4, data: encodeConfChange({ type: ConfChangeType.AddLearner, nodeId: 9 }) };
  r.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2, index: 3, logTerm: 1, entries: [cc] }));
  assert.deepEqual(r.conf().learners, [9], 'in force as soon as appended, before commit');
  const other = { type: EntryType.Normal, term: 3, index: 4, data: new Uint8Array() };
  r.step(msg({ type: MessageType.App, from: 3, to: 2, term: 3, index: 3, logTerm: 1, entries: [other] }));
  assert.deepEqual(r.conf().learners, [], 'the truncated change no longer counts');
  take(r);
});

test('§4.2.2 a leader that removes itself steps down once the removal commits; the rest elect a leader', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.node(1).proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1 });
  c.stabilize();
  assert.equal(c.node(1).basicStatus().state, StateType.Follower);
  assert.deepEqual(c.node(2).confState().voters, [2, 3]);
  c.tickAll(25);
  const leader = c.leader();
  assert.ok(leader === 2 || leader === 3, `new leader ${String(leader)}`);
  c.propose(leader, 'after-removal');
  assert.deepEqual(c.appliedData(2), ['after-removal']);
  assert.deepEqual(c.appliedData(3), ['after-removal']);
  assert.equal(c.node(1).basicStatus().lead === NONE || c.node(1).basicStatus().state === StateType.Follower, true);
});

test('§4.2.2 a removed node does not campaign', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.node(1).proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3 });
  c.stabilize();
  const term = c.node(3).basicStatus().term;
  c.isolate(3);
  c.tick([3], 100);
  assert.equal(c.node(3).basicStatus().term, term);
  assert.equal(c.node(3).basicStatus().state, StateType.Follower);
});
