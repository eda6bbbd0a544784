// Each partition command through the machine: results, effects, and the keys it leaves (every
// Harness.apply also checks the accounting invariant and that the store holds exactly the live
// messages' records).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord } from '../../../src/partition/codec.js';
import { deadLetterMessage } from '../../../src/partition/deadletter.js';
import { readRecord } from '../../../src/partition/read.js';
import { recordKey, stateKey } from '../../../src/partition/keys.js';
import type { DeadLetterEffect } from '../../../src/partition/types.js';
import {
  Harness, checkout, declare, delivered, deliveries, enqueue, header, only, settle, text, tick,
} from './helpers.js';

const body = (r: Uint8Array | undefined): string => new TextDecoder().decode(decodeRecord(r as Uint8Array).body);

test('declare: ids are assigned 1, 2, ...; a redeclare answers the existing id with counts', async () => {
  const h = new Harness();
  assert.equal(await h.declare('a'), 1);
  assert.equal(await h.declare('b'), 2);
  await h.run(enqueue(2, 'x'));
  assert.deepEqual(only(await h.run(declare('b'))), { kind: 'declared', queue: 2, created: false, messageCount: 1, consumerCount: 0 });
  assert.equal(h.machine.queueId('/', 'b'), 2);
  assert.equal(h.machine.queueId('other', 'b'), undefined);
});

test('declare: arguments travel as a field table; ones the metadata layer would refuse are answered invalid', async () => {
  const h = new Harness();
  const r = only(await h.run(declare('q', { 'x-max-length': -1 })));
  assert.equal(r.kind === 'invalid' && r.code, 406);
  // A wire type survives the log: a string where an integer is due is refused.
  const t = only(await h.run(declare('q', { 'x-message-ttl': 'soon' })));
  assert.equal(t.kind === 'invalid' && /x-message-ttl.*longstr/.test(t.text), true);
  assert.deepEqual(h.machine.queueIds(), []);
});

test('enqueue: stores the Enqueue bytes as the record under q/<queue>/<msgId>, no body in memory', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  const out = await h.run(enqueue(q, 'hello', { routingKey: 'k', header: header({ contentType: 'text/plain' }, 5) }));
  assert.deepEqual(only(out), { kind: 'enqueued', outcomes: ['accepted'], msgIds: [1] });
  const rec = await h.store.get(recordKey(q, 1));
  const r = decodeRecord(rec as Uint8Array);
  assert.equal(r.routingKey, 'k');
  assert.equal(new TextDecoder().decode(r.body), 'hello');
  assert.equal(await h.store.get(stateKey(q, 1)), undefined, 'a fresh ready message has no state key');
  assert.deepEqual(h.machine.readyMessages(q), [{ msgId: 1, deliveryCount: 0, redelivered: false, bytes: 5 }]);
});

