// The metadata group's records: wire types survive the codec, and a replica recovered from the
// keys has the state it was written from (src/node/meta-group.ts, src/node/meta-records.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AmqpError } from '../../../src/amqp/errors.js';
import { decodeTable, wireTag, type FieldTable } from '../../../src/amqp/table.js';
import { decodeMeta, encodeMeta } from '../../../src/meta/codec.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import { MetaGroupApp } from '../../../src/node/meta-group.js';
import { recordsOf } from '../../../src/node/meta-records.js';
import { EntryType, type Entry } from '../../../src/raft/core/types.js';
import type { AppReader } from '../../../src/raft/node/app.js';
import { MemoryKeys } from './helpers.js';

/** x-max-length as a 'short' (s), as a client may send it. */
function shortArgs(): FieldTable {
  const body = Buffer.concat([Buffer.from([12]), Buffer.from('x-max-length'), Buffer.from('s'), Buffer.from([0x03, 0xe8])]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return decodeTable(Buffer.concat([len, body]), 0).table;
}

test('field tables keep their wire types through the metadata codec', () => {
  const args = shortArgs();
  assert.equal(wireTag(args, 'x-max-length'), 's');
  const back = decodeMeta<{ arguments: FieldTable }>(encodeMeta({ type: 'queue.declare', arguments: args }));
  assert.equal(back.arguments['x-max-length'], 1000);
  assert.equal(wireTag(back.arguments, 'x-max-length'), 's');
});

let index = 0;
const entry = (cmd: MetaCommand): Entry => ({ term: 1, index: ++index, type: EntryType.Normal, data: encodeMeta(cmd) });

test('a replica recovered from the keys has every record, transient ones included, until they are purged', async () => {
  const keys = new MemoryKeys();
  const app = new MetaGroupApp(() => new MetaMachine());
  await app.recover({ appliedIndex: 0, store: keys as AppReader, reason: 'start' });
  const cmds: MetaCommand[] = [
    { type: 'exchange.declare', vhost: '/', name: 'dx', exchangeType: 'topic', passive: false, durable: true, autoDelete: false, internal: false, arguments: {} },
    { type: 'exchange.declare', vhost: '/', name: 'tx', exchangeType: 'fanout', passive: false, durable: false, autoDelete: false, internal: false, arguments: {} },
    { type: 'queue.declare', vhost: '/', name: 'dq', passive: false, durable: true, exclusive: false, autoDelete: false, arguments: shortArgs(), connection: 'c1' },
    { type: 'queue.declare', vhost: '/', name: 'tq', passive: false, durable: false, exclusive: false, autoDelete: false, arguments: {}, connection: 'c1' },
    { type: 'binding.add', vhost: '/', source: 'dx', destinationKind: 'queue', destination: 'dq', routingKey: 'a.#', arguments: {} },
    { type: 'binding.add', vhost: '/', source: 'dx', destinationKind: 'queue', destination: 'tq', routingKey: 'a.#', arguments: {} },
    { type: 'queue.declare', vhost: '/', name: 'dq', passive: false, durable: false, exclusive: false, autoDelete: false, arguments: {}, connection: 'c1' },
  ];
  const results = app.apply(cmds.map(entry), keys);
  assert.equal(results.length, cmds.length);
  assert.ok(results[6] instanceof Error, 'an inequivalent redeclare is refused and changes nothing');

  // A replica restarted from the keys answers exactly as the one that wrote them.
  const replica = new MetaGroupApp(() => new MetaMachine());
  await replica.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  const m = replica.machine;
  assert.deepEqual(recordsOf(m.snapshot()), recordsOf(app.machine.snapshot()));
  assert.ok(m.getExchange('/', 'tx'));
  assert.ok(m.getQueue('/', 'tq'));
  assert.equal(wireTag(m.getQueue('/', 'dq')!.arguments, 'x-max-length'), 's');
  const out: string[] = [];
  m.route('/', 'dx', 'a.b', undefined, out);
  assert.deepEqual(out.sort(), ['dq', 'tq']);
  assert.ok(m.getUser('guest'), 'the default user is a record like any other');

  // transient.purge (the embedded broker's start) leaves the durable part, and writes that.
  app.apply([entry({ type: 'transient.purge' })], keys);
  const purged = new MetaGroupApp(() => new MetaMachine());
  await purged.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  assert.ok(purged.machine.getExchange('/', 'dx'));
  assert.equal(purged.machine.getExchange('/', 'tx'), undefined);
  assert.equal(purged.machine.getQueue('/', 'tq'), undefined);
  const routed: string[] = [];
  purged.machine.route('/', 'dx', 'a.b', undefined, routed);
  assert.deepEqual(routed, ['dq']);

  // Deleting writes deletions: a third replica no longer has the queue or its binding.
  app.apply([entry({ type: 'queue.delete', vhost: '/', name: 'dq' })], keys);
  const third = new MetaGroupApp(() => new MetaMachine());
  await third.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  assert.equal(third.machine.getQueue('/', 'dq'), undefined);
  assert.deepEqual(third.machine.listBindings('/').filter((b) => b.destination === 'dq'), []);
});

/** What the keys hold, as strings. */
function stored(keys: MemoryKeys): Map<string, string> {
  return new Map([...keys.map].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]));
}

