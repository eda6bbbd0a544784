import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueArgs, parseExpirationMs } from '../../../src/queue/args.js';
import { AmqpError } from '../../../src/amqp/errors.js';

/** Arguments reach the queue layer validated; what slips through anyway is refused, not guessed at. */
function refused(args: Record<string, unknown>): void {
  assert.throws(() => parseQueueArgs(args), (e: unknown) => e instanceof AmqpError && e.replyCode === 406);
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

// RabbitMQ's 406 texts for invalid arguments are the metadata layer's (test/unit/meta/queues.test.ts).
test('args: values the validator would refuse are refused, not guessed at', () => {
  refused({ 'x-message-ttl': -1 });
  refused({ 'x-message-ttl': 'abc' });
  refused({ 'x-message-ttl': 1.5 });
  refused({ 'x-overflow': 'drop-tail' });
  refused({ 'x-single-active-consumer': 'yes' });
  refused({ 'x-dead-letter-exchange': 5 });
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