test('enqueue: one command for several queues; unknown queues answer noQueue; overflow rejects', async () => {
  const h = new Harness();
  const a = await h.declare('a');
  const b = await h.declare('b', { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
  await h.run(enqueue(b, 'fill'));
  assert.deepEqual(only(await h.run(enqueue([a, b, 99], 'm'))), {
    kind: 'enqueued', outcomes: ['accepted', 'rejected', 'noQueue'], msgIds: [1, 0, 0],
  });
  assert.equal(h.machine.queue(b)?.messageCount, 1);
});

test('enqueue: (session, seq) at or below the highest applied is a duplicate and changes nothing', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a', { session: 'p', seq: 1 }), enqueue(q, 'b', { session: 'p', seq: 2 }));
  const before = h.store.dump();
  const out = await h.run(enqueue(q, 'b again', { session: 'p', seq: 2 }), enqueue(q, 'a again', { session: 'p', seq: 1 }));
  assert.deepEqual(out.results, [[{ kind: 'duplicate' }, { kind: 'duplicate' }]]);
  assert.deepEqual(h.store.dump(), before);
  assert.deepEqual(only(await h.run(enqueue(q, 'c', { session: 'p', seq: 3 }))), { kind: 'enqueued', outcomes: ['accepted'], msgIds: [3] });
  // Other sessions and unsessioned enqueues are independent.
  assert.equal(only(await h.run(enqueue(q, 'd', { session: 'other', seq: 1 }))).kind, 'enqueued');
  assert.equal(only(await h.run(enqueue(q, 'e'))).kind, 'enqueued');
  assert.equal(h.machine.dedupeSeq('p'), 3);
});

test('checkout: delivers within prefetch, round-robin; a delivery of a message enqueued in the same entry carries its record', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), enqueue(q, 'b'), enqueue(q, 'c'));
  const out = await h.run(checkout(q, 'c1', 1), checkout(q, 'c2', 1));
  assert.deepEqual(delivered(out.effects), ['c1:1', 'c2:2']);
  assert.equal(deliveries(out.effects)[0]?.record, undefined, 'stored by an earlier entry: read it from the store');
  assert.equal(body(await readRecord(h.store, q, 1)), 'a');
  const state = await h.store.get(stateKey(q, 1));
  assert.ok(state !== undefined, 'a checked-out message has a state key naming its holder');
  const live = await h.run(settle('settle', q, 'c1', [1]), enqueue(q, 'd'));
  assert.deepEqual(delivered(live.effects), ['c1:3']);
  const fresh = await h.run(settle('settle', q, 'c1', [3]), settle('settle', q, 'c2', [2]), enqueue(q, 'e'));
  assert.deepEqual(delivered(fresh.effects), ['c1:4', 'c2:5']);
  assert.equal(body(deliveries(fresh.effects)[1]?.record), 'e');
});

test('settle deletes record and state; settling another consumer\'s or an unknown message changes nothing', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), checkout(q, 'c1', 0));
  await h.run(settle('settle', q, 'c2', [1]), settle('settle', q, 'c1', [7]));
  assert.equal(h.machine.checkedOut(q).length, 1);
  await h.run(settle('settle', q, 'c1', [1]));
  assert.equal(await h.store.get(recordKey(q, 1)), undefined);
  assert.equal(await h.store.get(stateKey(q, 1)), undefined);
  assert.equal(h.checker.tally.settled, 1);
});

test('return: back at its position, redelivered, delivery count written to its state key', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), enqueue(q, 'b'), checkout(q, 'c1', 1));
  await h.run({ kind: 'cancel', queue: q, session: 's1', consumer: 'c1', nowMs: 0 });
  await h.run(settle('return', q, 'c1', [1]));
  assert.deepEqual(h.machine.readyMessages(q).map((m) => [m.msgId, m.deliveryCount, m.redelivered]), [[1, 1, true], [2, 0, false]]);
  const m = await h.recovered();
  assert.deepEqual(m.readyMessages(q), h.machine.readyMessages(q), 'the count survives a rebuild from keys');
  const out = await h.run(checkout(q, 'c2', 0));
  assert.deepEqual(deliveries(out.effects).map((d) => [d.msgId, d.redelivered, d.deliveryCount]), [[1, true, 1], [2, false, 0]]);
});

