// Snapshots and InstallSnapshot (Raft §7), sent in chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, type Snapshot } from '../../../../src/raft/core/index.js';
import { Cluster, msg, newRaft, take, utf8 } from './harness.js';

test('§7 a follower behind the compaction point is brought up by a chunked InstallSnapshot', () => {
  const c = new Cluster([1, 2, 3], { maxSnapshotChunkBytes: 4 });
  c.elect(1);
  c.isolate(3);
  c.heal();
  c.cutLink(1, 3);
  c.cutLink(2, 3);
  for (let i = 0; i < 10; i++) c.propose(1, `v${i}`);
  const leader = c.get(1);
  const applied = leader.node.status().applied;
  leader.storage.createSnapshot(applied, leader.node.confStateAt(applied), utf8(`state-through-${applied}`));
  leader.storage.compact(applied);
  c.heal();
  c.sent = [];
  c.tickAll(3);
  const chunks = c.messagesOfType(MessageType.Snap).filter((m) => m.to === 3);
  assert.ok(chunks.length >= 4, `snapshot sent in ${chunks.length} chunks`);
  assert.deepEqual(
    chunks.slice(0, 3).map((m) => m.snapOffset),
    [0, 4, 8],
  );
  assert.equal(chunks.filter((m) => m.snapDone === true).length >= 1, true);
  const f = c.get(3);
  assert.equal(f.storage.snapshot().meta.index, applied);
  assert.equal(new TextDecoder().decode(f.storage.snapshot().data), `state-through-${applied}`);
  c.propose(1, 'after');
  assert.deepEqual(c.appliedData(3), ['after'], 'the follower continues from the snapshot');
});

function snap(index: number, term: number, data: string): Snapshot {
  return { meta: { index, term, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [] } }, data: utf8(data) };
}

test('§7 chunks that arrive out of order are dropped; an in-order resend installs the snapshot', () => {
  const r = newRaft(2, [1, 2, 3]);
  const s = snap(20, 2, 'abcdefgh');
  const chunk = (off: number, done: boolean): void =>
    r.step(
      msg({
        type: MessageType.Snap,
        from: 1,
        to: 2,
        term: 2,
        snapshot: { meta: s.meta, data: s.data.subarray(off, off + 4) },
        snapOffset: off,
        snapDone: done,
      }),
    );
  chunk(4, true);
  assert.equal(r.log.committed, 3, 'a chunk without its predecessor is ignored');
  chunk(0, false);
  chunk(4, true);
  assert.equal(r.log.committed, 20);
  assert.equal(new TextDecoder().decode(r.log.unstable.snapshot!.data), 'abcdefgh');
  const ack = take(r).find((m) => m.type === MessageType.AppResp)!;
  assert.equal(ack.index, 20);
});

test('§7 a snapshot that is not newer than the commit index is ignored', () => {
  const r = newRaft(2, [1, 2, 3]);
  r.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: snap(2, 1, 'old'), snapOffset: 0, snapDone: true }));
  assert.equal(r.log.unstable.snapshot, undefined);
  const ack = take(r).find((m) => m.type === MessageType.AppResp)!;
  assert.equal(ack.index, 3, 'answers with its commit index');
});

test('§7 a restarted node recovers from its snapshot plus the log after it (sim seed 3)', () => {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  for (let i = 0; i < 5; i++) c.propose(1, `v${i}`);
  const n2 = c.get(2);
  const applied = n2.node.status().applied;
  // The snapshot is newer than the compaction point: entries are kept below it (for followers).
  n2.storage.createSnapshot(applied - 2, n2.node.confStateAt(applied - 2), utf8('s'));
  n2.storage.compact(applied - 4);
  c.crash(2);
  c.restart(2);
  c.stabilize();
  // After restart the node re-applies the committed entries after its snapshot, no earlier ones.
  assert.deepEqual(c.appliedData(2), ['v3', 'v4']);
  assert.equal(c.node(2).status().applied, applied);
});
