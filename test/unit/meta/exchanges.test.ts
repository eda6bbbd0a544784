// exchange.declare / exchange.delete: RabbitMQ 3.10 reply codes and texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaMachine } from '../../../src/meta/machine.js';
import { bindQ, declareQ, declareX, throwsAmqp, unbindQ } from './helpers.js';

describe('predeclared exchanges', () => {
  test('every vhost has RabbitMQ 3.10 set, durable', () => {
    const m = new MetaMachine();
    m.apply({ type: 'vhost.add', name: '/v' });
    for (const vhost of ['/', '/v']) {
      const xs = m.listExchanges(vhost).map((x) => `${x.name}:${x.type}:${x.internal}:${x.durable}`).sort();
      assert.deepEqual(xs, [
        ':direct:false:true', 'amq.direct:direct:false:true', 'amq.fanout:fanout:false:true',
        'amq.headers:headers:false:true', 'amq.match:headers:false:true', 'amq.rabbitmq.trace:topic:true:true',
        'amq.topic:topic:false:true',
      ]);
    }
  });

  test('equivalent redeclaration of an amq.* exchange is fine; inequivalent is 406', () => {
    const m = new MetaMachine();
    assert.equal(declareX(m, 'amq.direct', 'direct', { durable: true }).created, false);
    throwsAmqp(() => declareX(m, 'amq.direct', 'direct'), 406,
      "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct' in vhost '/': received 'false' but current is 'true'");
  });
});