test('discard with a DLX: deadLetter effect, record kept until deadLettered; without one: dropped', async () => {
  const h = new Harness();
  const q = await h.declare('q', { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead' });
  const p = await h.declare('plain');
  await h.run(enqueue(q, 'a', { header: header({ headers: { CC: ['x'] } }) }), enqueue(p, 'b'));
  await h.run(checkout(q, 'c1', 0, { nowMs: 5000 }), checkout(p, 'c1', 0));
  const out = await h.run(settle('discard', q, 'c1', [1]), settle('discard', p, 'c1', [1]));
  const dl = out.effects.find((e): e is DeadLetterEffect => e.kind === 'deadLetter');
  assert.ok(dl);
  assert.deepEqual([dl.queue, dl.msgId, dl.seq, dl.reason, dl.exchange, dl.routingKey, dl.atMs], [q, 1, 1, 'rejected', 'dlx', 'dead', 5000]);
  assert.deepEqual(h.machine.deadLetterIds(q), [1]);
  assert.equal(h.machine.queue(q)?.messageCount, 0);
  const copy = deadLetterMessage(await readRecord(h.store, q, 1) as Uint8Array, dl);
  assert.equal(copy.exchange, 'dlx');
  assert.equal(copy.routingKey, 'dead');
  const death = (copy.message.properties.headers?.['x-death'] as Record<string, unknown>[])[0];
  assert.equal(death?.['reason'], 'rejected');
  assert.equal(death?.['queue'], 'q');
  assert.equal(copy.message.properties.headers?.['CC'], undefined, 'CC dropped with x-dead-letter-routing-key');
  assert.deepEqual(h.checker.tally, { stored: 2, settled: 0, autoAcked: 0, deadLettered: 1, dropped: 1, purged: 0, deleted: 0 });
  await h.run({ kind: 'deadLettered', queue: q, msgIds: [1, 42], nowMs: 0 });
  assert.deepEqual(h.machine.deadLetterIds(q), []);
  assert.equal(await h.store.get(recordKey(q, 1)), undefined);
});

test('cancel keeps held messages checked out (still ackable); recover returns them', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), checkout(q, 'c1', 0));
  await h.run({ kind: 'cancel', queue: q, session: 's1', consumer: 'c1', nowMs: 0 });
  assert.equal(h.machine.queue(q)?.consumerCount, 0);
  assert.equal(h.machine.checkedOut(q).length, 1);
  await h.run({ kind: 'recover', queue: q, session: 's1', consumer: 'c1', nowMs: 0 });
  assert.deepEqual(h.machine.readyMessages(q), [{ msgId: 1, deliveryCount: 1, redelivered: true, bytes: 1 }]);
});

test('down: the channel\'s consumers and getters go, their messages return; queue 0 = every queue', async () => {
  const h = new Harness();
  const a = await h.declare('a');
  const b = await h.declare('b');
  await h.run(enqueue(a, '1'), enqueue(b, '2'), checkout(a, 'c1', 0), { kind: 'get', queue: b, session: 's1', consumer: 'g1', noAck: false, nowMs: 0 });
  assert.equal(h.machine.checkedOut(b).length, 1);
  await h.run({ kind: 'down', queue: 0, session: 's1', consumers: ['c1', 'g1'], nowMs: 0 });
  assert.equal(h.machine.queue(a)?.consumerCount, 0);
  assert.deepEqual([h.machine.readyIds(a), h.machine.readyIds(b)], [[1], [1]]);
});

test('get: ack mode checks out and returns the record; noAck deletes it and still returns it', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'a'), enqueue(q, 'b'));
  const g = only(await h.run({ kind: 'get', queue: q, session: 's1', consumer: 'g', noAck: false, nowMs: 0 }));
  assert.equal(g.kind === 'got' && g.message !== undefined && body(g.message.record), 'a');
  assert.equal(g.kind === 'got' && g.message?.messageCount, 1);
  const n = only(await h.run({ kind: 'get', queue: q, session: 's1', consumer: 'g', noAck: true, nowMs: 0 }));
  assert.equal(n.kind === 'got' && n.message !== undefined && body(n.message.record), 'b');
  assert.equal(await h.store.get(recordKey(q, 2)), undefined);
  assert.deepEqual(only(await h.run({ kind: 'get', queue: q, session: 's1', consumer: 'g', noAck: true, nowMs: 0 })), { kind: 'got', message: undefined });
  await h.run(settle('settle', q, 'g', [1]));
  assert.equal(h.machine.checkedOut(q).length, 0);
});

