// Leader election (Raft §5.2, §5.4.1), pre-vote (§9.6) and check-quorum (§6.2), in the manner of
// etcd's raft_paper_test.go: each test names the paper section it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateType } from '../../../../src/raft/core/raft.js';
import { MessageType, NONE } from '../../../../src/raft/core/index.js';
import { Cluster, msg, newRaft, take } from './harness.js';

test('§5.2 follower starts an election after the election timeout', () => {
  const r = newRaft(1, [1, 2, 3]);
  assert.equal(r.term, 1);
  for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
  assert.equal(r.state, StateType.Candidate);
  assert.equal(r.term, 2);
  assert.equal(r.vote, 1);
  const votes = take(r).filter((m) => m.type === MessageType.Vote);
  assert.deepEqual(votes.map((m) => m.to).sort(), [2, 3]);
  for (const v of votes) {
    assert.equal(v.term, 2);
    assert.equal(v.index, 3);
    assert.equal(v.logTerm, 1);
  }
});

test('§5.2 election timeouts are randomized in [electionTicks, 2*electionTicks)', () => {
  const seen = new Set<number>();
  for (let id = 1; id <= 50; id++) {
    const r = newRaft(id, [id, id + 100]);
    r.becomeFollower(r.term + 1, NONE);
    let ticks = 0;
    while (r.state === StateType.Follower) {
      r.tick();
      ticks++;
    }
    assert.ok(ticks >= r.electionTimeout && ticks < 2 * r.electionTimeout, `timeout ${ticks}`);
    seen.add(ticks);
  }
  assert.ok(seen.size > 3, 'timeouts must vary between nodes');
});

test('§5.2 candidate becomes leader with votes from a majority and sends appends', () => {
  const r = newRaft(1, [1, 2, 3, 4, 5]);
  r.campaign('election');
  take(r);
  r.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
  assert.equal(r.state, StateType.Candidate, 'two of five is not a majority');
  r.step(msg({ type: MessageType.VoteResp, from: 3, to: 1, term: 2 }));
  assert.equal(r.state, StateType.Leader);
  assert.equal(r.lead, 1);
  // §5.4.2: the new leader appends an empty entry of its term.
  assert.equal(r.log.lastTerm(), 2);
  assert.equal(r.log.lastIndex(), 6);
});

test('§5.2 candidate returns to follower when a majority rejects it', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  r.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2, reject: true }));
  r.step(msg({ type: MessageType.VoteResp, from: 3, to: 1, term: 2, reject: true }));
  assert.equal(r.state, StateType.Follower);
  assert.equal(r.term, 2);
});

test('§5.2 a node grants at most one vote per term, first come first served', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 2, index: 3, logTerm: 1 }));
  r.step(msg({ type: MessageType.Vote, from: 3, to: 1, term: 2, index: 3, logTerm: 1 }));
  const resps = take(r).filter((m) => m.type === MessageType.VoteResp);
  assert.deepEqual(
    resps.map((m) => [m.to, m.reject]),
    [
      [2, false],
      [3, true],
    ],
  );
  assert.equal(r.vote, 2);
  // The same candidate asking again (a retransmission) gets the vote again.
  r.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 2, index: 3, logTerm: 1 }));
  assert.equal(take(r)[0]?.reject, false);
});

test('§5.2 candidate steps down when it hears from a leader of its term', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  r.step(msg({ type: MessageType.App, from: 2, to: 1, term: 2, index: 3, logTerm: 1 }));
  assert.equal(r.state, StateType.Follower);
  assert.equal(r.lead, 2);
  assert.equal(r.term, 2);
});

