// recover(): the in-memory state rebuilt from keys alone, and what a new leader redoes from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionApp } from '../../../src/partition/app.js';
import { encodeBatch } from '../../../src/partition/codec.js';
import { PartitionMachine } from '../../../src/partition/machine.js';
import { MemoryAppStore } from '../../../src/partition/memory.js';
import type { PartitionEffect } from '../../../src/partition/types.js';
import { EntryType, type Entry } from '../../../src/raft/core/types.js';
import { Harness, checkout, delivered, enqueue, observable, settle } from './helpers.js';

test('round trip: queues, ready order with delivery counts, checked-out messages, consumers, dead-letters, dedupe, clock', async () => {
  const h = new Harness();
  const a = await h.declare('a', { 'x-max-priority': 2, 'x-dead-letter-exchange': 'dlx' }, 100);
  const b = await h.declare('b', { 'x-message-ttl': 5000, 'x-expires': 60_000 }, 100);
  await h.run(
    enqueue(a, '1', { priority: 0, session: 'p', seq: 1, nowMs: 200 }), enqueue(a, '2', { priority: 2, session: 'p', seq: 2 }),
    enqueue(a, '3', { priority: 1 }), enqueue(a, '4'), enqueue(b, 'b1', { nowMs: 300 }),
  );
  await h.run(checkout(a, 'c1', 2), checkout(a, 'c2', 1, { session: 's2' }));
  await h.run(settle('return', a, 'c1', [2]), settle('discard', a, 'c1', [3]));
  const m = await h.recovered();
  assert.deepEqual(observable(m), observable(h.machine));
  assert.deepEqual(m.readyMessages(a), h.machine.readyMessages(a));
  assert.equal(m.dedupeSeq('p'), 2);
  assert.equal(m.clockMs, 300);
  assert.deepEqual(m.deadLetterIds(a), [3]);
  assert.deepEqual(m.queue(b)?.nextDeadlineMs, 5300);
  assert.equal(m.queueId('/', 'b'), b);
});

test('after a restart of the whole partition, sessionDown returns what dead frontends held as redelivered', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), enqueue(q, 'b'), enqueue(q, 'c'), checkout(q, 'c1', 2, { session: 'old' }));
  h.machine = await h.recovered();
  assert.deepEqual(h.machine.checkedOut(q).map((c) => [c.msgId, c.session]), [[1, 'old'], [2, 'old']], 'consumers are replicated state');
  await h.run({ kind: 'sessionDown', session: 'old', nowMs: 0 });
  assert.deepEqual(h.machine.readyMessages(q).map((r) => [r.msgId, r.redelivered, r.deliveryCount]), [[1, true, 1], [2, true, 1], [3, false, 0]]);
  const out = await h.run(checkout(q, 'c1', 0, { session: 'new' }));
  assert.deepEqual(delivered(out.effects), ['c1:1', 'c1:2', 'c1:3']);
});

test('resumeEffects: a new leader re-sends deliveries of checked-out messages and in-flight dead-letters, from keys alone', async () => {
  const h = new Harness();
  const q = await h.declare('q', { 'x-dead-letter-exchange': 'dlx' });
  await h.run(enqueue(q, 'a'), enqueue(q, 'b'), enqueue(q, 'c'), checkout(q, 'c1', 0));
  await h.run(settle('discard', q, 'c1', [2]), { kind: 'get', queue: q, session: 's1', consumer: 'g', noAck: false, nowMs: 0 });
  const m = await h.recovered();
  const fx = m.resumeEffects();
  assert.deepEqual(fx.map((e) => e.kind === 'deliver' ? `deliver ${e.consumer}:${e.msgId}` : e.kind === 'deadLetter' ? `deadLetter ${e.msgId} #${e.seq}` : e.kind),
    ['deliver c1:1', 'deliver c1:3', 'deadLetter 2 #1']);
  assert.deepEqual(fx, h.machine.resumeEffects());
});

function entry(index: number, data: Uint8Array, type: Entry['type'] = EntryType.Normal, term = 1): Entry {
  return { term, index, type, data };
}

/** A PartitionApp over a memory store, with its effects collected and one-entry applies. */
async function appHarness(): Promise<{
  app: PartitionApp; seen: PartitionEffect[][];
  apply: (i: number, data: Uint8Array, type?: Entry['type'], term?: number) => Promise<unknown>;
}> {
  const seen: PartitionEffect[][] = [];
  const app = new PartitionApp(new PartitionMachine(), (fx) => seen.push([...fx]));
  const store = new MemoryAppStore();
  await app.recover({ appliedIndex: 0, store, reason: 'start' });
  const apply = async (i: number, data: Uint8Array, type: Entry['type'] = EntryType.Normal, term = 1): Promise<unknown> => {
    const b = store.batch();
    const r = await app.apply([entry(i, data, type, term)], b);
    b.commit();
    return r;
  };
  return { app, seen, apply };
}

const declareData = encodeBatch([{ kind: 'declare', vhost: '/', name: 'q', arguments: new Uint8Array(0), nowMs: 1 }]);

