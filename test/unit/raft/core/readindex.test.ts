// Linearizable reads without leases (Raft thesis §6.4, ReadIndex).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, ProposalDroppedError } from '../../../../src/raft/core/index.js';
import { Cluster, msg, newRaft, take, utf8 } from './harness.js';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test('§6.4 the leader answers a read at its commit index after a heartbeat quorum', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.propose(1, 'a');
  const commit = c.node(1).basicStatus().commit;
  c.node(1).readIndex(utf8('r1'));
  c.stabilize();
  const rs = c.get(1).readStates;
  assert.equal(rs.length, 1);
  assert.equal(rs[0]!.index, commit);
  assert.equal(dec(rs[0]!.requestCtx), 'r1');
  assert.ok(c.messagesOfType(MessageType.Heartbeat).some((m) => m.context !== undefined && dec(m.context) === 'r1'));
});

test('§6.4 a leader cut off from the majority cannot answer reads', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.isolate(1);
  c.node(1).readIndex(utf8('r2'));
  c.stabilize();
  c.tick([1], 3);
  assert.equal(c.get(1).readStates.length, 0);
  c.heal();
  c.tick([1], 1); // the next heartbeat carries the pending context
  assert.equal(c.get(1).readStates.length, 1);
});

test('§6.4 a follower read is forwarded and answered with the leader\'s commit index', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.propose(1, 'a');
  c.node(3).readIndex(utf8('f'));
  c.stabilize();
  const rs = c.get(3).readStates;
  assert.equal(rs.length, 1);
  assert.equal(rs[0]!.index, c.node(1).basicStatus().commit);
});

test('§6.4 a new leader defers reads until it has committed an entry of its term', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.campaign('election');
  r.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
  take(r);
  r.step(msg({ type: MessageType.ReadIndex, from: 1, to: 1, context: utf8('early') }), true);
  assert.equal(take(r).filter((m) => m.type === MessageType.Heartbeat).length, 0, 'no read round yet');
  r.prs.get(1)!.maybeUpdate(4);
  r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 2, index: 4 }));
  const hbs = take(r).filter((m) => m.type === MessageType.Heartbeat);
  assert.ok(hbs.length > 0 && hbs.every((m) => dec(m.context!) === 'early'));
  r.step(msg({ type: MessageType.HeartbeatResp, from: 3, to: 1, term: 2, context: utf8('early') }));
  assert.deepEqual(r.readStates.map((s) => [s.index, dec(s.requestCtx)]), [[4, 'early']]);
});

test('§6.4 a read with no known leader is refused', () => {
  const r = newRaft(1, [1, 2, 3]);
  assert.throws(() => r.step(msg({ type: MessageType.ReadIndex, from: 1, to: 1, context: utf8('x') }), true), ProposalDroppedError);
});
