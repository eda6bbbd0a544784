// Log replication (Raft §5.3), the commit rule (§5.4.2, Figure 8), pipelining and batching,
// and the Ready/advance contract (persist before send, apply only what is durable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Raft } from '../../../../src/raft/core/raft.js';
import { MemoryStorage, MessageType, NONE, RawNode, bootstrap, type Message } from '../../../../src/raft/core/index.js';
import { Cluster, baseConfig, electWith, ent, msg, newRaft, persistAll, take, utf8 } from './harness.js';

function prop(r: Raft, data: string): void {
  r.step(msg({ type: MessageType.Prop, from: r.id, to: r.id, entries: [ent(0, 0, data)] }), true);
}

test('§5.3 the leader replicates a proposal and every node applies it once committed', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.propose(1, 'a');
  c.propose(2, 'b'); // a follower forwards to the leader
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedData(id), ['a', 'b']);
});

test('§5.3 an entry is committed only once a majority stores it', () => {
  const c = new Cluster([1, 2, 3, 4, 5]);
  c.elect(1);
  c.cutLink(1, 3);
  c.cutLink(1, 4);
  c.cutLink(1, 5);
  c.propose(1, 'x');
  assert.deepEqual(c.appliedData(1), [], 'two of five is not a majority');
  c.heal();
  c.tickAll(2);
  for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(c.appliedData(id), ['x']);
});

test('§5.3 the leader counts its own log only once persisted (advance), never before', () => {
  const storage = new MemoryStorage();
  bootstrap(storage, [1]);
  const n = new RawNode(baseConfig(1, storage));
  n.campaign();
  const drain = (): void => {
    while (n.hasReady()) {
      const rd = n.ready();
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
      n.advance(rd);
    }
  };
  drain();
  n.propose(utf8('p'));
  const rd = n.ready();
  assert.equal(rd.entries.length, 1);
  assert.equal(rd.committedEntries.length, 0, 'not committed before it is durable');
  const commitBefore = n.basicStatus().commit;
  storage.append(rd.entries);
  n.advance(rd);
  assert.equal(n.basicStatus().commit, commitBefore + 1);
  const rd2 = n.ready();
  assert.equal(rd2.hardState?.commit, commitBefore + 1);
  assert.deepEqual(rd2.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['p']);
});

test('§5.3 a follower acknowledges entries in the same Ready that persists them', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  const f = c.node(2);
  const lead = c.node(1);
  lead.propose(utf8('v'));
  c.processReady(1);
  const app = c.queue.find((m) => m.type === MessageType.App && m.to === 2)!;
  c.queue = [];
  f.step(app);
  const rd = f.ready();
  assert.equal(rd.entries.length, 1);
  const ack = rd.messages.find((m) => m.type === MessageType.AppResp)!;
  assert.equal(ack.index, rd.entries[0]!.index, 'the ack covers exactly what this Ready persists');
  f.advance(rd);
});

test('§5.3 a follower deletes a conflicting suffix; the leader backs off a whole term per round trip', () => {
  const leader = newRaft(1, [1, 2, 3]);
  leader.becomeFollower(3, NONE);
  leader.log.append([4, 5, 6, 7, 8].map((i) => ent(i, 3, `L${i}`)));
  persistAll(leader);
  electWith(leader, 3); // term 4, empty entry at 9
  const follower = newRaft(2, [1, 2, 3]);
  follower.becomeFollower(2, NONE);
  follower.log.append([...Array(17).keys()].map((k) => ent(4 + k, 2, `F${4 + k}`))); // 4..20 term 2
  persistAll(follower);
  let rejects = 0;
  let toFollower = take(leader).filter((m) => m.to === 2);
  for (let round = 0; round < 20 && toFollower.length > 0; round++) {
    const back: Message[] = [];
    for (const m of toFollower) {
      follower.step(m);
      persistAll(follower);
      back.push(...take(follower));
    }
    rejects += back.filter((m) => m.type === MessageType.AppResp && m.reject).length;
    for (const m of back) leader.step(m);
    toFollower = take(leader).filter((m) => m.to === 2 && m.type === MessageType.App);
  }
  assert.ok(rejects <= 1, `fast back-off: ${rejects} rejections for 5 conflicting indexes`);
  const terms = (r: Raft): number[] => [...Array(r.log.lastIndex()).keys()].map((i) => r.log.term(i + 1)!);
  assert.deepEqual(terms(follower), terms(leader));
  assert.deepEqual(terms(follower), [1, 1, 1, 3, 3, 3, 3, 3, 4]);
});

test('§5.4.2 Figure 8: a leader does not commit an entry of an earlier term by counting replicas', () => {
  const r = newRaft(1, [1, 2, 3]);
  r.becomeFollower(2, NONE);
  r.log.append([ent(4, 2, 'old')]);
  persistAll(r);
  electWith(r, 2); // term 3; its empty entry is index 5
  assert.equal(r.log.committed, 3);
  r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 4 }));
  assert.equal(r.log.committed, 3, 'index 4 (term 2) is on a majority but must not be committed');
  r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 5 }));
  assert.equal(r.log.committed, 5, 'committing the term-3 entry commits everything before it');
});

test('pipelining: in Replicate state the leader keeps up to maxInflightMsgs appends in flight', () => {
  const r = newRaft(1, [1, 2, 3], { maxInflightMsgs: 3 });
  electWith(r, 2);
  r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: r.log.lastIndex() }));
  take(r);
  for (let i = 0; i < 5; i++) prop(r, `p${i}`);
  const to2 = take(r).filter((m) => m.type === MessageType.App && m.to === 2);
  assert.equal(to2.length, 3, 'three appends in flight before any answer');
  r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: to2[0]!.index + 1 }));
  const more = take(r).filter((m) => m.type === MessageType.App && m.to === 2);
  assert.equal(more.length, 1, 'one slot freed, one more append (carrying the rest)');
  assert.equal(more[0]!.entries.length, 2);
});

test('batching: an append carries at most maxSizePerMsgBytes of entries (but at least one)', () => {
  const r = newRaft(1, [1, 2, 3], { maxSizePerMsgBytes: 250 });
  electWith(r, 2);
  take(r);
  for (let i = 0; i < 10; i++) prop(r, 'x'.repeat(100));
  persistAll(r);
  take(r);
  r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: 4 }));
  const apps = take(r).filter((m) => m.type === MessageType.App && m.to === 2);
  assert.ok(apps.length >= 5);
  for (const m of apps) assert.ok(m.entries.length >= 1 && m.entries.length <= 2);
  assert.equal(apps.reduce((n, m) => n + m.entries.length, 0), 10);
});

test('§5.3 a lost append stalls nothing: the heartbeat response restarts replication', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.filter = (m) => !(m.type === MessageType.App && m.to === 3); // heartbeats still arrive
  c.propose(1, 'a');
  c.propose(1, 'b');
  c.propose(1, 'c');
  c.filter = undefined;
  assert.deepEqual(c.appliedData(3), []);
  c.tickAll(3);
  assert.deepEqual(c.appliedData(3), ['a', 'b', 'c']);
});