test('§5.4.1 a voter rejects a candidate whose log is less up-to-date', () => {
  const cases: [number, number, boolean][] = [
    // candidate lastIndex, lastTerm, expected grant (voter log: 3 entries of term 1, then 1 of term 2)
    [4, 2, true],
    [5, 2, true],
    [3, 2, true],
    [9, 1, false],
    [3, 3, true],
  ];
  for (const [index, logTerm, grant] of cases) {
    const r = newRaft(1, [1, 2, 3]);
    r.becomeFollower(2, NONE);
    r.log.append([{ index: 4, term: 2, type: 0, data: new Uint8Array() }]);
    // the voter holds [1,1,1,2]; a candidate at (3, 2) is shorter with the same last term
    r.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 3, index, logTerm }));
    const resp = take(r).find((m) => m.type === MessageType.VoteResp)!;
    const expected = logTerm > 2 || (logTerm === 2 && index >= 4);
    assert.equal(!resp.reject, expected && grant, `candidate (${index}, ${logTerm})`);
  }
});

test('§5.1 a higher term in any message makes a leader step down and adopt the term', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  r.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
  assert.equal(r.state, StateType.Leader);
  r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: 5 }));
  assert.equal(r.state, StateType.Follower);
  assert.equal(r.term, 5);
  assert.equal(r.vote, NONE);
});

test('§5.1 a stale-term append is answered with the current term so the old leader steps down', () => {
  const r = newRaft(1, [1, 2, 3], { checkQuorum: true });
  r.becomeFollower(5, 2);
  r.step(msg({ type: MessageType.App, from: 3, to: 1, term: 4, index: 3, logTerm: 1 }));
  const out = take(r);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.type, MessageType.AppResp);
  assert.equal(out[0]!.term, 5);
  assert.equal(r.log.lastIndex(), 3, 'the stale append is not applied');
});

test('§9.6 pre-vote: a partitioned node does not inflate its term and does not disrupt on return', () => {
  const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: true });
  c.elect(1);
  const term = c.node(1).basicStatus().term;
  c.isolate(3);
  c.tick([3], 100);
  assert.equal(c.node(3).basicStatus().term, term, 'pre-votes failed: term unchanged');
  assert.equal(c.node(3).basicStatus().state, StateType.PreCandidate);
  c.heal();
  c.tickAll(30);
  assert.equal(c.leader(), 1);
  assert.equal(c.node(1).basicStatus().term, term);
});

test('§9.6 without pre-vote a returning partitioned node forces a new election', () => {
  const c = new Cluster([1, 2, 3], { preVote: false, checkQuorum: false });
  c.elect(1);
  const term = c.node(1).basicStatus().term;
  c.isolate(3);
  c.tick([3], 100);
  assert.ok(c.node(3).basicStatus().term > term + 1);
  c.heal();
  c.tickAll(30);
  assert.ok(c.node(1).basicStatus().term > term + 1, 'the leader was disrupted');
});

test('§6.2 check-quorum: a leader that cannot hear a majority steps down', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote: true });
  c.elect(1);
  c.isolate(1);
  c.tick([1], 10);
  assert.equal(c.node(1).basicStatus().state, StateType.Leader, 'one round may still count old activity');
  c.tick([1], 10);
  assert.equal(c.node(1).basicStatus().state, StateType.Follower);
});

test('§4.2.3 a voter that heard from a leader within the election timeout ignores vote requests', () => {
  const r = newRaft(1, [1, 2, 3], { checkQuorum: true });
  r.becomeFollower(2, 2);
  r.step(msg({ type: MessageType.Heartbeat, from: 2, to: 1, term: 2 }));
  take(r);
  r.step(msg({ type: MessageType.Vote, from: 3, to: 1, term: 3, index: 10, logTerm: 2 }));
  assert.equal(r.term, 2, 'term not bumped by a disruptive candidate');
  assert.deepEqual(take(r), []);
});

test('§5.2 a learner never campaigns', () => {
  const r = newRaft(4, [1, 2, 3]);
  for (let i = 0; i < 100; i++) r.tick();
  assert.equal(r.state, StateType.Follower);
  assert.deepEqual(take(r), []);
});
