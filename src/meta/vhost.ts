// One vhost's exchanges, queues and bindings, with the primitive mutations every command is built
// from. Invariants:
//   - every binding is in exactly two indexes: its source exchange's `bindings` (and matcher) and
//     `byDestination` under its destination;
//   - a binding's source and destination exist (deleting either removes the binding);
//   - an auto-delete exchange is removed when a removal leaves it with no bindings as source.
// Callers validate before mutating: these primitives do not throw on user input.

import type { FieldTable } from '../amqp/table.js';
import { newMatcher } from '../routing/index.js';
import { exchangeDest, queueDest, type Destination, type ExchangeType, type Matcher } from '../routing/types.js';
import { canonicalTable } from '../routing/values.js';
import type { BindingRecord, ExchangeRecord, QueueRecord } from './types.js';

export interface ExchangeState {
  readonly record: ExchangeRecord;
  /** undefined for the default exchange, which routes by queue name and takes no bindings. */
  readonly matcher: Matcher | undefined;
  /** Bindings with this exchange as source, by binding id. */
  readonly bindings: Map<string, BindingRecord>;
  /** The alternate-exchange argument, if a string. */
  readonly alternate: string | undefined;
}

/** Collects what a cascade removed, for the command result. */
export interface Removed {
  readonly queues: QueueRecord[];
  readonly exchanges: { vhost: string; name: string }[];
}

export const DEFAULT_EXCHANGES: ReadonlyArray<readonly [string, ExchangeType, boolean]> = [
  ['', 'direct', false],
  ['amq.direct', 'direct', false],
  ['amq.topic', 'topic', false],
  ['amq.match', 'headers', false],
  ['amq.headers', 'headers', false],
  ['amq.fanout', 'fanout', false],
  ['amq.rabbitmq.trace', 'topic', true],
];

export function bindingDest(b: BindingRecord): Destination {
  return b.destinationKind === 'queue' ? queueDest(b.destination) : exchangeDest(b.destination);
}

/** Identity of a binding within its source: destination, key and (order-insensitive) arguments. */
export function bindingId(dest: Destination, routingKey: string, args: FieldTable): string {
  return `${dest}\u0000${routingKey}\u0000${canonicalTable(args)}`;
}

export class VhostState {
  readonly exchanges = new Map<string, ExchangeState>();
  readonly queues = new Map<string, QueueRecord>();
  /** Bindings by destination; inner key is source + '\u0000' + binding id. */
  readonly byDestination = new Map<Destination, Map<string, BindingRecord>>();

  constructor(readonly name: string) {
    for (const [x, type, internal] of DEFAULT_EXCHANGES) {
      this.putExchange({ vhost: name, name: x, type, durable: true, autoDelete: false, internal, arguments: {} });
    }
  }

  putExchange(record: ExchangeRecord): void {
    const ae = record.arguments['alternate-exchange'];
    this.exchanges.set(record.name, {
      record,
      matcher: record.name === '' ? undefined : newMatcher(record.type),
      bindings: new Map(),
      alternate: typeof ae === 'string' ? ae : undefined,
    });
  }

  findBinding(b: BindingRecord): BindingRecord | undefined {
    return this.exchanges.get(b.source)?.bindings.get(bindingId(bindingDest(b), b.routingKey, b.arguments));
  }

  /** Adds a binding whose source and destination exist; false if it already existed (idempotent). */
  addBinding(b: BindingRecord): boolean {
    const x = this.exchanges.get(b.source)!;
    const dest = bindingDest(b);
    const id = bindingId(dest, b.routingKey, b.arguments);
    if (x.bindings.has(id)) return false;
    x.bindings.set(id, b);
    x.matcher!.bind(dest, b.routingKey, b.arguments);
    let byDest = this.byDestination.get(dest);
    if (byDest === undefined) this.byDestination.set(dest, (byDest = new Map()));
    byDest.set(`${b.source}\u0000${id}`, b);
    return true;
  }

  /** Removes a binding if present, then auto-deletes its source if that left it unused. */
  removeBinding(b: BindingRecord, removed: Removed): boolean {
    const x = this.exchanges.get(b.source);
    if (x === undefined) return false;
    const dest = bindingDest(b);
    const id = bindingId(dest, b.routingKey, b.arguments);
    if (!x.bindings.delete(id)) return false;
    x.matcher!.unbind(dest, b.routingKey, b.arguments);
    const byDest = this.byDestination.get(dest);
    byDest?.delete(`${b.source}\u0000${id}`);
    if (byDest !== undefined && byDest.size === 0) this.byDestination.delete(dest);
    if (x.record.autoDelete && x.bindings.size === 0) this.deleteExchange(x.record.name, removed);
    return true;
  }

  /** Removes an exchange and every binding from or to it (cascading auto-deletes). */
  deleteExchange(name: string, removed: Removed): void {
    const x = this.exchanges.get(name);
    if (x === undefined) return;
    this.exchanges.delete(name);
    removed.exchanges.push({ vhost: this.name, name });
    for (const b of [...x.bindings.values()]) {
      const dest = bindingDest(b);
      const byDest = this.byDestination.get(dest);
      byDest?.delete(`${name}\u0000${bindingId(dest, b.routingKey, b.arguments)}`);
      if (byDest !== undefined && byDest.size === 0) this.byDestination.delete(dest);
    }
    this.removeBindingsTo(exchangeDest(name), removed);
  }

  /** Removes a queue record and its bindings (cascading auto-deletes of their sources). */
  deleteQueue(name: string, removed: Removed): QueueRecord | undefined {
    const q = this.queues.get(name);
    if (q === undefined) return undefined;
    this.queues.delete(name);
    removed.queues.push(q);
    this.removeBindingsTo(queueDest(name), removed);
    return q;
  }

  /** After a restart: every non-durable or exclusive queue and every non-durable exchange goes (predeclared ones stay). */
  purgeTransient(removed: Removed): void {
    for (const q of [...this.queues.values()]) {
      if (!q.durable || q.exclusiveOwner !== undefined) this.deleteQueue(q.name, removed);
    }
    const predeclared = new Set(DEFAULT_EXCHANGES.map(([name]) => name));
    for (const x of [...this.exchanges.values()]) {
      if (!x.record.durable && !predeclared.has(x.record.name) && this.exchanges.has(x.record.name)) {
        this.deleteExchange(x.record.name, removed);
      }
    }
  }

  private removeBindingsTo(dest: Destination, removed: Removed): void {
    const byDest = this.byDestination.get(dest);
    if (byDest === undefined) return;
    for (const b of [...byDest.values()]) this.removeBinding(b, removed);
    this.byDestination.delete(dest);
  }

  bindingsFrom(source: string): BindingRecord[] {
    return [...(this.exchanges.get(source)?.bindings.values() ?? [])];
  }

  allBindings(): BindingRecord[] {
    const out: BindingRecord[] = [];
    for (const x of this.exchanges.values()) for (const b of x.bindings.values()) out.push(b);
    return out;
  }
}
