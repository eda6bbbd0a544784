import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueArgs, parseExpirationMs } from '../../../src/queue/args.js';
import { AmqpError } from '../../../src/amqp/errors.js';

function failsWith(args: Record<string, unknown>, text: string): void {
  assert.throws(() => parseQueueArgs(args, 'q', '/'), (e: unknown) => {
    assert.ok(e instanceof AmqpError);
    assert.equal(e.replyCode, 406);
    assert.equal(e.replyText, `PRECONDITION_FAILED - ${text}`);
    return true;
  });
}

test('args: defaults', () => {
  assert.deepEqual(parseQueueArgs({}), { overflow: 'drop-head', singleActiveConsumer: false });
  assert.deepEqual(parseQueueArgs(undefined), { overflow: 'drop-head', singleActiveConsumer: false });
});

test('args: every argument parsed, plain and $type-wrapped values', () => {
  const a = parseQueueArgs({
    'x-message-ttl': 1000, 'x-expires': { $type: 'I', value: 5000 }, 'x-max-length': 10n,
    'x-max-length-bytes': 1024, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'dlx',
    'x-dead-letter-routing-key': 'dead', 'x-max-priority': { $type: 'b', value: 9 },
    'x-single-active-consumer': true, 'x-delivery-limit': 3, 'x-queue-type': 'quorum', 'x-unknown': 'ignored',
  });
  assert.deepEqual(a, {
    messageTtlMs: 1000, expiresMs: 5000, maxLength: 10, maxLengthBytes: 1024, overflow: 'reject-publish-dlx',
    deadLetterExchange: 'dlx', deadLetterRoutingKey: 'dead', maxPriority: 9, singleActiveConsumer: true, deliveryLimit: 3,
  });
});

test('args: RabbitMQ 406 texts', () => {
  failsWith({ 'x-message-ttl': -1 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}");
  failsWith({ 'x-message-ttl': 'abc' }, `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got longstr"`);
  failsWith({ 'x-message-ttl': 1.5 }, `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got double"`);
  failsWith({ 'x-message-ttl': 4294967296 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,4294967296,4294967295}");
  failsWith({ 'x-expires': 0 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}");
  failsWith({ 'x-expires': -5 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_negative,-5}");
  failsWith({ 'x-max-length': -1 }, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}");
  failsWith({ 'x-max-length-bytes': true }, `invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': "expected integer, got bool"`);
  failsWith({ 'x-max-priority': 256 }, "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,256}");
  failsWith({ 'x-overflow': 'drop-tail' }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow");
  failsWith({ 'x-overflow': 1 }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,long}");
  failsWith({ 'x-dead-letter-exchange': 5 }, "invalid arg 'x-dead-letter-exchange' for queue 'q' in vhost '/': {unacceptable_type,long}");
  failsWith({ 'x-dead-letter-routing-key': 'k' }, "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined");
  failsWith({ 'x-single-active-consumer': 'yes' }, "invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,longstr}");
  failsWith({ 'x-queue-type': 'fancy' }, `invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'fancy'"`);
  failsWith({ 'x-overflow': Buffer.from('drop-head') }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,binary}");
  failsWith({ 'x-delivery-limit': -2 }, "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/': {value_negative,-2}");
});

test('args: first failing argument in RabbitMQ order is reported', () => {
  failsWith({ 'x-max-length': -1, 'x-expires': 0 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}");
});

test('args: empty dead-letter exchange (default exchange) is valid', () => {
  const a = parseQueueArgs({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' });
  assert.equal(a.deadLetterExchange, '');
  assert.equal(a.deadLetterRoutingKey, 'dlq');
});

test('parseExpirationMs', () => {
  assert.equal(parseExpirationMs(undefined), undefined);
  assert.equal(parseExpirationMs('0'), 0);
  assert.equal(parseExpirationMs('1500'), 1500);
  assert.equal(parseExpirationMs('-1'), undefined);
  assert.equal(parseExpirationMs('1.5'), undefined);
  assert.equal(parseExpirationMs('abc'), undefined);
});
