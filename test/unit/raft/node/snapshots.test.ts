// SnapshotReceiver (src/raft/node/snapshots.ts) against the real core: which staged install is
// handed to the Ready that persists a restored snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, SnapshotMeta } from '../../../../src/raft/core/types.js';
import { MessageType } from '../../../../src/raft/core/types.js';
import { openRawCore } from '../../../../src/raft/node/adapter.js';
import { SnapshotReceiver } from '../../../../src/raft/node/snapshots.js';
import { encodeChunk } from '../../../../src/raft/storage/appkv.js';
import { MemoryLogStore } from '../../../../src/raft/storage/memory.js';

const meta = (): SnapshotMeta => ({ index: 10, term: 5, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [] } });

function chunk(id: number, m: SnapshotMeta): Message {
  return {
    type: MessageType.Snap, from: 2, to: 1, term: 5, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    snapshot: { meta: m, data: encodeChunk([[new Uint8Array([id]), new Uint8Array([id])]]) }, snapOffset: 0, snapDone: true,
    context: new Uint8Array([id]),
  };
}

const settle = () => new Promise((r) => setImmediate(r));

// Seed 1112: the same snapshot re-sent by a new stream completed while the first was still
// pending in the core (its Ready taken, not yet advanced); the second install was kept as
// "handed", never taken, and the follower then dropped every later snapshot.
test('a re-sent stream completing while the same snapshot is pending is not handed over', async () => {
  const store = new MemoryLogStore();
  const { core } = await openRawCore({ id: 1, voters: [], store, electionTicks: 10, heartbeatTicks: 2, seed: 1 });
  const acks: Message[] = [];
  const rx = new SnapshotReceiver(store, core, (ms) => acks.push(...ms), (m) => core.step(m), (e) => { throw e; });
  const first = meta();
  rx.onChunk(chunk(1, first));
  await settle();
  assert.equal(core.pendingSnapshot(), first, 'the core restored the first stream');
  const rd = core.ready();
  assert.equal(rd.snapshot?.meta, first);
  const install = rx.take(first); // the Ready persisting it takes the staged keys
  assert.ok(install);
  rx.onChunk(chunk(2, meta())); // the same snapshot again, before advance()
  await settle();
  assert.throws(() => rx.take(first), /no streamed data/, 'nothing else is waiting to be taken');
  assert.deepEqual(acks.map((a) => a.reject), [false, false]);
  assert.equal(rx.stats.installs, 1);
});

test('while a restored snapshot waits for its Ready, new streams are dropped; afterwards they proceed', async () => {
  const store = new MemoryLogStore();
  const { core } = await openRawCore({ id: 1, voters: [], store, electionTicks: 10, heartbeatTicks: 2, seed: 1 });
  const acks: Message[] = [];
  const rx = new SnapshotReceiver(store, core, (ms) => acks.push(...ms), (m) => core.step(m), (e) => { throw e; });
  rx.onChunk(chunk(1, meta()));
  await settle();
  const newer: SnapshotMeta = { ...meta(), index: 20, term: 6 };
  rx.onChunk({ ...chunk(3, newer), term: 6 });
  await settle();
  assert.equal(acks.length, 1, 'the newer stream was dropped without an ack (the leader retries)');
  const rd = core.ready();
  await store.save({ snapshot: rd.snapshot!, installed: rx.take(rd.snapshot!.meta) });
  core.advance(rd);
  rx.onChunk({ ...chunk(4, newer), term: 6 });
  await settle();
  assert.equal(core.pendingSnapshot(), newer);
  assert.ok(rx.take(newer));
});
