// The metadata group's records: wire types survive the codec, and a replica recovered from the
// keys has exactly the durable part of the state (src/node/meta-group.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTable, wireTag, type FieldTable } from '../../../src/amqp/table.js';
import { decodeMeta, encodeMeta } from '../../../src/meta/codec.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import { MetaGroupApp } from '../../../src/node/meta-group.js';
import { EntryType, type Entry } from '../../../src/raft/core/types.js';
import type { ApplyBatch, AppKeyRange, AppReader } from '../../../src/raft/node/app.js';

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

class MemoryKeys implements ApplyBatch {
  readonly map = new Map<string, Uint8Array>();
  put(key: Uint8Array, value: Uint8Array): void { this.map.set(Buffer.from(key).toString('latin1'), value); }
  del(key: Uint8Array): void { this.map.delete(Buffer.from(key).toString('latin1')); }
  async get(key: Uint8Array): Promise<Uint8Array | undefined> { return this.map.get(Buffer.from(key).toString('latin1')); }
  async *iterate(_range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    for (const k of [...this.map.keys()].sort()) yield [Buffer.from(k, 'latin1'), this.map.get(k) as Uint8Array];
  }
}

let index = 0;
const entry = (cmd: MetaCommand): Entry => ({ term: 1, index: ++index, type: EntryType.Normal, data: encodeMeta(cmd) });

test('a replica recovered from the keys has the durable records and none of the transient ones', async () => {
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

  const replica = new MetaGroupApp(() => new MetaMachine());
  await replica.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  const m = replica.machine;
  assert.ok(m.getExchange('/', 'dx'));
  assert.equal(m.getExchange('/', 'tx'), undefined);
  assert.ok(m.getQueue('/', 'dq'));
  assert.equal(m.getQueue('/', 'tq'), undefined);
  assert.equal(wireTag(m.getQueue('/', 'dq')!.arguments, 'x-max-length'), 's');
  const out: string[] = [];
  m.route('/', 'dx', 'a.b', undefined, out);
  assert.deepEqual(out, ['dq']);
  assert.ok(m.getUser('guest'), 'the default user is a record like any other');

  // Deleting writes deletions: a third replica no longer has the queue or its binding.
  app.apply([entry({ type: 'queue.delete', vhost: '/', name: 'dq' })], keys);
  const third = new MetaGroupApp(() => new MetaMachine());
  await third.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  assert.equal(third.machine.getQueue('/', 'dq'), undefined);
  assert.deepEqual(third.machine.listBindings('/').filter((b) => b.destination === 'dq'), []);
});
