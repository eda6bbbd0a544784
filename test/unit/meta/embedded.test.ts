// The embedded MetaPort over the state machine, and the machine's determinism contract.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../../src/config.js';
import { createLocalMeta } from '../../../src/node/meta-port.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import { declareQ } from './helpers.js';

describe('the embedded MetaPort (src/node/meta-port.ts)', () => {
  test('implements the frontend MetaPort over the machine', async () => {
    const { port } = createLocalMeta(DEFAULT_CONFIG, () => Uint8Array.of(1, 2, 3, 4));
    const guest = port.authenticate('guest', 'guest');
    assert.ok(guest);
    assert.equal(guest.loopbackOnly, true);
    assert.equal(port.authenticate('guest', 'wrong'), undefined);
    port.openVhost(guest, '/');
    assert.throws(() => port.openVhost(guest, 'nope'), { replyCode: 530, replyText: 'NOT_ALLOWED - vhost nope not found' });
    port.checkAccess(guest, '/', 'configure', 'queue', 'q');
    await port.declareExchange({ vhost: '/', name: 'x', type: 'topic', passive: false, durable: true, autoDelete: false, internal: false, arguments: {} });
    const { queue, created } = await port.declareQueue({ vhost: '/', name: '', nameSuffix: 'fixed', passive: false, durable: false, exclusive: true, autoDelete: true, arguments: {}, connectionId: 'c1' });
    assert.equal(queue.name, 'amq.gen-fixed');
    assert.equal(created, true);
    assert.equal(queue.exclusiveOwner, 'c1');
    await port.bindQueue('/', queue.name, 'x', 'a.*', {}, 'c1');
    await assert.rejects(port.bindQueue('/', queue.name, 'x', 'b.*', {}, 'c2'), { replyCode: 405 });
    const out: string[] = [];
    port.route('/', 'x', 'a.b', undefined, out);
    assert.deepEqual(out, ['amq.gen-fixed']);
    assert.throws(() => port.useQueue('/', queue.name, 'c2'), { replyCode: 405 });
    assert.deepEqual(port.exclusiveQueues('c1').map((q) => q.name), ['amq.gen-fixed']);
    await port.unbindQueue('/', queue.name, 'x', 'a.*', {}, 'c1');
    out.length = 0;
    port.route('/', 'x', 'a.b', undefined, out);
    assert.deepEqual(out, []);
    await port.deleteQueue('/', queue.name);
    assert.throws(() => port.useQueue('/', queue.name, 'c1'), { replyCode: 404 });
    await port.deleteExchange('/', 'x', false);
  });
});

describe('determinism', () => {
  const commands: MetaCommand[] = [
    { type: 'vhost.add', name: '/v' },
    { type: 'exchange.declare', vhost: '/v', name: 'x', exchangeType: 'fanout', passive: false, durable: true, autoDelete: true, internal: false, arguments: {} },
    { type: 'queue.declare', vhost: '/v', name: '', nameSuffix: 's1', passive: false, durable: false, exclusive: true, autoDelete: false, arguments: {}, connection: 'c1' },
    { type: 'binding.add', vhost: '/v', source: 'x', destinationKind: 'queue', destination: 'amq.gen-s1', routingKey: '', arguments: {} },
    { type: 'queue.declare', vhost: '/v', name: 'bad', passive: false, durable: false, exclusive: false, autoDelete: false, arguments: { 'x-max-priority': 999 }, connection: 'c1' },
    { type: 'connection.closed', connection: 'c1' },
  ];

  function replay(): { state: string; results: string[] } {
    const m = new MetaMachine();
    const results = commands.map((c) => {
      try {
        return JSON.stringify(m.apply(structuredClone(c)));
      } catch (e) {
        return `error: ${(e as Error).message}`;
      }
    });
    const state = JSON.stringify([m.listVhosts(), m.listExchanges(), m.listQueues(), m.listBindings(), m.listUsers(), m.listPermissions()]);
    return { state, results };
  }

  test('the same commands give the same results and state', () => {
    const a = replay();
    const b = replay();
    assert.deepEqual(a, b);
    assert.match(a.results[4]!, /^error: PRECONDITION_FAILED - invalid arg 'x-max-priority'/);
    // connection.closed removed the exclusive queue, whose binding removal auto-deleted 'x'.
    assert.equal(a.results[5], JSON.stringify({ deletedQueues: [{ vhost: '/v', name: 'amq.gen-s1', durable: false, autoDelete: false, exclusiveOwner: 'c1', arguments: {} }], deletedExchanges: [{ vhost: '/v', name: 'x' }] }));
  });

  test('a failing command changes nothing', () => {
    const m = new MetaMachine();
    declareQ(m, 'q', { arguments: { 'x-message-ttl': 5 } });
    const before = JSON.stringify([m.listExchanges(), m.listQueues(), m.listBindings()]);
    assert.throws(() => declareQ(m, 'q', { arguments: { 'x-message-ttl': 6 } }));
    assert.throws(() => m.apply({ type: 'binding.add', vhost: '/', source: 'amq.headers', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: { 'x-match': 1 } }));
    assert.throws(() => m.apply({ type: 'exchange.declare', vhost: '/', name: 'y', exchangeType: 'nope', passive: false, durable: false, autoDelete: false, internal: false, arguments: {} }));
    assert.equal(JSON.stringify([m.listExchanges(), m.listQueues(), m.listBindings()]), before);
  });
});

describe('snapshot', () => {
  test('restore rebuilds an identical, working machine', () => {
    const m = new MetaMachine();
    for (const c of [
      { type: 'vhost.add', name: '/v' },
      { type: 'exchange.declare', vhost: '/v', name: 'x', exchangeType: 'topic', passive: false, durable: true, autoDelete: true, internal: false, arguments: { 'alternate-exchange': 'ae' } },
      { type: 'exchange.declare', vhost: '/v', name: 'ae', exchangeType: 'fanout', passive: false, durable: true, autoDelete: false, internal: false, arguments: {} },
      { type: 'queue.declare', vhost: '/v', name: 'q', passive: false, durable: true, exclusive: false, autoDelete: false, arguments: { 'x-max-length': 3 }, connection: 'c1' },
      { type: 'queue.declare', vhost: '/v', name: 'dead', passive: false, durable: true, exclusive: false, autoDelete: false, arguments: {}, connection: 'c1' },
      { type: 'binding.add', vhost: '/v', source: 'x', destinationKind: 'queue', destination: 'q', routingKey: 'a.#', arguments: {} },
      { type: 'binding.add', vhost: '/v', source: 'ae', destinationKind: 'queue', destination: 'dead', routingKey: '', arguments: {} },
      { type: 'permissions.set', user: 'guest', vhost: '/v', configure: '', write: 'x', read: '.*' },
    ] as MetaCommand[]) m.apply(c);
    const r = MetaMachine.restore(structuredClone(m.snapshot()));
    assert.deepEqual(r.snapshot(), m.snapshot());
    const out: string[] = [];
    r.route('/v', 'x', 'a.b', undefined, out);
    r.route('/v', 'x', 'b', undefined, out);
    assert.deepEqual(out, ['q', 'dead']);
    assert.ok(r.authenticate('guest', 'guest'));
    assert.throws(() => r.checkPermission('guest', '/v', 'configure', 'queue', 'q'), { replyCode: 403 });
    r.apply({ type: 'binding.remove', vhost: '/v', source: 'x', destinationKind: 'queue', destination: 'q', routingKey: 'a.#', arguments: {} });
    assert.equal(r.getExchange('/v', 'x'), undefined, 'auto-delete still works after restore');
  });
});