describe('exchange.declare', () => {
  test('creates, then redeclares idempotently', () => {
    const m = new MetaMachine();
    assert.equal(declareX(m, 'x', 'topic').created, true);
    assert.equal(declareX(m, 'x', 'topic').created, false);
    assert.equal(m.getExchange('/', 'x')?.type, 'topic');
  });

  test('inequivalent type, durable, auto_delete, internal, alternate-exchange', () => {
    const m = new MetaMachine();
    declareX(m, 'x', 'direct');
    throwsAmqp(() => declareX(m, 'x', 'fanout'), 406,
      "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'");
    throwsAmqp(() => declareX(m, 'x', 'direct', { durable: true }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x' in vhost '/': received 'true' but current is 'false'");
    throwsAmqp(() => declareX(m, 'x', 'direct', { autoDelete: true }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for exchange 'x' in vhost '/': received 'true' but current is 'false'");
    throwsAmqp(() => declareX(m, 'x', 'direct', { internal: true }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'internal' for exchange 'x' in vhost '/': received 'true' but current is 'false'");
    throwsAmqp(() => declareX(m, 'x', 'direct', { arguments: { 'alternate-exchange': 'ae' } }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received the value 'ae' of type 'longstr' but current is none");
    // Arguments other than alternate-exchange are not compared.
    assert.equal(declareX(m, 'x', 'direct', { arguments: { other: 1 } }).created, false);
  });

  test('passive: 404 when missing, 403 for the default exchange', () => {
    const m = new MetaMachine();
    throwsAmqp(() => declareX(m, 'nope', 'direct', { passive: true }), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'");
    throwsAmqp(() => declareX(m, '', 'direct', { passive: true }), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    declareX(m, 'x', 'fanout');
    assert.equal(declareX(m, 'x', 'direct', { passive: true }).created, false, 'passive ignores the type');
  });

  test('unknown type is 503 COMMAND_INVALID (a connection error)', () => {
    const m = new MetaMachine();
    throwsAmqp(() => declareX(m, 'x', 'x-no-such-type'), 503, "COMMAND_INVALID - unknown exchange type 'x-no-such-type'");
  });

  test("reserved 'amq.' prefix and the default exchange are refused", () => {
    const m = new MetaMachine();
    throwsAmqp(() => declareX(m, 'amq.x', 'direct'), 403, "ACCESS_REFUSED - exchange name 'amq.x' contains reserved prefix 'amq.*'");
    throwsAmqp(() => declareX(m, '', 'direct'), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
  });

  test('a non-string alternate-exchange is 406', () => {
    const m = new MetaMachine();
    throwsAmqp(() => declareX(m, 'x', 'direct', { arguments: { 'alternate-exchange': 5 } }), 406,
      "PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange 'x' in vhost '/'");
    assert.equal(m.getExchange('/', 'x'), undefined);
  });
});

describe('exchange.delete', () => {
  test('deletes; deleting a missing exchange is fine', () => {
    const m = new MetaMachine();
    declareX(m, 'x');
    assert.deepEqual(m.apply({ type: 'exchange.delete', vhost: '/', name: 'x', ifUnused: false }).deletedExchanges, [{ vhost: '/', name: 'x' }]);
    assert.equal(m.getExchange('/', 'x'), undefined);
    assert.deepEqual(m.apply({ type: 'exchange.delete', vhost: '/', name: 'x', ifUnused: false }).deletedExchanges, []);
  });

  test('if-unused: 406 while it is the source of a binding', () => {
    const m = new MetaMachine();
    declareX(m, 'x');
    declareQ(m, 'q');
    bindQ(m, 'q', 'x', 'k');
    throwsAmqp(() => m.apply({ type: 'exchange.delete', vhost: '/', name: 'x', ifUnused: true }), 406,
      "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use");
    unbindQ(m, 'q', 'x', 'k');
    m.apply({ type: 'exchange.delete', vhost: '/', name: 'x', ifUnused: true });
    assert.equal(m.getExchange('/', 'x'), undefined);
  });

  test('system and default exchanges cannot be deleted', () => {
    const m = new MetaMachine();
    throwsAmqp(() => m.apply({ type: 'exchange.delete', vhost: '/', name: 'amq.direct', ifUnused: false }), 403,
      "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed");
    throwsAmqp(() => m.apply({ type: 'exchange.delete', vhost: '/', name: '', ifUnused: false }), 403,
      'ACCESS_REFUSED - operation not permitted on the default exchange');
  });

  test('deleting an exchange removes its bindings in both directions', () => {
    const m = new MetaMachine();
    declareX(m, 'a');
    declareX(m, 'b');
    declareQ(m, 'q');
    bindQ(m, 'q', 'b', 'k');
    m.apply({ type: 'binding.add', vhost: '/', source: 'a', destinationKind: 'exchange', destination: 'b', routingKey: 'k', arguments: {} });
    m.apply({ type: 'exchange.delete', vhost: '/', name: 'b', ifUnused: false });
    assert.deepEqual(m.listBindings('/'), []);
  });
});

describe('auto-delete exchanges', () => {
  test('deleted when their last binding as source goes, not before the first one', () => {
    const m = new MetaMachine();
    declareX(m, 'ad', 'fanout', { autoDelete: true });
    declareQ(m, 'q1');
    declareQ(m, 'q2');
    bindQ(m, 'q1', 'ad');
    bindQ(m, 'q2', 'ad');
    unbindQ(m, 'q1', 'ad');
    assert.ok(m.getExchange('/', 'ad'));
    const r = unbindQ(m, 'q2', 'ad');
    assert.deepEqual(r.deletedExchanges, [{ vhost: '/', name: 'ad' }]);
    assert.equal(m.getExchange('/', 'ad'), undefined);
  });

  test('deleting the bound queue auto-deletes the exchange too', () => {
    const m = new MetaMachine();
    declareX(m, 'ad', 'direct', { autoDelete: true });
    declareQ(m, 'q');
    bindQ(m, 'q', 'ad', 'k');
    const r = m.apply({ type: 'queue.delete', vhost: '/', name: 'q' });
    assert.deepEqual(r.deletedExchanges, [{ vhost: '/', name: 'ad' }]);
    assert.equal(m.getExchange('/', 'ad'), undefined);
  });
});