test('the keys written command by command are the records of the whole state (incremental writes = full diff)', async () => {
  const names = ['a', 'b', 'c'];
  const vhosts = ['/', 'v2'];
  const arb = fc.oneof(
    fc.record({ type: fc.constant('vhost.add'), name: fc.constantFrom('v2', 'v3') }),
    fc.record({ type: fc.constant('vhost.delete'), name: fc.constantFrom('v2', 'v3') }),
    fc.record({ type: fc.constant('user.put'), name: fc.constantFrom('u1', 'u2'), passwordHash: fc.constantFrom('h1', 'h2'), tags: fc.constant([]) }),
    fc.record({ type: fc.constant('user.delete'), name: fc.constantFrom('u1', 'u2') }),
    fc.record({ type: fc.constant('permissions.set'), user: fc.constantFrom('u1', 'guest'), vhost: fc.constantFrom(...vhosts), configure: fc.constant('.*'), write: fc.constantFrom('.*', ''), read: fc.constant('.*') }),
    fc.record({ type: fc.constant('permissions.clear'), user: fc.constantFrom('u1', 'guest'), vhost: fc.constantFrom(...vhosts) }),
    fc.record({
      type: fc.constant('exchange.declare'), vhost: fc.constantFrom(...vhosts), name: fc.constantFrom(...names), exchangeType: fc.constantFrom('topic', 'fanout'),
      passive: fc.constant(false), durable: fc.boolean(), autoDelete: fc.boolean(), internal: fc.constant(false), arguments: fc.constant({}),
    }),
    fc.record({ type: fc.constant('exchange.delete'), vhost: fc.constantFrom(...vhosts), name: fc.constantFrom(...names), ifUnused: fc.boolean() }),
    fc.record({
      type: fc.constant('queue.declare'), vhost: fc.constantFrom(...vhosts), name: fc.constantFrom(...names, ''), passive: fc.constant(false), durable: fc.boolean(),
      exclusive: fc.boolean(), autoDelete: fc.boolean(), arguments: fc.constant({}), connection: fc.constantFrom('c1', 'c2'), nameSuffix: fc.constantFrom('x1', 'x2'),
    }),
    fc.record({ type: fc.constant('connection.closed'), connection: fc.constantFrom('c1', 'c2') }),
    fc.record({ type: fc.constant('queue.delete'), vhost: fc.constantFrom(...vhosts), name: fc.constantFrom(...names), ifUnused: fc.constant(false), ifEmpty: fc.constant(false) }),
    fc.record({
      type: fc.constant('binding.add'), vhost: fc.constantFrom(...vhosts), source: fc.constantFrom(...names, 'amq.topic'), destinationKind: fc.constantFrom('queue', 'exchange'),
      destination: fc.constantFrom(...names), routingKey: fc.constantFrom('k', 'a.#'), arguments: fc.constant({}),
    }),
    fc.record({
      type: fc.constant('binding.remove'), vhost: fc.constantFrom(...vhosts), source: fc.constantFrom(...names, 'amq.topic'), destinationKind: fc.constantFrom('queue', 'exchange'),
      destination: fc.constantFrom(...names), routingKey: fc.constantFrom('k', 'a.#'), arguments: fc.constant({}),
    }),
    fc.record({ type: fc.constant('session.open'), frontend: fc.constantFrom('1', '2'), ttlMs: fc.constant(10_000) }),
    fc.record({ type: fc.constant('session.end'), lease: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ type: fc.constant('transient.purge') }),
    // Epochs 1..3 in any order: most are refused (not exactly current + 1), and change nothing.
    fc.record({
      type: fc.constant('placement.set'),
      placement: fc.record({
        epoch: fc.integer({ min: 1, max: 3 }), owners: fc.constant([{ id: 1, address: 'h1:1' }, { id: 2, address: 'h2:1' }]),
        partitions: fc.constant(2), replicationFactor: fc.constant(2), vnodes: fc.constant(64),
        replicas: fc.constantFrom([[1, 2], [2, 1]], [[2, 1], [1, 2]]),
      }),
    }),
  ) as fc.Arbitrary<MetaCommand>;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(arb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }), async (batches) => {
      const keys = new MemoryKeys();
      const app = new MetaGroupApp(() => new MetaMachine());
      await app.recover({ appliedIndex: 0, store: keys as AppReader, reason: 'start' });
      for (const batch of batches) {
        app.apply(batch.map(entry), keys);
        assert.deepEqual(stored(keys), recordsOf(app.machine.snapshot()));
      }
      const replica = new MetaGroupApp(() => new MetaMachine());
      await replica.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
      assert.deepEqual(recordsOf(replica.machine.snapshot()), recordsOf(app.machine.snapshot()));
    }),
    { numRuns: 200 },
  );
});

test('a command that meets a defect is answered 541 on every replica and the group goes on, its keys still the state', async () => {
  const keys = new MemoryKeys();
  const defects: number[] = [];
  const app = new MetaGroupApp(() => new MetaMachine(), undefined, (_err, at) => defects.push(at));
  await app.recover({ appliedIndex: 0, store: keys as AppReader, reason: 'start' });
  const broken = { type: 'batch' } as unknown as MetaCommand; // no commands: the machine meets a TypeError
  const undecodable: Entry = { term: 1, index: ++index, type: EntryType.Normal, data: Buffer.from('not json at all') };
  const results = app.apply([
    entry(broken),
    undecodable,
    entry({ type: 'vhost.add', name: 'after' }),
  ], keys);
  assert.ok(results[0] instanceof AmqpError && results[0].replyCode === 541, String(results[0]));
  assert.ok(results[1] instanceof AmqpError && results[1].replyCode === 541, String(results[1]));
  assert.ok(!(results[2] instanceof Error), 'commands after it still apply');
  assert.equal(defects.length, 2);
  assert.ok(app.machine.hasVhost('after'));
  assert.deepEqual(stored(keys), recordsOf(app.machine.snapshot()));
});