test('PartitionApp: effects only while leading; a new leader gets resumeEffects once it applied an entry of its term; ConfChange entries apply nothing', async () => {
  const { app, seen, apply } = await appHarness();
  app.roleChanged({ term: 1, leader: 2, isLeader: false });
  assert.deepEqual(await apply(1, declareData), [[]], 'no results for entries of a term another replica led: nobody here waits');
  await apply(2, encodeBatch([enqueue(1, 'a'), checkout(1, 'c1', 0)]));
  assert.deepEqual(seen, [], 'a follower carries out nothing');
  assert.deepEqual(await apply(3, new Uint8Array([8, 1]), EntryType.ConfChange), [[]]);
  assert.equal(app.serving, false, 'a follower serves no requests');
  app.roleChanged({ term: 2, leader: 1, isLeader: true });
  assert.deepEqual(seen, [], 'no resume before an entry of the new term is applied');
  assert.equal(app.serving, false, 'nor does a leader before it applied an entry of its term');
  await apply(4, new Uint8Array(0), EntryType.Normal, 2); // the new leader's no-op
  assert.equal(app.serving, true);
  assert.deepEqual(seen.map((fx) => delivered(fx)), [['c1:1']]);
  assert.deepEqual(await apply(5, encodeBatch([enqueue(1, 'b')]), EntryType.Normal, 2), [[{ kind: 'enqueued', outcomes: ['accepted'], msgIds: [2] }]]);
  assert.deepEqual(seen.map((fx) => delivered(fx)), [['c1:1'], ['c1:2']]);
  app.roleChanged({ term: 2, leader: 1, isLeader: true });
  assert.equal(seen.length, 2, 'no resume without a change of role');
});

test('PartitionApp: results for entries of any term this replica may have led, or whose leader it does not know', async () => {
  const { app, apply } = await appHarness();
  const declared = [[{ kind: 'declared', queue: 1, created: true, messageCount: 0, consumerCount: 0 }]];
  // Its own term's entries can be applied before the driver reports the election.
  assert.deepEqual(await apply(1, declareData), declared, 'no role reported yet');
  app.roleChanged({ term: 2, leader: 0, isLeader: false });
  assert.deepEqual(await apply(2, encodeBatch([enqueue(1, 'a')]), EntryType.Normal, 2), [[{ kind: 'enqueued', outcomes: ['accepted'], msgIds: [1] }]],
    'a term without a known leader');
  app.roleChanged({ term: 2, leader: 3, isLeader: false });
  assert.deepEqual(await apply(3, encodeBatch([enqueue(1, 'b')]), EntryType.Normal, 2), [[]], 'term 2 is led by n3');
  app.roleChanged({ term: 3, leader: 1, isLeader: true });
  app.roleChanged({ term: 4, leader: 2, isLeader: false });
  // A proposal of term 3, made while leading, may still wait here: its entries commit under term 4.
  assert.deepEqual(await apply(4, encodeBatch([enqueue(1, 'c')]), EntryType.Normal, 3), [[{ kind: 'enqueued', outcomes: ['accepted'], msgIds: [3] }]]);
  assert.deepEqual(await apply(5, encodeBatch([enqueue(1, 'd')]), EntryType.Normal, 4), [[]]);
});

// Regression (simulator, partition mode: seeds 1 and 2 of `npm run sim -- --app partition` before
// the fix): a new leader resumed from a state lagging entries committed in earlier terms, and
// handed a consumer again a message whose ack the old leader had already committed.
test('PartitionApp: a new leader behind on committed entries does not re-deliver a message acked in an earlier term', async () => {
  const { app, seen, apply } = await appHarness();
  await apply(1, declareData);
  await apply(2, encodeBatch([enqueue(1, 'a'), checkout(1, 'c1', 0)]));
  // Elected before applying index 3 (committed by the old leader): c1 acked message 1 there.
  app.roleChanged({ term: 2, leader: 1, isLeader: true });
  await apply(3, encodeBatch([settle('settle', 1, 'c1', [1]), enqueue(1, 'b')]));
  assert.deepEqual(seen, [], 'entries of earlier terms hand out no deliveries (the old leader did)');
  await apply(4, new Uint8Array(0), EntryType.Normal, 2);
  assert.deepEqual(seen.map((fx) => delivered(fx)), [['c1:2']], 'only the message c1 still holds is re-issued');
});

// Regression (simulator, partition mode, seed 18 before the fix): a delivery the frontend refused
// for a consumer being cancelled was to be returned by the leader, which died first; the next
// leader's resume skipped holders that are no consumers any more, so the message stayed checked
// out to a cancelled consumer whose client never saw it.
test('resumeEffects: messages held by a consumer cancelled since are re-issued too, and a rebuilt replica agrees', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), checkout(q, 'c1', 2));
  await h.run(enqueue(q, 'b'), enqueue(q, 'c'));
  await h.run({ kind: 'get', queue: q, session: 's1', consumer: 'g', noAck: false, nowMs: 0 }, { kind: 'cancel', queue: q, session: 's1', consumer: 'c1', nowMs: 0 });
  const show = (fx: PartitionEffect[]): string[] => fx.map((e) => (e.kind === 'deliver' ? `${e.consumer}:${e.msgId}` : e.kind));
  assert.deepEqual(h.machine.checkedOut(q).map((c) => `${c.consumer}:${c.msgId}`), ['c1:1', 'c1:2', 'g:3']);
  assert.deepEqual(show(h.machine.resumeEffects()), ['c1:1', 'c1:2'], 'not the basic.get one: its answer went to the proposer');
  const m = await h.recovered();
  assert.deepEqual(m.resumeEffects(), h.machine.resumeEffects());
});
