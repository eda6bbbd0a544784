// A replica whose disk was wiped comes back with the same id (issue 8's "owner wiped"): the leader
// must replicate to it from scratch although it counts it as having acknowledged entries, and
// the wiped replica must neither crash on the leader's heartbeat nor vote for a candidate that has
// moved past the bootstrap log before it has caught up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, NONE, type Message } from '../../../../src/raft/core/index.js';
import { openRawCore } from '../../../../src/raft/node/adapter.js';
import type { RaftCore } from '../../../../src/raft/node/core.js';
import { MemoryLogStore } from '../../../../src/raft/storage/memory.js';
import { electWith, ent, msg, newRaft, persistAll, take } from '../core/harness.js';

test('a leader told by a follower that its log ends below its match replicates to it from the start', () => {
  const leader = newRaft(1, [1, 2, 3]);
  leader.becomeFollower(2, NONE);
  leader.log.append([4, 5, 6, 7, 8].map((i) => ent(i, 2, `e${i}`)));
  persistAll(leader);
  electWith(leader, 3); // term 3, empty entry at 9
  leader.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: leader.term, index: 9 }));
  assert.equal(leader.prs.get(2)!.match, 9);
  const commit = leader.log.committed;
  take(leader);
  // Follower 2 came back empty (bootstrap entries only) and rejects an append at 9.
  leader.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: leader.term, index: 9, reject: true, rejectHint: 3, logTerm: 1 }));
  assert.equal(leader.prs.get(2)!.match, 0);
  assert.equal(leader.log.committed, commit, 'commit never moves back');
  const sent = take(leader).filter((m) => m.to === 2 && m.type === MessageType.App);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.index, 0, 'replication restarts at the first entry');
  assert.equal(sent[0]!.entries.at(-1)?.index, 9);
});

async function freshCore(): Promise<RaftCore> {
  return openRawCore({ id: 2, voters: [1, 2, 3], store: new MemoryLogStore(), electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false })
    .then((x) => x.core);
}

function drain(core: RaftCore): Message[] {
  const out: Message[] = [];
  while (core.hasReady()) {
    const rd = core.ready();
    out.push(...rd.messages);
    core.advance(rd);
  }
  return out;
}

test('a replica on empty storage votes only for candidates still at the bootstrap log', async () => {
  const core = await freshCore();
  core.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 7, index: 40, logTerm: 6 }));
  assert.deepEqual(drain(core).filter((m) => m.type === MessageType.VoteResp), [], 'dropped, as if lost');
  assert.equal(core.status().term, 1, 'nor did it move to the candidate\'s term');
  core.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 2, index: 3, logTerm: 1 }));
  const votes = drain(core).filter((m) => m.type === MessageType.VoteResp);
  assert.equal(votes.length, 1);
  assert.equal(votes[0]!.reject, false, 'a brand-new group still elects its first leader');
});

test('a wiped replica rejects a heartbeat beyond its log instead of crashing, then catches up and votes normally', async () => {
  const core = await freshCore();
  core.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 5, commit: 9 }));
  const rejects = drain(core).filter((m) => m.type === MessageType.AppResp && m.reject);
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]!.rejectHint, 3, 'it tells the leader where its log ends');
  // The leader sends everything from the start, committed up to an entry of its term.
  const entries = [ent(4, 2), ent(5, 5)];
  core.step(msg({ type: MessageType.App, from: 1, to: 2, term: 5, index: 3, logTerm: 1, entries, commit: 5 }));
  drain(core);
  assert.equal(core.status().commit, 5);
  core.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 6, index: 5, logTerm: 5 }));
  const votes = drain(core).filter((m) => m.type === MessageType.VoteResp);
  assert.equal(votes.length, 1, 'caught up: it votes again');
  assert.equal(votes[0]!.reject, false);
});
