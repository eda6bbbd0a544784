import assert from 'node:assert/strict';
import { AmqpError } from '../../../src/amqp/errors.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { FieldTable } from '../../../src/amqp/table.js';
import type { MetaResult } from '../../../src/meta/types.js';
import type { ApplyBatch, AppKeyRange } from '../../../src/raft/node/app.js';

/** Asserts fn throws an AmqpError with this reply code and full reply text ("NAME - detail"). */
export function throwsAmqp(fn: () => unknown, code: number, replyText: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AmqpError, `expected AmqpError, got ${String(e)}`);
    assert.equal(e.replyText, replyText);
    assert.equal(e.replyCode, code);
    return true;
  });
}

export function declareX(m: MetaMachine, name: string, type = 'direct', opts: Partial<{
  passive: boolean; durable: boolean; autoDelete: boolean; internal: boolean; arguments: FieldTable; vhost: string;
}> = {}): MetaResult {
  return m.apply({
    type: 'exchange.declare', vhost: opts.vhost ?? '/', name, exchangeType: type, passive: opts.passive ?? false,
    durable: opts.durable ?? false, autoDelete: opts.autoDelete ?? false, internal: opts.internal ?? false,
    arguments: opts.arguments ?? {},
  });
}

export function declareQ(m: MetaMachine, name: string, opts: Partial<{
  passive: boolean; durable: boolean; exclusive: boolean; autoDelete: boolean; arguments: FieldTable;
  connection: string; nameSuffix: string; vhost: string;
}> = {}): MetaResult {
  return m.apply({
    type: 'queue.declare', vhost: opts.vhost ?? '/', name, passive: opts.passive ?? false, durable: opts.durable ?? false,
    exclusive: opts.exclusive ?? false, autoDelete: opts.autoDelete ?? false, arguments: opts.arguments ?? {},
    connection: opts.connection ?? 'c1', ...(opts.nameSuffix !== undefined ? { nameSuffix: opts.nameSuffix } : {}),
  });
}

export function bindQ(m: MetaMachine, queue: string, exchange: string, key = '', args: FieldTable = {}, connection?: string): MetaResult {
  return m.apply({
    type: 'binding.add', vhost: '/', source: exchange, destinationKind: 'queue', destination: queue, routingKey: key,
    arguments: args, ...(connection !== undefined ? { connection } : {}),
  });
}

export function unbindQ(m: MetaMachine, queue: string, exchange: string, key = '', args: FieldTable = {}): MetaResult {
  return m.apply({ type: 'binding.remove', vhost: '/', source: exchange, destinationKind: 'queue', destination: queue, routingKey: key, arguments: args });
}

export function bindX(m: MetaMachine, destination: string, source: string, key = '', args: FieldTable = {}): MetaResult {
  return m.apply({ type: 'binding.add', vhost: '/', source, destinationKind: 'exchange', destination, routingKey: key, arguments: args });
}

export function route(m: MetaMachine, exchange: string, key = '', headers?: FieldTable, vhost = '/'): string[] {
  const out: string[] = [];
  m.route(vhost, exchange, key, headers, out);
  return out.sort();
}

/** A metadata group's keys in memory: the apply batch and the reader a replica recovers from. */
export class MemoryKeys implements ApplyBatch {
  readonly map = new Map<string, Uint8Array>();
  put(key: Uint8Array, value: Uint8Array): void { this.map.set(Buffer.from(key).toString('latin1'), value); }
  del(key: Uint8Array): void { this.map.delete(Buffer.from(key).toString('latin1')); }
  putLatin1(key: string, value: Uint8Array): void { this.map.set(key, value); }
  delLatin1(key: string): void { this.map.delete(key); }
  async get(key: Uint8Array): Promise<Uint8Array | undefined> { return this.map.get(Buffer.from(key).toString('latin1')); }
  async *iterate(_range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    for (const k of [...this.map.keys()].sort()) yield [Buffer.from(k, 'latin1'), this.map.get(k) as Uint8Array];
  }
}