test('noAck consumers: each delivery carries its record, whether stored now or read before the delete', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(enqueue(q, 'old'));
  const out = await h.run(checkout(q, 'c', 0, { noAck: true }), enqueue(q, 'new'));
  assert.deepEqual(deliveries(out.effects).map((d) => [d.msgId, d.noAck, body(d.record)]), [[1, true, 'old'], [2, true, 'new']]);
  assert.equal(h.store.size, 3, 'only m/partition, m/queue and m/qstate: nothing of the messages');
  assert.equal(h.checker.tally.autoAcked, 2);
});

test('purge drops ready messages only; delete drops everything, cancels consumers, removes every key', async () => {
  const h = new Harness();
  const q = await h.declare('q', { 'x-dead-letter-exchange': 'dlx' });
  await h.run(enqueue(q, 'a'), enqueue(q, 'b'), enqueue(q, 'c'), checkout(q, 'c1', 1));
  await h.run(settle('discard', q, 'c1', [1])); // c1 (prefetch 1) then takes 2; 3 stays ready
  assert.deepEqual(only(await h.run({ kind: 'purge', queue: q, nowMs: 0 })), { kind: 'purged', messageCount: 1 });
  assert.deepEqual(h.machine.checkedOut(q).map((c) => c.msgId), [2]);
  await h.run(enqueue(q, 'd'));
  assert.deepEqual(only(await h.run({ kind: 'purge', queue: q, nowMs: 0 })), { kind: 'purged', messageCount: 1 });
  const del = await h.run({ kind: 'delete', queue: q, nowMs: 0 });
  assert.deepEqual(del.results, [[{ kind: 'deleted', messageCount: 0 }]]);
  assert.deepEqual(del.effects, [{ kind: 'consumerCancelled', queue: q, session: 's1', consumer: 'c1' }]);
  assert.deepEqual(h.store.dump().map(([k]) => Buffer.from(k, 'hex').toString('latin1')), ['m/partition']);
  assert.deepEqual(only(await h.run(enqueue(q, 'late'))), { kind: 'enqueued', outcomes: ['noQueue'], msgIds: [0] });
  assert.deepEqual(only(await h.run({ kind: 'purge', queue: q, nowMs: 0 })), { kind: 'noQueue' });
  assert.equal(await h.declare('q'), 2, 'a redeclared queue gets a new id');
});

test('touch answers counts; flow pauses and resumes a consumer', async () => {
  const h = new Harness();
  const q = await h.declare('q');
  await h.run(checkout(q, 'c1', 0), { kind: 'flow', queue: q, session: 's1', consumer: 'c1', active: false, nowMs: 0 });
  assert.deepEqual(delivered((await h.run(enqueue(q, 'a'))).effects), []);
  assert.deepEqual(only(await h.run({ kind: 'touch', queue: q, nowMs: 0 })), { kind: 'counts', messageCount: 1, consumerCount: 1 });
  const out = await h.run({ kind: 'flow', queue: q, session: 's1', consumer: 'c1', active: true, nowMs: 0 });
  assert.deepEqual(delivered(out.effects), ['c1:1']);
});

