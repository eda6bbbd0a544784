// queue.bind / exchange.bind / unbind: RabbitMQ reply codes and texts, idempotency.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaMachine } from '../../../src/meta/machine.js';
import { bindQ, bindX, declareQ, route, throwsAmqp, unbindQ } from './helpers.js';

describe('bind', () => {
  test('404 for a missing source first, then a missing destination', () => {
    const m = new MetaMachine();
    throwsAmqp(() => bindQ(m, 'nq', 'nx'), 404, "NOT_FOUND - no exchange 'nx' in vhost '/'");
    throwsAmqp(() => bindQ(m, 'nq', 'amq.direct'), 404, "NOT_FOUND - no queue 'nq' in vhost '/'");
    throwsAmqp(() => bindX(m, 'nx2', 'amq.direct'), 404, "NOT_FOUND - no exchange 'nx2' in vhost '/'");
  });

  test('the default exchange can be neither source nor destination', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    throwsAmqp(() => bindQ(m, 'q', ''), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    throwsAmqp(() => bindX(m, '', 'amq.direct'), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    throwsAmqp(() => unbindQ(m, 'q', ''), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
  });

  test('rebinding is idempotent; arguments are part of the identity', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    assert.equal(bindQ(m, 'q', 'amq.direct', 'k').created, true);
    assert.equal(bindQ(m, 'q', 'amq.direct', 'k').created, false);
    assert.equal(bindQ(m, 'q', 'amq.direct', 'k', { a: 1 }).created, true);
    assert.equal(bindQ(m, 'q', 'amq.direct', 'k', { a: 1 }).created, false);
    assert.equal(m.listBindings('/').length, 2);
    unbindQ(m, 'q', 'amq.direct', 'k');
    assert.deepEqual(route(m, 'amq.direct', 'k'), ['q'], 'the binding with arguments still routes');
    unbindQ(m, 'q', 'amq.direct', 'k', { a: 1 });
    assert.deepEqual(route(m, 'amq.direct', 'k'), []);
  });

  test("headers bindings validate x-match (406 with RabbitMQ's text)", () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    throwsAmqp(() => bindQ(m, 'q', 'amq.headers', '', { 'x-match': 'most' }), 406,
      'PRECONDITION_FAILED - Invalid x-match field value <<"most">>; expected all, any, all-with-x, or any-with-x');
    // Other exchange types do not look at x-match.
    assert.equal(bindQ(m, 'q', 'amq.direct', 'k', { 'x-match': 'most' }).created, true);
  });

  test("binding another connection's exclusive queue is 405", () => {
    const m = new MetaMachine();
    declareQ(m, 'ex', { exclusive: true, connection: 'c1' });
    assert.throws(() => bindQ(m, 'ex', 'amq.direct', 'k', {}, 'c2'), { replyCode: 405 });
    assert.equal(bindQ(m, 'ex', 'amq.direct', 'k', {}, 'c1').created, true);
  });
});

describe('unbind', () => {
  test('a missing binding, source or destination is fine', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    unbindQ(m, 'q', 'amq.direct', 'never-bound');
    unbindQ(m, 'nq', 'amq.direct', 'k');
    unbindQ(m, 'q', 'nx', 'k');
    m.apply({ type: 'binding.remove', vhost: '/', source: 'amq.direct', destinationKind: 'exchange', destination: 'nx', routingKey: '', arguments: {} });
  });

  test('headers bindings are matched by arguments in any key order', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    bindQ(m, 'q', 'amq.headers', '', { 'x-match': 'any', a: 1, b: 2 });
    unbindQ(m, 'q', 'amq.headers', '', { b: 2, a: 1, 'x-match': 'any' });
    assert.deepEqual(m.listBindings('/'), []);
  });
});

describe('listing', () => {
  test('bindings, with the implicit default-exchange bindings when asked', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    bindQ(m, 'q', 'amq.topic', 'a.#');
    assert.deepEqual(m.listBindings('/'), [
      { vhost: '/', source: 'amq.topic', destinationKind: 'queue', destination: 'q', routingKey: 'a.#', arguments: {} },
    ]);
    assert.deepEqual(m.listBindings('/', true).map((b) => `${b.source}->${b.destination}:${b.routingKey}`), ['->q:q', 'amq.topic->q:a.#']);
    assert.deepEqual(m.listQueues('/').map((q) => q.name), ['q']);
    assert.deepEqual(m.listQueues('/nope'), []);
  });
});

describe('vhosts', () => {
  test('vhost.delete removes its entities and permissions; others are untouched', () => {
    const m = new MetaMachine();
    m.apply({ type: 'vhost.add', name: '/v' });
    m.apply({ type: 'permissions.set', user: 'guest', vhost: '/v', configure: '.*', write: '.*', read: '.*' });
    declareQ(m, 'q', { vhost: '/v' });
    declareQ(m, 'q');
    const r = m.apply({ type: 'vhost.delete', name: '/v' });
    assert.deepEqual(r.deletedQueues?.map((q) => `${q.vhost}|${q.name}`), ['/v|q']);
    assert.deepEqual(m.listVhosts(), ['/']);
    assert.ok(m.getQueue('/', 'q'));
    assert.throws(() => m.checkVhostAccess('guest', '/v'), { replyCode: 530 });
    assert.throws(() => declareQ(m, 'q2', { vhost: '/v' }), { replyCode: 530 });
  });
});
