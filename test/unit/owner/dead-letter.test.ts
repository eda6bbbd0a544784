// The one dead-letter path of both owners: which queues get a copy, and when the source may forget
// the message (after every target answered: at-least-once out of a partition).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetterPublisher, MAX_DEAD_LETTER_HOPS, type DeadLetterEnqueue } from '../../../src/owner/dead-letter.js';
import type { Message, QueueRef } from '../../../src/owner/api.js';

const dead = (deaths: Array<{ queue: string; reason: string }> = []): Message => ({
  exchange: 'src', routingKey: 'k', body: Buffer.from('x'),
  properties: { headers: { 'x-death': deaths.map((d) => ({ ...d, count: { $type: 'l', value: 1 } })) } },
});

/** An enqueue that holds every copy until `answer()`, as a partition answers after its commit. */
function heldEnqueue(): { enqueue: DeadLetterEnqueue; got: Array<{ q: QueueRef; m: Message }>; answer(): void } {
  const got: Array<{ q: QueueRef; m: Message }> = [];
  const pending: Array<() => void> = [];
  return {
    got,
    enqueue: (q, m, done) => { got.push({ q, m }); pending.push(() => done('accepted', false)); },
    answer: () => { for (const p of pending.splice(0)) p(); },
  };
}

test('one copy per queue reached by any routing key, as published to the dead-letter exchange', () => {
  const routes: Record<string, string[]> = { a: ['q1', 'q2'], b: ['q2', 'q3'] };
  const t = heldEnqueue();
  const publish = deadLetterPublisher((_v, _x, key) => routes[key] ?? [], t.enqueue);
  publish('/v', 'dlx', ['a', 'b'], dead(), () => {});
  assert.deepEqual(t.got.map((g) => `${g.q.vhost}:${g.q.name}`), ['/v:q1', '/v:q2', '/v:q3']);
  for (const { m } of t.got) {
    assert.equal(m.exchange, 'dlx');
    assert.equal(m.routingKey, 'a', 'the first dead-letter routing key');
  }
});

test('done only once every target answered its copy', () => {
  const t = heldEnqueue();
  const publish = deadLetterPublisher(() => ['q1', 'q2'], t.enqueue);
  let done = 0;
  publish('/', 'dlx', ['k'], dead(), () => done++);
  assert.equal(done, 0, 'the source keeps the message while its copies are in flight');
  t.answer();
  assert.equal(done, 1);
});

test('no route, a missing exchange or only cycles: nothing enqueued, done at once', () => {
  const t = heldEnqueue();
  const routes: Record<string, string[]> = { none: [], cycle: ['q1'] };
  const publish = deadLetterPublisher((_v, x) => routes[x] ?? [], t.enqueue);
  let done = 0;
  publish('/', 'none', ['k'], dead(), () => done++);
  publish('/', 'missing', ['k'], dead(), () => done++);
  publish('/', 'cycle', ['k'], dead([{ queue: 'q1', reason: 'expired' }]), () => done++);
  assert.equal(done, 3);
  assert.deepEqual(t.got, []);
});

test('a queue the message died in is skipped unless a client rejected it since (RabbitMQ cycle detection)', () => {
  const t = heldEnqueue();
  const publish = deadLetterPublisher(() => ['q1', 'q2'], t.enqueue);
  publish('/', 'dlx', ['k'], dead([{ queue: 'q1', reason: 'maxlen' }]), () => {});
  assert.deepEqual(t.got.map((g) => g.q.name), ['q2']);
  t.got.length = 0;
  publish('/', 'dlx', ['k'], dead([{ queue: 'q2', reason: 'rejected' }, { queue: 'q1', reason: 'expired' }]), () => {});
  assert.deepEqual(t.got.map((g) => g.q.name), ['q1', 'q2']);
});

test('a synchronous dead-letter chain stops after MAX_DEAD_LETTER_HOPS, and the dropped copy is done', () => {
  let hops = 0;
  let dropped = 0;
  // Every target dead-letters on enqueue (x-max-length 0 into a DLX whose queue does the same).
  const publish = deadLetterPublisher((_v, _x, key) => [`q${key}`], (q, m, done) => {
    hops++;
    publish('/', 'dlx', [String(Number(q.name.slice(1)) + 1)], m, () => { dropped++; done('accepted', false); });
  });
  let done = 0;
  publish('/', 'dlx', ['0'], dead(), () => done++);
  assert.equal(hops, MAX_DEAD_LETTER_HOPS);
  assert.equal(done, 1, 'the chain unwound: every copy answered');
  assert.equal(dropped, MAX_DEAD_LETTER_HOPS);
});