test('tick: message TTL counts from the enqueue\'s nowMs; x-expires fires once; time only from commands', async () => {
  const h = new Harness();
  const q = await h.declare('q', { 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' }, 10_000);
  const e = await h.declare('e', { 'x-expires': 5000 }, 10_000);
  await h.run(enqueue(q, 'a', { nowMs: 10_000 }), enqueue(q, 'b', { nowMs: 10_500, expirationMs: 100 }));
  assert.equal(h.machine.queue(q)?.nextDeadlineMs, 11_000, 'only heads expire (classic queue semantics)');
  assert.equal(h.machine.queue(e)?.nextDeadlineMs, 15_000);
  assert.equal(h.machine.nextDeadlineMs(), 11_000);
  assert.deepEqual((await h.run(tick(10_999))).effects, []);
  const t1 = await h.run(tick(11_000));
  assert.deepEqual(t1.effects.map((x) => x.kind === 'deadLetter' ? [x.msgId, x.reason] : x.kind), [[1, 'expired'], [2, 'expired']]);
  const t2 = await h.run(tick(15_000));
  assert.deepEqual(t2.effects, [{ kind: 'queueExpired', queue: e, vhost: '/', name: 'e' }]);
  assert.deepEqual((await h.run(tick(20_000))).effects, []);
});

test('sessionDown: every consumer and getter of the session, in every queue; its dedupe entry goes', async () => {
  const h = new Harness();
  const a = await h.declare('a');
  const b = await h.declare('b');
  await h.run(enqueue([a, b], 'm', { session: 's1', seq: 1 }), enqueue(a, 'n'));
  await h.run(checkout(a, 'c1', 0), checkout(b, 'c2', 0, { session: 's2' }), checkout(a, 'c3', 0, { session: 's1x' }));
  assert.deepEqual(h.machine.checkedOut(a).map((c) => c.session), ['s1', 's1']);
  await h.run({ kind: 'sessionDown', session: 's1', nowMs: 0 });
  assert.deepEqual(h.machine.consumerIds(a), ['s1x\0c3']);
  assert.deepEqual(h.machine.consumerIds(b), ['s2\0c2']);
  assert.deepEqual(h.machine.checkedOut(a).map((c) => [c.msgId, c.session]), [[1, 's1x'], [2, 's1x']], 'returned, then taken by the live consumer');
  assert.equal(h.machine.dedupeSeq('s1'), 0);
});

test('x-max-priority: higher priority first; x-single-active-consumer: one consumer, activation effect', async () => {
  const h = new Harness();
  const p = await h.declare('p', { 'x-max-priority': 5 });
  await h.run(enqueue(p, 'low', { priority: 1 }), enqueue(p, 'high', { priority: 5 }), enqueue(p, 'none'));
  assert.deepEqual(h.machine.readyIds(p), [2, 1, 3]);
  const s = await h.declare('s', { 'x-single-active-consumer': true });
  const out = await h.run(checkout(s, 'c1', 0), checkout(s, 'c2', 0), enqueue(s, 'a'), enqueue(s, 'b'));
  assert.deepEqual(out.effects.filter((x) => x.kind === 'consumerActivated'), [{ kind: 'consumerActivated', queue: s, session: 's1', consumer: 'c1' }]);
  assert.deepEqual(delivered(out.effects), ['c1:1', 'c1:2']);
});

test('x-delivery-limit: the return past the limit dead-letters with delivery_limit', async () => {
  const h = new Harness();
  const q = await h.declare('q', { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx' });
  await h.run(enqueue(q, 'a'), checkout(q, 'c1', 1));
  await h.run(settle('return', q, 'c1', [1]));
  const out = await h.run(settle('return', q, 'c1', [1]));
  assert.deepEqual(out.effects.map((x) => x.kind === 'deadLetter' ? x.reason : x.kind), ['delivery_limit']);
});

test('reject-publish-dlx: the refused message is stored for its dead-letter and answered rejected', async () => {
  const h = new Harness();
  const q = await h.declare('q', { 'x-max-length': 0, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'dlx' });
  const out = await h.run(enqueue(q, 'a'));
  assert.deepEqual(only(out), { kind: 'enqueued', outcomes: ['rejected'], msgIds: [0] });
  const dl = out.effects[0] as DeadLetterEffect;
  assert.deepEqual([dl.kind, dl.reason, body(dl.record)], ['deadLetter', 'maxlen', 'a']);
  assert.deepEqual(h.machine.deadLetterIds(q), [1]);
  assert.ok(await h.store.get(recordKey(q, 1)));
});

test('an empty entry (a new leader\'s no-op) applies nothing', async () => {
  const h = new Harness();
  const batch = h.store.batch();
  const out = await h.machine.apply([new Uint8Array(0)], batch);
  assert.deepEqual(out.results, [[]]);
  assert.equal(text('').length, 0);
});
