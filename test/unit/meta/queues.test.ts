// queue.declare / queue.delete / exclusive access: RabbitMQ 3.10 reply codes and texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { FieldTable } from '../../../src/amqp/table.js';
import { bindQ, declareQ, declareX, route, throwsAmqp } from './helpers.js';

const LOCKED = (q: string): string =>
  `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'. It could be originally ` +
  'declared on another connection or the exclusive property value does not match that of the original declaration.';

describe('queue.declare', () => {
  test('creates a record, redeclares idempotently', () => {
    const m = new MetaMachine();
    const r = declareQ(m, 'q', { durable: true, arguments: { 'x-message-ttl': 1000 } });
    assert.equal(r.created, true);
    assert.deepEqual(r.queue, { vhost: '/', name: 'q', durable: true, autoDelete: false, exclusiveOwner: undefined, arguments: { 'x-message-ttl': 1000 }, partition: undefined });
    assert.equal(declareQ(m, 'q', { durable: true, arguments: { 'x-message-ttl': 1000 } }).created, false);
  });

  test('server-named queues take the suffix from the command', () => {
    const m = new MetaMachine();
    assert.equal(declareQ(m, '', { nameSuffix: 'abc' }).queue?.name, 'amq.gen-abc');
    throwsAmqp(() => declareQ(m, ''), 541, 'INTERNAL_ERROR - server-named queue.declare without a name suffix');
  });

  test("reserved 'amq.' prefix is 403 even for an existing server-named queue", () => {
    const m = new MetaMachine();
    throwsAmqp(() => declareQ(m, 'amq.q'), 403, "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'");
    declareQ(m, '', { nameSuffix: 'x' });
    throwsAmqp(() => declareQ(m, 'amq.gen-x'), 403, "ACCESS_REFUSED - queue name 'amq.gen-x' contains reserved prefix 'amq.*'");
    assert.equal(declareQ(m, 'amq.gen-x', { passive: true }).queue?.name, 'amq.gen-x');
  });

  test('passive: 404 when missing, 405 when exclusive to another connection', () => {
    const m = new MetaMachine();
    throwsAmqp(() => declareQ(m, 'q', { passive: true }), 404, "NOT_FOUND - no queue 'q' in vhost '/'");
    declareQ(m, 'q', { exclusive: true, connection: 'c1' });
    throwsAmqp(() => declareQ(m, 'q', { passive: true, connection: 'c2' }), 405, LOCKED('q'));
    assert.equal(declareQ(m, 'q', { passive: true, connection: 'c1' }).created, false);
  });

  test('inequivalent durable / auto_delete are 406 with RabbitMQ texts', () => {
    const m = new MetaMachine();
    declareQ(m, 'q', { durable: true });
    throwsAmqp(() => declareQ(m, 'q'), 406,
      "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'false' but current is 'true'");
    throwsAmqp(() => declareQ(m, 'q', { durable: true, autoDelete: true }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue 'q' in vhost '/': received 'true' but current is 'false'");
  });

  test('inequivalent arguments print value and type', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    throwsAmqp(() => declareQ(m, 'q', { arguments: { 'x-message-ttl': 2000 } }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received the value '2000' of type 'signedint' but current is none");
    declareQ(m, 'r', { arguments: { 'x-max-length': 10, 'x-overflow': 'drop-head' } });
    throwsAmqp(() => declareQ(m, 'r', { arguments: { 'x-max-length': 10, 'x-overflow': 'reject-publish' } }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'x-overflow' for queue 'r' in vhost '/': received the value 'reject-publish' of type 'longstr' but current is the value 'drop-head' of type 'longstr'");
    throwsAmqp(() => declareQ(m, 'r', { arguments: { 'x-overflow': 'drop-head' } }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'r' in vhost '/': received none but current is the value '10' of type 'signedint'");
  });

  test('equivalence: integer widths are one class, unknown args are ignored, missing x-queue-type is classic', () => {
    const m = new MetaMachine();
    declareQ(m, 'q', { arguments: { 'x-max-length': 5 } });
    assert.equal(declareQ(m, 'q', { arguments: { 'x-max-length': 5n, 'x-custom': 'ignored' } }).created, false);
    assert.equal(declareQ(m, 'q', { arguments: { 'x-max-length': 5, 'x-queue-type': 'classic' } }).created, false);
    throwsAmqp(() => declareQ(m, 'q', { arguments: { 'x-max-length': 5, 'x-queue-type': 'quorum' } }), 406,
      "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q' in vhost '/': received the value 'quorum' of type 'longstr' but current is none");
  });

  test('exclusive queues: 405 for other connections and for a changed exclusive flag', () => {
    const m = new MetaMachine();
    declareQ(m, 'ex', { exclusive: true, connection: 'c1' });
    throwsAmqp(() => declareQ(m, 'ex', { exclusive: true, connection: 'c2' }), 405, LOCKED('ex'));
    throwsAmqp(() => declareQ(m, 'ex', { connection: 'c1' }), 405, LOCKED('ex'));
    assert.equal(declareQ(m, 'ex', { exclusive: true, connection: 'c1', durable: true }).created, false,
      'an exclusive queue is never durable, so durable=true redeclares it equivalently');
    declareQ(m, 'shared');
    throwsAmqp(() => declareQ(m, 'shared', { exclusive: true, connection: 'c1' }), 405, LOCKED('shared'));
    throwsAmqp(() => m.useQueue('/', 'ex', 'c2'), 405, LOCKED('ex'));
    assert.equal(m.useQueue('/', 'shared', 'c2').name, 'shared');
    throwsAmqp(() => m.useQueue('/', 'none', 'c2'), 404, "NOT_FOUND - no queue 'none' in vhost '/'");
  });

  test('connection.closed deletes its exclusive queues and their bindings', () => {
    const m = new MetaMachine();
    declareQ(m, 'ex', { exclusive: true, connection: 'c1' });
    declareQ(m, 'keep', { exclusive: true, connection: 'c2' });
    bindQ(m, 'ex', 'amq.fanout');
    assert.deepEqual(m.exclusiveQueues('c1').map((q) => q.name), ['ex']);
    const r = m.apply({ type: 'connection.closed', connection: 'c1' });
    assert.deepEqual(r.deletedQueues?.map((q) => q.name), ['ex']);
    assert.equal(m.getQueue('/', 'ex'), undefined);
    assert.ok(m.getQueue('/', 'keep'));
    assert.deepEqual(route(m, 'amq.fanout'), []);
  });
});

describe('queue argument validation (on creation)', () => {
  const cases: ReadonlyArray<readonly [FieldTable, string]> = [
    [{ 'x-message-ttl': -1 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"],
    [{ 'x-message-ttl': '1000' }, `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got longstr"`],
    [{ 'x-message-ttl': 1.5 }, `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got double"`],
    [{ 'x-expires': 0 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"],
    [{ 'x-max-length': -5 }, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-5}"],
    [{ 'x-max-length-bytes': true }, `invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': "expected integer, got bool"`],
    [{ 'x-max-length': { $type: 'l', value: -2 } }, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-2}"],
    [{ 'x-max-priority': 256 }, "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,256}"],
    [{ 'x-overflow': 'drop-tail' }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"],
    [{ 'x-queue-type': 'lazy' }, `invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'lazy'"`],
    [{ 'x-queue-mode': 'fast' }, `invalid arg 'x-queue-mode' for queue 'q' in vhost '/': "unsupported queue mode 'fast'"`],
    [{ 'x-queue-version': 3 }, `invalid arg 'x-queue-version' for queue 'q' in vhost '/': "unsupported queue version '3'"`],
    [{ 'x-overflow': 5 }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,signedint}"],
    // Arguments another queue type owns.
    [{ 'x-max-age': '1D' }, "invalid arg 'x-max-age' for queue 'q' in vhost '/' of queue type rabbit_classic_queue"],
    [{ 'x-dead-letter-strategy': 'at-least-once' }, "invalid arg 'x-dead-letter-strategy' for queue 'q' in vhost '/' of queue type rabbit_classic_queue"],
    [{ 'x-queue-type': 'quorum', 'x-max-priority': 5 }, "invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue"],
    // Streams are not implemented: refused at declare rather than accepted as something else.
    [{ 'x-queue-type': 'stream' }, `invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'stream'"`],
    // Values that later become shortstrs on the wire must fit one.
    [{ 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'k'.repeat(256) }, "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': {routing_key_too_long,256}"],
    [{ 'x-dead-letter-exchange': 'x'.repeat(300) }, "invalid arg 'x-dead-letter-exchange' for queue 'q' in vhost '/': {exchange_name_too_long,300}"],
    // Formerly also checked by the queue layer; now only here (one validator).
    [{ 'x-message-ttl': 4294967296 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,4294967296,4294967295}"],
    [{ 'x-expires': 4294967296 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_too_large,4294967296,4294967295}"],
    [{ 'x-delivery-limit': -2 }, "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/': {value_negative,-2}"],
    [{ 'x-message-ttl': 1.5 }, `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got double"`],
    // Generic validation comes before the queue type's refusals.
    [{ 'x-delivery-limit': 3, 'x-max-priority': 300 }, "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,300}"],
    [{ 'x-single-active-consumer': 1 }, "invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,signedint}"],
    [{ 'x-dead-letter-routing-key': 'rk' }, "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined"],
    [{ 'x-dead-letter-exchange': 7 }, "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"],
    // The first failing argument in RabbitMQ's declare_args order is reported.
    [{ 'x-max-priority': 300, 'x-expires': -1 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_negative,-1}"],
  ];
  for (const [args, text] of cases) {
    test(text, () => {
      const m = new MetaMachine();
      throwsAmqp(() => declareQ(m, 'q', { durable: true, arguments: args }), 406, `PRECONDITION_FAILED - ${text}`);
      assert.equal(m.getQueue('/', 'q'), undefined, 'nothing created');
    });
  }

  test('valid arguments are accepted', () => {
    const m = new MetaMachine();
    declareQ(m, 'q', { durable: true, arguments: {
      'x-message-ttl': 4_294_967_295, 'x-expires': 1, 'x-max-length': 0, 'x-max-priority': 255, 'x-overflow': 'reject-publish-dlx',
      'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'k', 'x-single-active-consumer': true,
      'x-queue-mode': 'lazy', 'x-queue-version': 2, 'x-unknown': 'fine',
    } });
    declareQ(m, 'qq', { durable: true, arguments: {
      'x-queue-type': 'quorum', 'x-delivery-limit': 3, 'x-message-ttl': 10, 'x-expires': 1000, 'x-quorum-initial-group-size': 3,
    } });
    assert.deepEqual(m.listQueues('/').map((q) => q.name), ['q', 'qq']);
  });

  test('quorum queues refuse auto-delete, exclusive and non-durable', () => {
    const m = new MetaMachine();
    const quorum = { 'x-queue-type': 'quorum' };
    throwsAmqp(() => declareQ(m, 'q', { durable: true, autoDelete: true, arguments: quorum }), 406,
      "PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'q' in vhost '/'");
    throwsAmqp(() => declareQ(m, 'q', { durable: true, exclusive: true, arguments: quorum }), 406,
      "PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'q' in vhost '/'");
    throwsAmqp(() => declareQ(m, 'q', { arguments: quorum }), 406,
      "PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '/'");
  });
});

describe('queue.delete', () => {
  test('removes the record and its bindings; missing queue is fine', () => {
    const m = new MetaMachine();
    declareX(m, 'x');
    declareQ(m, 'q');
    bindQ(m, 'q', 'x', 'k');
    const r = m.apply({ type: 'queue.delete', vhost: '/', name: 'q' });
    assert.deepEqual(r.deletedQueues?.map((q) => q.name), ['q']);
    assert.deepEqual(m.listBindings('/'), []);
    assert.deepEqual(m.apply({ type: 'queue.delete', vhost: '/', name: 'q' }).deletedQueues, []);
  });

  test('if-unused / if-empty use the counts observed by the proposer', () => {
    const m = new MetaMachine();
    declareQ(m, 'q');
    throwsAmqp(() => m.apply({ type: 'queue.delete', vhost: '/', name: 'q', ifUnused: true, consumerCount: 1 }), 406,
      "PRECONDITION_FAILED - queue 'q' in vhost '/' in use");
    throwsAmqp(() => m.apply({ type: 'queue.delete', vhost: '/', name: 'q', ifEmpty: true, messageCount: 3 }), 406,
      "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty");
    m.apply({ type: 'queue.delete', vhost: '/', name: 'q', ifUnused: true, ifEmpty: true, consumerCount: 0, messageCount: 0 });
    assert.equal(m.getQueue('/', 'q'), undefined);
  });

  test('an exclusive queue of another connection is 405', () => {
    const m = new MetaMachine();
    declareQ(m, 'ex', { exclusive: true, connection: 'c1' });
    throwsAmqp(() => m.apply({ type: 'queue.delete', vhost: '/', name: 'ex', connection: 'c2' }), 405, LOCKED('ex'));
    m.apply({ type: 'queue.delete', vhost: '/', name: 'ex', connection: 'c1' });
    assert.equal(m.getQueue('/', 'ex'), undefined);
  });
});

test('x-delivery-limit is accepted on a classic queue (Warren honours it on every queue; RabbitMQ 3.10 refuses it)', () => {
  const m = new MetaMachine();
  const r = m.apply({ type: 'queue.declare', vhost: '/', name: 'dl', passive: false, durable: false, exclusive: false,
    autoDelete: false, arguments: { 'x-delivery-limit': 3 }, connection: 'c' });
  assert.equal(r.created, true);
});
